"""Reaching past the application into a ledger's tables, as an attacker with database access would.

`Tables(backend)` reads and rewrites the events table and the hash chain
directly (sqlite3 or psycopg), by sequence number, on either backend:

- SQLite: `stored_events` and `event_chain`, both keyed by the deal id as 32
  hex digits; record order is the rowid.
- PostgreSQL: `"<schema>".dealledger_events` (uuid column, record order is
  `notification_id`) and `"<schema>".dealledger_events_chain` (uuid as text
  with dashes).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.stores import GENESIS, chain_hash, chain_rows, event_hash
from tests.conftest import PG_URL, Backend, fresh_postgres_schema


@dataclass(frozen=True)
class Link:
    """One row of the chain table."""

    seq: int
    originator_id: UUID
    version: int
    event_hash: bytes
    chain_hash: bytes


class Tables:
    """The events and chain tables of one ledger, read and written with plain SQL."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.postgres = backend.name == "postgres"
        if self.postgres:
            self.names = {
                "events": f'"{backend.schema}".dealledger_events',
                "chain": f'"{backend.schema}".dealledger_events_chain',
                "order": "notification_id",
            }
        else:
            self.names = {"events": "stored_events", "chain": "event_chain", "order": "rowid"}

    # Plain SQL, with `?` placeholders and {events}/{chain}/{order} names.

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        statement = statement.format(**self.names)
        if self.postgres:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as connection:
                cursor = connection.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
                return list(cursor.fetchall()) if cursor.description else []
        with closing(sqlite3.connect(self.backend.db)) as connection, connection:
            return connection.execute(statement, params).fetchall()

    def event_key(self, originator_id: UUID) -> Any:
        """The deal id as the events table stores it."""
        return originator_id if self.postgres else originator_id.hex

    def chain_key(self, originator_id: UUID) -> str:
        """The deal id as the chain table stores it."""
        return str(originator_id) if self.postgres else originator_id.hex

    # Reading

    def links(self) -> list[Link]:
        rows = self.sql("SELECT seq, originator_id, originator_version, event_hash, chain_hash FROM {chain} ORDER BY seq")
        return [Link(r[0], UUID(str(r[1])), r[2], bytes(r[3]), bytes(r[4])) for r in rows]

    def link(self, seq: int) -> Link:
        [link] = [link for link in self.links() if link.seq == seq]
        return link

    def stored(self, seq: int) -> StoredEvent:
        """The stored event that chain entry `seq` covers."""
        link = self.link(seq)
        [(topic, state)] = self.sql(
            "SELECT topic, state FROM {events} WHERE originator_id = ? AND originator_version = ?",
            (self.event_key(link.originator_id), link.version),
        )
        return StoredEvent(link.originator_id, link.version, topic, bytes(state))

    def events(self) -> list[StoredEvent]:
        """Every stored event, in record order."""
        rows = self.sql("SELECT originator_id, originator_version, topic, state FROM {events} ORDER BY {order}")
        return [StoredEvent(UUID(str(r[0])), r[1], r[2], bytes(r[3])) for r in rows]

    def size(self) -> int:
        return len(self.links())

    # Tampering

    def set_state(self, seq: int, state: bytes) -> None:
        """Overwrites the stored bytes of the event that entry `seq` covers."""
        link = self.link(seq)
        self.sql(
            "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self.event_key(link.originator_id), link.version),
        )

    def rehash(self, seq: int) -> None:
        """Gives entry `seq` a fresh event hash and chain hash of its own, from the previous link."""
        stored = self.stored(seq)
        previous = self.link(seq - 1).chain_hash if seq > 1 else GENESIS
        digest = event_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)
        self.sql(
            "UPDATE {chain} SET event_hash = ?, chain_hash = ? WHERE seq = ?",
            (digest, chain_hash(previous, seq, digest), seq),
        )

    def delete_events(self, *seqs: int) -> None:
        """Deletes the events (not their chain entries) that entries `seqs` cover."""
        for seq in seqs:
            link = self.link(seq)
            self.sql(
                "DELETE FROM {events} WHERE originator_id = ? AND originator_version = ?",
                (self.event_key(link.originator_id), link.version),
            )

    def delete_links(self, *seqs: int) -> None:
        for seq in seqs:
            self.sql("DELETE FROM {chain} WHERE seq = ?", (seq,))

    def insert_event(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        """A new row in the events table, with no chain entry."""
        self.sql(
            "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            (self.event_key(originator_id), version, topic, state),
        )

    def rebuild_chain(self) -> None:
        """Replaces the whole chain by one freshly hashed from the events as they are now."""
        self.sql("DELETE FROM {chain}")
        form = str if self.postgres else (lambda u: u.hex)
        for row in chain_rows((0, GENESIS), self.events(), form):
            self.sql("INSERT INTO {chain} VALUES (?, ?, ?, ?, ?)", row)


def copy_sqlite(source: str, target: str) -> None:
    """A consistent copy of a live SQLite ledger (WAL included), through the backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


@contextmanager
def another_ledger(backend: Backend, tmp_path: Path) -> Iterator[Backend]:
    """A second, empty ledger location on the same kind of backend."""
    if backend.name == "sqlite":
        yield Backend("sqlite", str(tmp_path / f"other-{uuid.uuid4().hex[:8]}.db"))
        return
    with fresh_postgres_schema() as other:
        yield other

