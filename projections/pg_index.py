"""The materialised read models on PostgreSQL (see `projections.index`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.errors import UniqueViolation
from psycopg.sql import SQL

from ledger.pg_stores import with_statistics
from projections.index import CREATE, PARTY_COLUMNS, PARTY_COLUMNS_KEY, PARTY_KEY, IndexSQL


class PostgresIndex(IndexSQL, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL schema."""

    placeholder = "%s"
    lock_statement = "SELECT pg_advisory_xact_lock(7302514263)"
    # A rebuild empties the read models with TRUNCATE: DELETE would leave millions of dead rows
    # for the next rebuild and for vacuum to wade through. TRUNCATE locks the three tables
    # until the rebuild commits: reads of the cross-deal views wait for it meanwhile.
    # It also drops their keys and party_index's index by deal, and `refill` builds them
    # again, each in one sorted pass, once every row is in: keeping three b-trees in order
    # row by row made the server the slowest part of a rebuild (its COPYs ran 16 s past the
    # end of the folds for a million events). Tables, keys and index end as `CREATE` makes them.
    emptying = (
        "TRUNCATE {deal_index}, {party_index}, {event_index}",
        "ALTER TABLE {party_index} DROP CONSTRAINT party_index_pkey",
        "DROP INDEX {party_index_deal}",
        "ALTER TABLE {event_index} DROP CONSTRAINT event_index_pkey",
    )
    keyed_while_refilled = False

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.prefix = f'"{self.datastore.schema}".' if self.datastore.schema else ""
        self.tracking_table = f'{self.prefix}"{self.tracking_table_name}"'
        self.sql_create_statements.extend(SQL(self.sql(s)) for s in CREATE)  # type: ignore[arg-type]

    def add_rows(
        self, c: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], conflict: str = "",
        conflicts_expected: bool = False,
    ) -> None:  # fmt: skip
        """Inserts rows with COPY, many times faster than INSERTs. Where rows may break a key
        (`conflict`), the COPY runs in a savepoint and, if a row does, the rows are INSERTed with
        `conflict` instead; where many will, they go in through a scratch table (`_add_new`)."""
        if conflict and conflicts_expected:
            self._add_new(c, table, columns, rows, conflict)
            return
        copy = self.sql(f"COPY {{{table}}} ({', '.join(columns)}) FROM STDIN")
        if conflict:
            c.execute("SAVEPOINT add_rows")
        try:
            with c.copy(copy) as copying:
                for row in rows:
                    copying.write_row(row)
        except UniqueViolation:
            if not conflict:
                raise
            c.execute("ROLLBACK TO SAVEPOINT add_rows")
            super().add_rows(c, table, columns, rows, conflict)
        if conflict:
            c.execute("RELEASE SAVEPOINT add_rows")

    def _add_new(self, c: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]], conflict: str) -> None:
        """`add_rows` where most rows break the key (a catch-up adds again the event rows of each
        deal it refolds): the rows are COPYed into a temporary table, and one INSERT … SELECT
        with `conflict` takes them in order (by `ctid`, as they were copied). An INSERT a row
        took ~40 µs each: 3.6 s for the ~83,000 event rows of 1,000 reports in 832 deals."""
        names = ", ".join(columns)
        with self._scratch(c, table, columns, rows) as scratch:
            c.execute(self.sql(f"INSERT INTO {{{table}}} ({names}) SELECT {names} FROM {scratch} ORDER BY ctid {conflict}"))

    @contextmanager
    def _scratch(self, c: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> Iterator[str]:
        """The name of a temporary table shaped like `table`, holding `rows` (COPYed) until the
        block ends; dropped when the transaction commits."""
        scratch = f"scratch_{table}"
        c.execute(self.sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} (LIKE {{{table}}}) ON COMMIT DROP"))
        with c.copy(f"COPY {scratch} ({', '.join(columns)}) FROM STDIN") as copying:
            for row in rows:
                copying.write_row(row)
        yield scratch
        c.execute(f"TRUNCATE {scratch}")

    #: Party rows a catch-up writes at once from which only the changed ones are replaced (`replace_party_rows`).
    DIFFED_FROM_ROWS = 1000

    def replace_party_rows(self, c: Any, deals: list[str], rows: list[tuple[Any, ...]]) -> None:
        """A catch-up refolds each deal whole, and most of its party rows come out as they were.
        Deleting them all and adding them back made every new row's unique check meet the dead
        copy of itself: 6.4 s for the ~195,000 rows of 832 deals. For many rows, only the rows
        that differ are replaced: the fold's rows are COPYed into a temporary table, the deals'
        rows not among them deleted, and those of its rows whose key is then free added."""
        if len(rows) < self.DIFFED_FROM_ROWS:
            super().replace_party_rows(c, deals, rows)
            return
        # Without statistics of party_index (no autovacuum, or not yet), the planner took a diff's
        # ~100 deals (`deal = ANY(…)`) for half of it and read all of it each time: a catch-up of
        # 1,000 reports into a million events, 6.0-6.4 s against 4.3-4.5 s.
        with_statistics(c, self.sql("{party_index}"), self.sql(self.ANALYZED))
        names = ", ".join(PARTY_COLUMNS)
        key, rest = PARTY_COLUMNS_KEY, [column for column in PARTY_COLUMNS if column not in PARTY_COLUMNS_KEY]
        same_key = " AND ".join(f"s.{column} = p.{column}" for column in key)
        same_rest = f"({', '.join('s.' + column for column in rest)}) IS NOT DISTINCT FROM ({', '.join('p.' + column for column in rest)})"
        with self._scratch(c, "party_index", PARTY_COLUMNS, rows) as scratch:
            c.execute(self.sql(
                "DELETE FROM {party_index} p WHERE p.deal = ANY(%s) AND NOT EXISTS "
                f"(SELECT 1 FROM {scratch} s WHERE {same_key} AND {same_rest})"
            ), (deals,))  # fmt: skip
            c.execute(self.sql(
                f"INSERT INTO {{party_index}} ({names}) SELECT {names} FROM {scratch} s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {{party_index}} p WHERE {same_key}) ORDER BY s.ctid"
            ))  # fmt: skip

    #: The read models' tables, as one ANALYZE names them.
    ANALYZED = "ANALYZE {deal_index}, {party_index}, {event_index}"

    def refill(self, c: Any) -> None:
        c.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the sorts of the index builds, in memory
        c.execute(self.sql(f"ALTER TABLE {{party_index}} ADD CONSTRAINT party_index_pkey {PARTY_KEY}"))
        c.execute(self.sql(CREATE[2]))
        key = self.sql("ALTER TABLE {event_index} ADD CONSTRAINT event_index_pkey PRIMARY KEY (event_id)")
        c.execute("SAVEPOINT event_index_key")
        try:
            c.execute(key)
        except UniqueViolation:
            # A ledger from before ids were checked may give one id to events of two deals:
            # keep the first row, as a catch-up does (rows were only appended since TRUNCATE).
            c.execute("ROLLBACK TO SAVEPOINT event_index_key")
            c.execute(self.sql(
                "DELETE FROM {event_index} a USING {event_index} b WHERE a.event_id = b.event_id AND a.ctid > b.ctid"
            ))  # fmt: skip
            c.execute(key)
        c.execute("RELEASE SAVEPOINT event_index_key")
        # The planner's statistics of the refilled tables (~0.5 s for a million events), before any
        # catch-up queries them: autovacuum would take them later, and only where it runs.
        c.execute(self.sql(self.ANALYZED))

    def sql(self, statement: str) -> str:
        statement = super().sql(statement)
        # An index name may not be schema-qualified in CREATE INDEX.
        return statement.replace(f"EXISTS {self.prefix}party_index_deal", "EXISTS party_index_deal")
