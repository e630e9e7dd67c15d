"""Materialised cross-deal read models, in the ledger's own database.

Three tables, kept with a tracking record of the last processed notification
in the same transaction (the library's tracking recorders):
  deal_index   one row per deal: status, dates, counts, headline figures;
  party_index  one row per commitment point of every party in every deal;
  event_index  one row per event: its deal and kind (to find an event by id).
Rows of a deal are replaced whole whenever one of its events is processed, so
catching up twice, or after a crash, gives the same tables.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.sqlite_reads import MMAP_SIZE

TABLES = ("deal_index", "party_index", "event_index")
#: What tells one party_index row from another: the table's key.
PARTY_COLUMNS_KEY = ("party", "deal", "event_id", "commitment")
PARTY_KEY = f"PRIMARY KEY ({', '.join(PARTY_COLUMNS_KEY)})"
CREATE = [
    "CREATE TABLE IF NOT EXISTS {deal_index} ("
    "deal TEXT PRIMARY KEY, status TEXT NOT NULL, first_reported TEXT, last_reported TEXT, "
    "last_recorded TEXT NOT NULL, reports INTEGER NOT NULL, retracted INTEGER NOT NULL, "
    "sources INTEGER NOT NULL, warnings INTEGER NOT NULL, headline TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {party_index} ("
    "party TEXT NOT NULL, deal TEXT NOT NULL, commitment TEXT NOT NULL, name TEXT NOT NULL, "
    "event_id TEXT NOT NULL, reported TEXT NOT NULL, recorded TEXT NOT NULL, source TEXT NOT NULL, "
    "amount TEXT, retracted INTEGER NOT NULL, is_current INTEGER NOT NULL, " + PARTY_KEY + ")",
    "CREATE INDEX IF NOT EXISTS {party_index_deal} ON {party_index} (deal)",
    "CREATE TABLE IF NOT EXISTS {event_index} ("
    "event_id TEXT PRIMARY KEY, deal TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL)",
]
DEAL_COLUMNS = (
    "deal", "status", "first_reported", "last_reported", "last_recorded",
    "reports", "retracted", "sources", "warnings", "headline",
)  # fmt: skip
PARTY_COLUMNS = (
    "party", "deal", "commitment", "name", "event_id", "reported", "recorded",
    "source", "amount", "retracted", "is_current",
)  # fmt: skip
EVENT_COLUMNS = ("event_id", "deal", "kind", "version")
#: An event_index row whose event is indexed already (under its first deal) is left out.
KNOWN_EVENT = "ON CONFLICT (event_id) DO NOTHING"
#: party_index as a rebuild fills it: no key until all rows are in (see `SQLiteIndex.emptying`).
UNKEYED_PARTY_INDEX = CREATE[1].replace(", " + PARTY_KEY, "")
UNKEYED_EVENT_INDEX = CREATE[3].replace("event_id TEXT PRIMARY KEY", "event_id TEXT NOT NULL")
assert UNKEYED_PARTY_INDEX != CREATE[1] and UNKEYED_EVENT_INDEX != CREATE[3]


class IndexSQL:
    """The read models' statements, written once for both SQL dialects."""

    placeholder = "?"
    prefix = ""

    def sql(self, statement: str) -> str:
        names = {name: self.prefix + name for name in (*TABLES, "party_index_deal", "party_index_party", "event_index_key")}
        return statement.format(**names).replace("?", self.placeholder)

    def _insert(self, table: str, columns: Sequence[str], conflict: str) -> str:
        marks = ", ".join("?" for _ in columns)
        return self.sql(f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks}) {conflict}")

    def add_rows(
        self, c: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], conflict: str = "",
        conflicts_expected: bool = False,
    ) -> None:  # fmt: skip
        """Inserts rows into a read-model table (one statement for all of them); `conflict` says
        what to do with a row that breaks a key, `conflicts_expected` whether many will."""
        c.executemany(self._insert(table, columns, conflict), rows)

    def replace_party_rows(self, c: Any, deals: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Makes `rows` the party_index rows of `deals`: their old rows deleted, these added."""
        c.executemany(self.sql("DELETE FROM {party_index} WHERE deal = ?"), [(deal,) for deal in deals])
        if rows:
            self.add_rows(c, "party_index", PARTY_COLUMNS, rows)

    datastore: Any
    tracking_table = "tracking"
    #: Taken first in every writing transaction, so one catch-up at a time writes the read models.
    lock_statement: str

    #: Run on the writer's connection first, e.g. to size its caches.
    writer_setup: tuple[str, ...] = ()
    #: How `IndexWriter.clear` empties the tables, and what `IndexWriter.finish` does once they are refilled.
    emptying: tuple[str, ...] = tuple(f"DELETE FROM {{{table}}}" for table in TABLES)
    refilled: tuple[str, ...] = ()

    #: False when `emptying` leaves event_index without its key until `refill`.
    keyed_while_refilled = True

    def empty(self, c: Any) -> None:
        """Runs `emptying` (see `IndexWriter.clear`)."""
        for statement in self.emptying:
            c.execute(self.sql(statement))

    def refill(self, c: Any) -> None:
        """Runs `refilled` (see `IndexWriter.finish`)."""
        for statement in self.refilled:
            c.execute(self.sql(statement))

    @contextmanager
    def exclusive(self) -> Iterator[IndexWriter]:
        """One transaction that no other catch-up or rebuild can interleave with."""
        with self.datastore.transaction(commit=True) as c:
            for statement in self.writer_setup:
                c.execute(statement)
            c.execute(self.sql(self.lock_statement))
            yield IndexWriter(self, c)

    def select(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query on the read models, as dicts."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.sql(statement), tuple(params))
            return [dict(row) for row in c.fetchall()]


class IndexWriter:
    """Writes to the read models inside one exclusive transaction (see `IndexSQL.exclusive`)."""

    def __init__(self, index: IndexSQL, cursor: Any):
        self.index = index
        self.c = cursor
        #: True after `clear`: the tables are empty, so rows are only added.
        self.fresh = False
        #: (connection, name) of databases attached in this transaction, detached after it.
        self.attached: list[tuple[Any, str]] = []

    def plain_cursor(self) -> Any:
        """A cursor in this transaction that fetches plain tuples (SQLite or psycopg); None elsewhere."""
        raw = getattr(self.c, "sqlite_cursor", None)
        if raw is not None:
            cursor = raw.connection.cursor()
            cursor.row_factory = None
            return cursor
        connection = getattr(self.c, "connection", None)
        if connection is None or not hasattr(connection, "pgconn"):
            return None
        from psycopg.rows import tuple_row

        return connection.cursor(row_factory=tuple_row)

    def count(self, table: str) -> int:
        """Rows in a read-model table, read in this transaction."""
        self.c.execute(self.index.sql(f"SELECT COUNT(*) AS n FROM {{{table}}}"))
        row = self.c.fetchone()  # a dict on PostgreSQL, a sqlite3.Row on SQLite
        return int(row["n"])

    def position(self, application_name: str) -> int:
        """How far the read models had got, read under the lock."""
        return self.index._max_tracking_id(application_name, self.c) or 0  # type: ignore[attr-defined]

    def write(
        self,
        deals: dict[str, tuple[Any, ...]],
        parties: dict[str, list[tuple[Any, ...]]],
        events: list[tuple[Any, ...]],
        tracking: Tracking | None = None,
    ) -> None:
        """Replaces the rows of the given deals, adds event rows, and moves tracking on.

        Each kind of statement runs once for all the rows given (executemany).
        """
        c, sql, add = self.c, self.index.sql, self.index.add_rows
        if deals:
            rows = [row for deal in deals for row in parties.get(deal, ())]
            if not self.fresh:
                keys = [(deal,) for deal in deals]
                c.executemany(sql("DELETE FROM {deal_index} WHERE deal = ?"), keys)
            add(c, "deal_index", DEAL_COLUMNS, list(deals.values()))
            if not self.fresh:
                self.index.replace_party_rows(c, list(deals), rows)
            elif rows:
                add(c, "party_index", PARTY_COLUMNS, rows)
        if events:
            keyed = self.index.keyed_while_refilled or not self.fresh
            # A catch-up adds again the events of each deal it refolds: most are there already.
            add(c, "event_index", EVENT_COLUMNS, events, KNOWN_EVENT if keyed else "", conflicts_expected=not self.fresh)
        if tracking:
            self.index._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    def add(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Adds rows a rebuild folded elsewhere (see `projections.parallel`) to a cleared table."""
        keyed = table == "event_index" and self.index.keyed_while_refilled
        self.index.add_rows(self.c, table, columns, rows, KNOWN_EVENT if keyed else "")

    def clear(self, application_name: str) -> None:
        """Empties the read models and forgets how far they had got; call `finish` once refilled."""
        self.index.empty(self.c)
        self.c.execute(
            self.index.sql(f"DELETE FROM {self.index.tracking_table} WHERE application_name = ?"),
            (application_name,),
        )
        self.fresh = True

    def finish(self) -> None:
        """Builds what `clear` left to be built once all rows are in (see `IndexSQL.emptying`)."""
        self.index.refill(self.c)
        self.fresh = False


#: The writer's page cache while a rebuild refills the read models: SQLite's default, 2 MiB.
REFILL_CACHE = "PRAGMA cache_size = -2000"


class SQLiteIndex(IndexSQL, SQLiteTrackingRecorder):
    """The read models in the ledger's SQLite file."""

    # Any write takes SQLite's one write lock; this one changes nothing.
    lock_statement = "DELETE FROM {event_index} WHERE 0"
    # A catch-up reads deals' events all over the file and rewrites many index pages: events are
    # read through a memory map (no system call per page), and the pages it changes stay in a
    # cache of up to 256 MiB instead of spilling to the WAL again and again.
    writer_setup = (f"PRAGMA mmap_size = {MMAP_SIZE}", "PRAGMA cache_size = -262144")
    # A rebuild fills party_index and event_index (millions of rows) without their indexes,
    # then builds each in one sorted pass: much faster than keeping b-trees in order row by
    # row. event_index's key becomes a unique index. party_index gets what its reads use, an
    # index by party (`party`) and one by deal (catch-ups replace a deal's rows), instead of
    # a unique key over four text columns that took five times as long to build (4.7 s vs
    # 0.9 s for 2.3 million rows): its rows are a fold's output, written only after deleting
    # the deal's rows, and `verify` compares them with a fresh fold. Every statement works
    # with either shape.
    emptying = ("DELETE FROM {deal_index}", "DROP TABLE {party_index}", UNKEYED_PARTY_INDEX,
                "DROP TABLE {event_index}", UNKEYED_EVENT_INDEX)  # fmt: skip
    refilled = ("CREATE INDEX {party_index_party} ON {party_index} (party)", CREATE[2])
    keyed_while_refilled = False

    def refill(self, c: Any) -> None:
        # Each index build sorts millions of rows; SQLite can sort with helper threads while this
        # process, on one core, is all that runs at the end of a rebuild (a million events: the
        # three builds 1.8-2.0 s instead of 2.5-2.6 s on 2 cores).
        c.execute(f"PRAGMA threads = {min(os.cpu_count() or 1, 4)}")
        try:
            self._build_indexes(c)
        finally:
            c.execute("PRAGMA threads = 0")

    def _build_indexes(self, c: Any) -> None:
        super().refill(c)
        key = self.sql("CREATE UNIQUE INDEX {event_index_key} ON {event_index} (event_id)")
        c.execute("SAVEPOINT event_index_key")
        try:
            c.execute(key)
        except sqlite3.IntegrityError:
            # A ledger from before ids were checked may give one id to events of two deals:
            # keep the first row, as a catch-up does.
            c.execute("ROLLBACK TO event_index_key")
            c.execute(self.sql(
                "DELETE FROM {event_index} WHERE rowid NOT IN (SELECT MIN(rowid) FROM {event_index} GROUP BY event_id)"
            ))  # fmt: skip
            c.execute(key)
        c.execute("RELEASE event_index_key")

    def empty(self, c: Any) -> None:
        # Where SQLite is built to zero every freed page, dropping millions of rows would write
        # them all again; FAST zeroes only what is written anyway. The rows dropped are derived
        # from events that stay in the file (and are sealed when the ledger is encrypted).
        c.execute("PRAGMA secure_delete")
        previous = c.fetchone()[0]
        c.execute("PRAGMA secure_delete = FAST")
        super().empty(c)
        c.execute(f"PRAGMA secure_delete = {('OFF', 'ON', 'FAST')[previous]}")
        # A refill only appends pages, then sorts them into indexes: with SQLite's usual small cache
        # they go to the WAL as they are written, while the folds run, instead of up to 256 MiB of
        # them at the end, on one core (a million events: the index builds and the commit 1.0 s
        # shorter, of 6.0 s).
        c.execute(REFILL_CACHE)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self.sql(s) for s in CREATE)]
