"""What a large import has recorded so far, kept in a scratch file instead of memory.

The rules need, per event, its id and kind (to skip a line already recorded,
to refuse an id used by another deal, to check a retraction's target), whether
it is retracted, and its content hash (to skip a report already recorded).
Held in dicts, that is ~0.4 KiB per event: an import of millions of reports
would grow without bound. An import keeps them in memory up to `IN_MEMORY`
events (~20 MiB), then in a throwaway SQLite file (deleted when the import
ends), written a batch at a time, so its memory stays flat however long the
file is; an import smaller than that never opens the file. A fixed bitmap of the content
hashes it has written (`Seen`) answers most "is this report new?" questions
without a query: a report already recorded is rare.

`ImportKeys.adopt(deal)` moves a deal's per-event state there and gives the
deal views (`Kinds`, `Retracted`, `Contents`) with the same few operations
the rules use on its dicts and sets. `flush()` ends a batch (and writes the keys, past `IN_MEMORY`).

The file (in a private temporary directory) names no deal and holds no
content hash as such: deals are numbers known only to the import's process,
content hashes are re-hashed with a key that dies with it. An encrypted
ledger's import leaves nothing readable behind even if the file is not
deleted (a crash, a kill -9).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger import domain

SCHEMA = (
    "CREATE TABLE ids (event_id BLOB PRIMARY KEY, deal INTEGER NOT NULL, kind TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE retracted (event_id BLOB PRIMARY KEY) WITHOUT ROWID",
    "CREATE TABLE contents (deal INTEGER NOT NULL, hash BLOB NOT NULL, event_id BLOB NOT NULL, "
    "PRIMARY KEY (deal, hash)) WITHOUT ROWID",
)
#: Events whose keys an import holds in memory before writing them to its scratch file: writing
#: and asking the file was a fifth of the importing process's work.
IN_MEMORY = 50_000
#: Events `note_recorded` takes before writing, when every batch's keys are written (`in_memory` 0).
NOTED_AT_A_TIME = 10_000


class ImportKeys:
    """The ids, kinds, retractions and content hashes an import has seen, in memory, then on disk.

    `in_memory`: events' keys held before they are written (default `IN_MEMORY`; 0 writes every batch's).
    """

    def __init__(self, in_memory: int | None = None) -> None:
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.db: sqlite3.Connection | None = None  # the scratch file, opened when first written
        # The keys not written yet: read first, written by `flush()`.
        self.ids: dict[UUID, tuple[str, str]] = {}
        self.retracted: set[UUID] = set()
        self.contents: dict[tuple[str, str], UUID] = {}
        # What the scratch file says of this batch's event ids, asked at once (`prefetch`).
        self.known: dict[UUID, tuple[str, str] | None] = {}
        self.numbers: dict[str, int] = {}  # deal slug -> its number in the file
        self.slugs: list[str] = []
        self.key = os.urandom(32)
        self.seen = Seen()

    def number(self, deal: str) -> int:
        """The deal's number in the file."""
        found = self.numbers.get(deal)
        if found is None:
            found = self.numbers[deal] = len(self.slugs)
            self.slugs.append(deal)
        return found

    def sealed(self, digest: str) -> bytes:
        """A content hash as the file keeps it."""
        return hashlib.blake2b(digest.encode(), key=self.key, digest_size=16).digest()

    def prefetch(self, event_ids: list[UUID]) -> None:
        """Reads what is known of a batch's event ids in a few queries instead of one per line."""
        self.known = dict.fromkeys(event_ids)
        if self.db is None:
            return
        for start in range(0, len(event_ids), 500):
            part = [event_id.bytes for event_id in event_ids[start : start + 500]]
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(f"SELECT event_id, deal, kind FROM ids WHERE event_id IN ({marks})", part)
            for raw, deal, kind in rows:
                self.known[UUID(bytes=raw)] = (self.slugs[deal], kind)

    def note_recorded(self, events: Iterable[tuple[UUID, str, str]]) -> None:
        """Takes (event id, deal, kind) of events already in the ledger, as `adopt` takes a deal's,
        writing them to the file as they pass `in_memory`: a long list keeps memory flat."""
        for event_id, deal, kind in events:
            self.ids[event_id] = (deal, kind)
            if len(self.ids) >= max(self.in_memory, NOTED_AT_A_TIME):
                self.flush()
        self.flush()

    def owner(self, event_id: UUID) -> tuple[str, str] | None:
        """(deal, kind) of an event the import knows of."""
        found = self.ids.get(event_id)
        if found is None:
            if event_id in self.known or self.db is None:
                return self.known.get(event_id)
            row = self.db.execute("SELECT deal, kind FROM ids WHERE event_id = ?", (event_id.bytes,)).fetchone()
            found = row and (self.slugs[row[0]], row[1])
        return found

    def is_retracted(self, event_id: UUID) -> bool:
        if event_id in self.retracted:
            return True
        if self.db is None:
            return False
        return self.db.execute("SELECT 1 FROM retracted WHERE event_id = ?", (event_id.bytes,)).fetchone() is not None

    def content(self, deal: str, digest: str) -> UUID | None:
        found = self.contents.get((deal, digest))
        if found is None and (deal, digest) in self.seen:  # only what was written is in `seen`
            row = self.db.execute(  # type: ignore[union-attr]
                "SELECT event_id FROM contents WHERE deal = ? AND hash = ?", (self.number(deal), self.sealed(digest))
            ).fetchone()
            found = row and UUID(bytes=row[0])
        return found

    def adopt(self, deal: domain.Deal) -> domain.Deal:
        """The deal with its per-event state moved here (a no-op for a deal already moved)."""
        if isinstance(deal.kinds, Kinds):
            return deal
        slug = deal.slug
        self.ids.update((event_id, (slug, kind)) for event_id, kind in deal.kinds.items())
        self.retracted.update(deal.retracted)
        self.contents.update(((slug, digest), event_id) for digest, event_id in deal.content.items())
        return replace(deal, kinds=Kinds(self, slug), retracted=Retracted(self), content=Contents(self, slug))

    def flush(self) -> None:
        """Ends a batch: past `in_memory` events' keys, writes those held and forgets them in memory."""
        self.known.clear()
        if len(self.ids) < self.in_memory:
            return
        if self.db is None:
            self.db = self._open()
        # One transaction: in autocommit each row would be its own (~10x slower).
        self.db.execute("BEGIN")
        with self.db:
            # In key order: each page of the file's b-trees is then written once per batch, not per row.
            self.db.executemany(
                "INSERT OR REPLACE INTO ids VALUES (?, ?, ?)",
                sorted((event_id.bytes, self.number(deal), kind) for event_id, (deal, kind) in self.ids.items()),
            )
            self.db.executemany("INSERT OR IGNORE INTO retracted VALUES (?)", [(i.bytes,) for i in self.retracted])
            contents = self.contents.items()
            self.db.executemany(
                "INSERT OR IGNORE INTO contents VALUES (?, ?, ?)",
                sorted((self.number(deal), self.sealed(digest), event_id.bytes) for (deal, digest), event_id in contents),
            )
        self.seen.update(self.contents)
        self.ids.clear()
        self.retracted.clear()
        self.contents.clear()

    def _open(self) -> sqlite3.Connection:
        self._dir = tempfile.TemporaryDirectory(prefix="ledger-import-")
        db = sqlite3.connect(Path(self._dir.name) / "keys.db", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-8192", "temp_store=FILE"):
            db.execute(f"PRAGMA {pragma}")
        for statement in SCHEMA:
            db.execute(statement)
        return db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        if self._dir is not None:
            self._dir.cleanup()


class Seen:
    """Which (deal, content hash) pairs may be in the file: a bitmap of fixed size (8 MiB), so
    "no" is certain and "maybe" is asked of the file (wrongly for ~1.5% of new reports after a
    million). Python's string hash is salted per process, like the file's key."""

    BITS = 1 << 26

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS // 8)

    def update(self, pairs: Any) -> None:
        bits, mask = self.bits, self.BITS - 1
        for pair in pairs:
            at = hash(pair) & mask
            bits[at >> 3] |= 1 << (at & 7)

    def __contains__(self, pair: object) -> bool:
        at = hash(pair) & (self.BITS - 1)
        return bool(self.bits[at >> 3] & (1 << (at & 7)))


class Kinds:
    """A deal's `kinds` (event id -> kind) as the rules use it, backed by `ImportKeys`."""

    __slots__ = ("keys", "deal")

    def __init__(self, keys: ImportKeys, deal: str):
        self.keys, self.deal = keys, deal

    def get(self, event_id: UUID | None, default: Any = None) -> Any:
        found = self.keys.owner(event_id) if event_id is not None else None
        return found[1] if found and found[0] == self.deal else default

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, UUID) and self.get(event_id) is not None

    def __setitem__(self, event_id: UUID, kind: str) -> None:
        self.keys.ids[event_id] = (self.deal, kind)


class Retracted:
    """The retracted event ids (unique across the ledger), backed by `ImportKeys`."""

    __slots__ = ("keys",)

    def __init__(self, keys: ImportKeys):
        self.keys = keys

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, UUID) and self.keys.is_retracted(event_id)

    def add(self, event_id: UUID) -> None:
        self.keys.retracted.add(event_id)


class Contents:
    """A deal's `content` (content hash -> event id), backed by `ImportKeys`."""

    __slots__ = ("keys", "deal")

    def __init__(self, keys: ImportKeys, deal: str):
        self.keys, self.deal = keys, deal

    def get(self, digest: str, default: Any = None) -> Any:
        return self.keys.content(self.deal, digest) or default

    def __setitem__(self, digest: str, event_id: UUID) -> None:
        self.keys.contents[(self.deal, digest)] = event_id
