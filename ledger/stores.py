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
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
)
from psycopg.sql import SQL, Identifier

EVENT_TAG = b"deal-ledger/event/v1"
CHAIN_TAG = b"deal-ledger/chain/v1"
GENESIS = bytes(32)


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def event_hash(originator_id: Any, version: int, topic: str, state: bytes) -> bytes:
    """The hash of one stored event, over its bytes as stored."""
    return hashlib.sha256(
        EVENT_TAG
        + _field(str(originator_id).encode())
        + version.to_bytes(8, "big")
        + _field(topic.encode())
        + _field(bytes(state))
    ).digest()


def chain_hash(previous: bytes, seq: int, event: bytes) -> bytes:
    """The link of entry `seq`: commits to everything recorded before it."""
    return hashlib.sha256(CHAIN_TAG + previous + seq.to_bytes(8, "big") + event).digest()


def chain_rows(head: tuple[int, bytes], stored_events: Sequence[StoredEvent]) -> Iterator[tuple[Any, ...]]:
    """The chain entries that follow `head` (seq, chain hash) for newly stored events."""
    seq, previous = head
    for stored in stored_events:
        seq += 1
        digest = event_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)
        previous = chain_hash(previous, seq, digest)
        yield seq, str(stored.originator_id), stored.originator_version, digest, previous


class DurableSQLiteConnectionPool(SQLiteConnectionPool):
    """Connections with `synchronous=FULL`, so a committed report survives power loss."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return connection


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite event store, plus the hash chain in the same transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_chain ("
            "seq INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, event_hash BLOB NOT NULL, "
            "chain_hash BLOB NOT NULL, UNIQUE (originator_id, originator_version))",
            "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ]

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
        c.executemany("INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)", list(chain_rows(head, stored_events)))
        return ids


class LedgerSQLiteFactory(SQLiteFactory):
    """SQLite with the hash chain and durable connections."""

    application_recorder_class = ChainedSQLiteApplicationRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = DurableSQLiteConnectionPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL event store, plus the hash chain in the same transaction.

    The library locks the events table for every insert, so chain entries are
    appended by one writer at a time and stay dense and linear.
    """

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.chain_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_chain"))
        self.meta_table = SQL("{}.{}").format(schema, Identifier(f"{self.events_table_name}_meta"))
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (seq bigint PRIMARY KEY, originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, event_hash bytea NOT NULL, "
                "chain_hash bytea NOT NULL, UNIQUE (originator_id, originator_version))"
            ).format(self.chain_table),
            SQL("CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY, value text NOT NULL)").format(
                self.meta_table
            ),
            SQL("INSERT INTO {} VALUES ('ledger_id', md5(random()::text)) ON CONFLICT DO NOTHING").format(
                self.meta_table
            ),
        ]

    def _fetch_ids_after_insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        ids = super()._fetch_ids_after_insert_events(c, stored_events, **kwargs)
        c.execute(SQL("SELECT seq, chain_hash FROM {} ORDER BY seq DESC LIMIT 1").format(self.chain_table))
        row = c.fetchone()
        head = (row["seq"], bytes(row["chain_hash"])) if row else (0, GENESIS)
        c.executemany(
            SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(self.chain_table),
            list(chain_rows(head, stored_events)),
        )
        return ids


class LedgerPostgresFactory(PostgresFactory):
    """PostgreSQL with the hash chain."""

    application_recorder_class = ChainedPostgresApplicationRecorder

