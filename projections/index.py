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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

TABLES = ("deal_index", "party_index", "event_index")
CREATE = [
    "CREATE TABLE IF NOT EXISTS {deal_index} ("
    "deal TEXT PRIMARY KEY, status TEXT NOT NULL, first_reported TEXT, last_reported TEXT, "
    "last_recorded TEXT NOT NULL, reports INTEGER NOT NULL, retracted INTEGER NOT NULL, "
    "sources INTEGER NOT NULL, warnings INTEGER NOT NULL, headline TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {party_index} ("
    "party TEXT NOT NULL, deal TEXT NOT NULL, commitment TEXT NOT NULL, name TEXT NOT NULL, "
    "event_id TEXT NOT NULL, reported TEXT NOT NULL, recorded TEXT NOT NULL, source TEXT NOT NULL, "
    "amount TEXT, retracted INTEGER NOT NULL, is_current INTEGER NOT NULL, "
    "PRIMARY KEY (party, deal, event_id, commitment))",
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


class IndexSQL:
    """The read models' statements, written once for both SQL dialects."""

    placeholder = "?"
    prefix = ""

    def sql(self, statement: str) -> str:
        names = {name: self.prefix + name for name in (*TABLES, "party_index_deal")}
        return statement.format(**names).replace("?", self.placeholder)

    def _insert(self, table: str, columns: Sequence[str], conflict: str) -> str:
        marks = ", ".join("?" for _ in columns)
        return self.sql(f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks}) {conflict}")

    datastore: Any
    tracking_table = "tracking"
    #: Taken first in every writing transaction, so one catch-up at a time writes the read models.
    lock_statement: str

    @contextmanager
    def exclusive(self) -> Iterator[IndexWriter]:
        """One transaction that no other catch-up or rebuild can interleave with."""
        with self.datastore.transaction(commit=True) as c:
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

    def plain_cursor(self) -> Any:
        """On SQLite, a cursor in this transaction that fetches plain tuples; None elsewhere."""
        raw = getattr(self.c, "sqlite_cursor", None)
        if raw is None:
            return None
        cursor = raw.connection.cursor()
        cursor.row_factory = None
        return cursor

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
        c, sql, insert = self.c, self.index.sql, self.index._insert
        if deals:
            keys = [(deal,) for deal in deals]
            c.executemany(sql("DELETE FROM {deal_index} WHERE deal = ?"), keys)
            c.executemany(sql("DELETE FROM {party_index} WHERE deal = ?"), keys)
            c.executemany(insert("deal_index", DEAL_COLUMNS, ""), list(deals.values()))
            rows = [row for deal in deals for row in parties.get(deal, ())]
            if rows:
                c.executemany(insert("party_index", PARTY_COLUMNS, ""), rows)
        if events:
            c.executemany(insert("event_index", EVENT_COLUMNS, "ON CONFLICT (event_id) DO NOTHING"), events)
        if tracking:
            self.index._insert_tracking(c, tracking)  # type: ignore[attr-defined]

    def clear(self, application_name: str) -> None:
        """Empties the read models and forgets how far they had got."""
        for table in TABLES:
            self.c.execute(self.index.sql(f"DELETE FROM {{{table}}}"))
        self.c.execute(
            self.index.sql(f"DELETE FROM {self.index.tracking_table} WHERE application_name = ?"),
            (application_name,),
        )


class SQLiteIndex(IndexSQL, SQLiteTrackingRecorder):
    """The read models in the ledger's SQLite file."""

    # Any write takes SQLite's one write lock; this one changes nothing.
    lock_statement = "DELETE FROM {event_index} WHERE 0"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self.sql(s) for s in CREATE)]
