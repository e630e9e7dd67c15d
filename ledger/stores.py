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
from typing import Any
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


#: One link of the chain as read back: (seq, originator id as stored, version, event hash,
#: chain hash, topic, state), the last two those of the stored event it covers (None when gone).
ChainRow = tuple[int, Any, int, bytes, bytes, str | None, bytes | None]


def chain_rows(
    head: tuple[int, bytes], stored_events: Sequence[Any], id_form: Any = str
) -> Iterator[tuple[Any, ...]]:
    """The chain entries that follow `head` (seq, chain hash) for newly stored events.

    Hashes always use the canonical uuid text; `id_form` is how the events
    table stores the id (SQLite: 32 hex digits), so the two join on an index.
    """
    seq, previous = head
    hasher = EventHasher()
    for stored in stored_events:
        seq += 1
        uuid = stored.originator_id
        if not isinstance(uuid, UUID):
            uuid = UUID(str(uuid))
        digest = hasher(uuid, stored.originator_version, stored.topic, stored.state)
        previous = chain_hash(previous, seq, digest)
        yield seq, id_form(uuid), stored.originator_version, digest, previous


class EventHasher:
    """`event_hash` of many stored events, building each stream's and topic's bytes once.

    Hashes the same bytes as `event_hash`, in one call per event: what
    `ledger verify` spends its time on. `state` must be bytes (the chain
    queries cast it, so that a state written back as text still hashes).
    """

    def __init__(self, canonical_id: Callable[[Any], str] = str):
        self.canonical_id = canonical_id
        self.streams: dict[Any, bytes] = {}
        self.kinds: dict[str, bytes] = {}

    def __call__(self, stored_id: Any, version: int, topic: str, state: bytes) -> bytes:
        stream = self.streams.get(stored_id) or self._stream(stored_id)
        kind = self.kinds.get(topic) or self._kind(topic)
        header = stream + version.to_bytes(8, "big") + kind + len(state).to_bytes(8, "big")
        return hashlib.sha256(header + state).digest()

    def _stream(self, stored_id: Any) -> bytes:
        if len(self.streams) > 100_000:
            self.streams.clear()
        stream = self.canonical_id(stored_id).encode()
        self.streams[stored_id] = prefix = EVENT_TAG + len(stream).to_bytes(8, "big") + stream
        return prefix

    def _kind(self, topic: str) -> bytes:
        kind = topic.encode()
        self.kinds[topic] = prefixed = len(kind).to_bytes(8, "big") + kind
        return prefixed


class ChainReader:
    """Reading the chain back, the same way on both backends (see the SQL of each)."""

    placeholder = "?"
    sql_chain: str
    sql_unchained: str
    sql_head: str
    sql_meta: str
    sql_all_events: str
    sql_count_events: str

    id_form: Any = str

    def _rows(self, statement: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            raw = getattr(c, "sqlite_cursor", None)
            if raw is not None:
                raw.row_factory = None  # plain tuples: much cheaper than sqlite3.Row on long scans
                raw.execute(statement, tuple(params))
                return raw.fetchall()
            c.execute(statement, tuple(params))
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in c.fetchall()]

    def streams_present(self, ids: Sequence[UUID]) -> set[UUID]:
        """Those of `ids` whose streams have events, a query per 500 ids: an import looks up the
        deals that exist, instead of asking for each deal it names in turn."""
        found: set[UUID] = set()
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = self._rows(self.sql_streams_present(len(part)), [self.stream_param(i) for i in part])
            found.update(row[0] if isinstance(row[0], UUID) else UUID(row[0]) for row in rows)
        return found

    def sql_streams_present(self, count: int) -> Any:
        """The statement of `streams_present` for `count` ids."""
        raise NotImplementedError

    @staticmethod
    def stream_param(stream: UUID) -> Any:
        """A stream id as the events table keeps it."""
        return stream

    def chain(self, after: int = 0, limit: int = 10_000) -> list[ChainRow]:
        """Chain entries with seq > `after`, joined to the events they cover."""
        return self._rows(self.sql_chain, (after, limit))

    def count_events(self) -> int:
        """How many events are stored, chained or not."""
        return int(self._rows(self.sql_count_events)[0][0])

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

    # Events are stored in chain order, so entry `seq` covers the event at rowid `seq + offset`,
    # the offset taken from the batch's first event that is found: a lookup by rowid, much
    # faster on a large ledger than by (stream, version). Only an event not found there
    # (deleted, or stored out of order) is looked up by key.
    sql_chain = (
        "SELECT c.seq, c.originator_id, c.originator_version, CAST(c.event_hash AS BLOB), "
        "CAST(c.chain_hash AS BLOB), coalesce(e.topic, (SELECT k.topic {by_key})), "
        "CAST(coalesce(e.state, (SELECT k.state {by_key})) AS BLOB) "
        "FROM event_chain c LEFT JOIN stored_events e ON e.rowid = c.seq + ("
        "  SELECT f.rowid - d.seq FROM event_chain d JOIN stored_events f ON f.originator_id = d.originator_id "
        "  AND f.originator_version = d.originator_version WHERE d.seq > ?1 AND d.seq <= ?1 + ?2 "
        "  ORDER BY d.seq LIMIT 1"
        ") AND e.originator_id = c.originator_id AND e.originator_version = c.originator_version "
        "WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2"
    ).format(
        by_key="FROM stored_events k WHERE k.originator_id = c.originator_id "
        "AND k.originator_version = c.originator_version"
    )
    sql_unchained = (
        "SELECT e.originator_id, e.originator_version FROM stored_events e "
        "WHERE NOT EXISTS (SELECT 1 FROM event_chain c WHERE c.originator_id = e.originator_id "
        "AND c.originator_version = e.originator_version) ORDER BY e.rowid LIMIT ?"
    )
    sql_head = "SELECT seq, chain_hash FROM event_chain WHERE seq <= ? ORDER BY seq DESC LIMIT 1"
    sql_meta = "SELECT value FROM ledger_meta WHERE key = 'ledger_id'"
    sql_all_events = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    sql_count_events = "SELECT count(*) FROM stored_events"
    sql_insert_chain = "INSERT INTO event_chain VALUES (?, ?, ?, ?, ?)"
    #: Each event's id and deal as its stored JSON gives them (NULL where it gives none), read by
    #: SQLite's JSON functions: a third of the time of decoding every state in Python.
    sql_ids_after = (
        "SELECT rowid, topic, json_extract(CAST(state AS TEXT), '$.event_id'), "
        "json_extract(CAST(state AS TEXT), '$.deal') FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    id_form = staticmethod(lambda uuid: uuid.hex)
    stream_param = id_form

    def ids_after(self, position: int, batch: int = 5000) -> Iterator[tuple[int, str, Any, Any]]:
        """(notification id, topic, event id, deal) of each event after notification `position`,
        `batch` per query, for states stored as plain JSON. Raises the library's OperationalError
        on a state that is not JSON."""
        while True:
            rows = self._rows(self.sql_ids_after, (position, batch))
            yield from rows
            if len(rows) < batch:
                return
            position = rows[-1][0]

    def sql_streams_present(self, count: int) -> str:
        return f"SELECT DISTINCT originator_id FROM stored_events WHERE originator_id IN ({', '.join('?' * count)})"

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
            yield lambda stored_events: self._insert_batch(c, stored_events) if stored_events else None

    def _insert_batch(self, c: Any, stored_events: Sequence[StoredEvent]) -> None:
        """`_insert_events` for a batch of an import, in one statement: the library inserts row
        by row to give back each notification id, which an import does not need."""
        rows = [(self.stream_param(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events]
        c.executemany(self.insert_events_statement, rows)
        self._chain(c, stored_events)

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
        self._chain(c, stored_events)
        return ids

    def _chain(self, c: Any, stored_events: Sequence[StoredEvent]) -> None:
        """Links the events just inserted into the chain, after its head."""
        c.execute("SELECT seq, chain_hash FROM event_chain ORDER BY seq DESC LIMIT 1")
        row = c.fetchone()
        head = (row[0], bytes(row[1])) if row else (0, GENESIS)
        c.executemany(self.sql_insert_chain, list(chain_rows(head, stored_events, self.id_form)))


class LedgerSQLiteFactory(SQLiteFactory):
    """SQLite with the hash chain and durable connections."""

    application_recorder_class = ChainedSQLiteApplicationRecorder

    def __init__(self, env: Any):
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = DurableSQLiteConnectionPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
