"""The library's recorders, extended with a hash chain and durable SQLite settings.

Every stored event gets, in the same transaction, a dense sequence number and
  event_hash = SHA-256(domain tag, deal id, version, topic, state as stored)
  chain_hash = SHA-256(domain tag, previous chain_hash, seq, event_hash)
so that any later change to what was recorded shows up in `ledger verify`.
What is hashed is the stored bytes, so an encrypted ledger verifies without
its key. The chain does not use notification ids: PostgreSQL leaves gaps and
SQLite can reuse them.

SQLite runs in WAL mode (the library's default) with `synchronous=FULL`: in
WAL mode NORMAL may lose the last transactions on power loss, and an audit
ledger must not lose an acknowledged report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
)

EVENT_TAG = b"deal-ledger/event/v1"
CHAIN_TAG = b"deal-ledger/chain/v1"
GENESIS = bytes(32)


def event_hash(originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    """The hash of one stored event, over its bytes as stored.

    Fields are length-prefixed (8 bytes, big-endian), so no two events hash alike.
    """
    stream, kind = str(originator_id).encode(), topic.encode()
    digest = hashlib.sha256(EVENT_TAG)
    digest.update(len(stream).to_bytes(8, "big") + stream + version.to_bytes(8, "big"))
    digest.update(len(kind).to_bytes(8, "big") + kind + len(state).to_bytes(8, "big"))
    digest.update(state)
    return digest.digest()


def chain_hash(previous: bytes, seq: int, event: bytes) -> bytes:
    """The link of entry `seq`: commits to everything recorded before it."""
    return hashlib.sha256(CHAIN_TAG + previous + seq.to_bytes(8, "big") + event).digest()


class ChainEntry(NamedTuple):
    """One link of the chain, with the stored event it covers (None when that row is gone)."""

    seq: int
    originator_id: str  # the canonical uuid text, as hashed
    originator_version: int
    event_hash: bytes
    chain_hash: bytes
    topic: str | None
    state: bytes | None


def chain_rows(
    head: tuple[int, bytes], stored_events: Sequence[Any], id_form: Any = str
) -> Iterator[tuple[Any, ...]]:
    """The chain entries that follow `head` (seq, chain hash) for newly stored events.

    Hashes always use the canonical uuid text; `id_form` is how the events
    table stores the id (SQLite: 32 hex digits), so the two join on an index.
    """
    seq, previous = head
    for stored in stored_events:
        seq += 1
        uuid = UUID(str(stored.originator_id))
        digest = event_hash(uuid, stored.originator_version, stored.topic, stored.state)
        previous = chain_hash(previous, seq, digest)
        yield seq, id_form(uuid), stored.originator_version, digest, previous


def _as_bytes(value: Any) -> bytes:
    """Stored state as bytes, even if someone wrote it back as text."""
    return value.encode() if isinstance(value, str) else bytes(value)


class ChainReader:
    """Reading the chain back, the same way on both backends (see the SQL of each)."""

    placeholder = "?"
    sql_chain: str
    sql_unchained: str
    sql_head: str
    sql_meta: str
    sql_all_events: str

    id_form: Any = str

    def _rows(self, statement: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            raw = getattr(c, "sqlite_cursor", None)
            if raw is not None:
                raw.row_factory = None  # plain tuples: much cheaper than sqlite3.Row on long scans
            c.execute(statement, tuple(params))
            return [tuple(r.values()) if isinstance(r, dict) else r for r in c.fetchall()]

    def chain(self, after: int = 0, limit: int = 10_000) -> list[ChainEntry]:
        """Chain entries with seq > `after`, joined to the events they cover."""
        canonical = self.canonical_id
        return [
            ChainEntry(
                row[0], canonical(row[1]), row[2], bytes(row[3]), bytes(row[4]), row[5],
                None if row[6] is None else _as_bytes(row[6]),
            )  # fmt: skip
            for row in self._rows(self.sql_chain, (after, limit))
        ]

    @staticmethod
    def canonical_id(stored: Any) -> str:
        """A stored originator id as the uuid text that is hashed."""
        return str(stored)

    def unchained(self, limit: int = 100) -> list[tuple[UUID, int]]:
        """Stored events that no chain entry covers (forged, or recorded before the chain)."""
        return [(UUID(str(r[0])), r[1]) for r in self._rows(self.sql_unchained, (limit,))]

    def head(self, size: int | None = None) -> tuple[int, bytes]:
        """(seq, chain hash) of the last entry, or of entry `size`; (0, zeros) when empty."""
        rows = self._rows(self.sql_head, (size if size is not None else 2**62,))
        return (rows[0][0], bytes(rows[0][1])) if rows else (0, GENESIS)

    def ledger_id(self) -> str:
        rows = self._rows(self.sql_meta)
        return rows[0][0] if rows else ""

    def build_chain(self) -> int:
        """Chains every stored event once, in record order, for a ledger that has no chain."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            c.execute(self.sql_all_events)
            rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in c.fetchall()]
            events = [StoredEvent(UUID(str(r[0])), r[1], r[2], bytes(r[3])) for r in rows]
            c.executemany(self.sql_insert_chain, list(chain_rows((0, GENESIS), events, self.id_form)))  # type: ignore[attr-defined]
        return len(events)


class DurableSQLiteConnectionPool(SQLiteConnectionPool):
    """Connections with `synchronous=FULL`, so a committed report survives power loss."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return connection


class ChainedSQLiteApplicationRecorder(ChainReader, SQLiteApplicationRecorder):
    """The library's SQLite event store, plus the hash chain in the same transaction."""

    sql_chain = (
        "SELECT c.seq, c.originator_id, c.originator_version, c.event_hash, c.chain_hash, e.topic, e.state "
        "FROM event_chain c LEFT JOIN stored_events e ON e.originator_id = c.originator_id "
        "AND e.originator_version = c.originator_version WHERE c.seq > ? ORDER BY c.seq LIMIT ?"
    )
    sql_unchained = (
        "SELECT e.originator_id, e.originator_version FROM stored_events e "
        "WHERE NOT EXISTS (SELECT 1 FROM event_chain c WHERE c.originator_id = e.originator_id "
        "AND c.originator_version = e.originator_version) ORDER BY e.rowid LIMIT ?"
    )
    sql_head = "SELECT seq, chain_hash FROM event_chain WHERE seq <= ? ORDER BY seq DESC LIMIT 1"
    sql_meta = "SELECT value FROM ledger_meta WHERE key = 'ledger_id'"
    sql_all_events = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    sql_insert_chain = "INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)"
    id_form = staticmethod(lambda uuid: uuid.hex)

    def chain(self, after: int = 0, limit: int = 10_000) -> list[ChainEntry]:
        """Chain entries with seq > `after`, with the events they cover.

        Events are stored in chain order, so they are read as one range of
        rowids and matched by (stream, version); an event not in that range
        (deleted, or moved by tampering) is looked up on its own. Much faster
        than a join on a large ledger.
        """
        links = self._rows(
            "SELECT seq, originator_id, originator_version, event_hash, chain_hash FROM event_chain "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )
        if not links:
            return []
        window: dict[tuple[str, int], tuple[str, bytes]] = {}
        for link in links[:5]:
            first = self._rows(
                "SELECT rowid FROM stored_events WHERE originator_id = ? AND originator_version = ?", link[1:3]
            )
            if first:
                rows = self._rows(
                    "SELECT originator_id, originator_version, topic, state FROM stored_events "
                    "WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                    (first[0][0], len(links) + 100),
                )
                window = {(r[0], r[1]): (r[2], r[3]) for r in rows}
                break
        entries = []
        for seq, stored_id, version, digest, link_hash in links:
            found = window.get((stored_id, version))
            if found is None:
                rows = self._rows(
                    "SELECT topic, state FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                    (stored_id, version),
                )
                found = rows[0] if rows else (None, None)
            topic, state = found
            entries.append(
                ChainEntry(
                    seq, self.canonical_id(stored_id), version, bytes(digest), bytes(link_hash), topic,
                    None if state is None else _as_bytes(state),
                )  # fmt: skip
            )
        return entries

    @staticmethod
    def canonical_id(stored: Any) -> str:
        h = stored  # 32 hex digits, as the library stores a UUID in SQLite
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" if len(h) == 32 else str(stored)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain ("
            "seq INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, event_hash BLOB NOT NULL, "
            "chain_hash BLOB NOT NULL, UNIQUE (originator_id, originator_version))",
            "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ]

    @contextmanager
    def bulk(self) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """One transaction for a large import: call the yielded function per batch.

        The write lock is taken first, so no other writer can change a deal
        between the import's decisions and its inserts; they wait for it.
        """
        with self.datastore.transaction(commit=True) as c:
            c.execute("UPDATE ledger_meta SET value = value WHERE key = 'ledger_id'")
            yield lambda stored_events: self._insert_events(c, stored_events) if stored_events else None

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM ledger_meta WHERE key = 'ledger_id'")
            if c.fetchone():
                return
        # A write as the first statement, so a concurrent first use waits instead of failing.
        with self.datastore.transaction(commit=True) as c:
            c.execute("INSERT OR IGNORE INTO ledger_meta VALUES ('ledger_id', lower(hex(randomblob(16))))")

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        # The inserts come first: once they hold the write lock, the head read is the latest.
        ids = super()._insert_events(c, stored_events, **kwargs)
        c.execute("SELECT seq, chain_hash FROM event_chain ORDER BY seq DESC LIMIT 1")
        row = c.fetchone()
        head = (row[0], bytes(row[1])) if row else (0, GENESIS)
        c.executemany(self.sql_insert_chain, list(chain_rows(head, stored_events, self.id_form)))
        return ids


class LedgerSQLiteFactory(SQLiteFactory):
    """SQLite with the hash chain and durable connections."""

    application_recorder_class = ChainedSQLiteApplicationRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = DurableSQLiteConnectionPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
