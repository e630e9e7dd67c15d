"""The hash-chained event store on PostgreSQL (see `ledger.stores` for the chain itself).

Kept apart so that commands on a SQLite ledger never import psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from psycopg.sql import SQL, Identifier

from ledger.stores import GENESIS, ChainReader, chain_rows


#: Whether a table (its name as SQL writes it) has the planner's statistics.
ANALYZED = "SELECT EXISTS (SELECT FROM pg_statistic WHERE starelid = to_regclass(%s)) AS analyzed"


def with_statistics(curs: Any, table: str, analyze: Any) -> None:
    """Runs `analyze` where `table` has no planner statistics at all: on a server without
    autovacuum, or before it gets there, nothing else gives the ledger's tables any, and the
    planner misjudges every query of many deals (see docs/performance.md)."""
    curs.execute(ANALYZED, (table,))
    if not curs.fetchone()["analyzed"]:
        curs.execute(analyze)


class ChainedPostgresApplicationRecorder(ChainReader, PostgresApplicationRecorder):
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
        events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.events_table = events
        #: The events table's name as SQL writes it, for `to_regclass`.
        self.events_regclass = ".".join(
            '"' + name.replace('"', '""') + '"' for name in (self.datastore.schema, self.events_table_name)
        )
        names = {"chain": self.chain_table, "events": events, "meta": self.meta_table}
        # The join looks each link's event up by the events' key (uuid, version). Comparing
        # as text instead (`e.originator_id::text = c.originator_id`) left only the version
        # to the index: each link scanned every event of its version, so verifying a
        # ledger of a million events took hours. A chain id that is not a canonical uuid
        # (tampered with) matches no event, and is reported as such, instead of failing the cast.
        self.sql_chain = SQL(
            "SELECT c.seq, c.originator_id, c.originator_version, c.event_hash, c.chain_hash, e.topic, e.state "
            "FROM {chain} c LEFT JOIN {events} e ON e.originator_id = (CASE WHEN c.originator_id ~ "
            "'^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' THEN c.originator_id::uuid END) "
            "AND e.originator_version = c.originator_version WHERE c.seq > %s ORDER BY c.seq LIMIT %s"
        ).format(**names)
        self.sql_unchained = SQL(
            "SELECT e.originator_id, e.originator_version FROM {events} e WHERE NOT EXISTS "
            "(SELECT 1 FROM {chain} c WHERE c.originator_id = e.originator_id::text "
            "AND c.originator_version = e.originator_version) ORDER BY e.notification_id LIMIT %s"
        ).format(**names)
        self.sql_head = SQL(
            "SELECT seq, chain_hash FROM {chain} WHERE seq <= %s ORDER BY seq DESC LIMIT 1"
        ).format(**names)
        self.sql_meta = SQL("SELECT value FROM {meta} WHERE key = 'ledger_id'").format(**names)
        self.sql_all_events = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {events} ORDER BY notification_id"
        ).format(**names)
        self.sql_count_events = SQL("SELECT count(*) FROM {events}").format(**names)
        self.sql_insert_chain = SQL("INSERT INTO {chain} VALUES (%s, %s, %s, %s, %s)").format(**names)
        # Binary COPY: a state goes as its bytes, where text COPY wrote it as hex for the server
        # to decode again (an import of 20,000 reports: ~1.70 s against ~1.77 s, alternated runs).
        self.sql_copy_events = SQL(
            "COPY {events} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
        ).format(**names)
        self.sql_copy_chain = SQL("COPY {chain} FROM STDIN (FORMAT BINARY)").format(**names)
        #: The column types binary COPY is told, as the tables have them (stream ids are uuids).
        self.copy_events_types = ["uuid", "int8", "text", "bytea"]
        self.copy_chain_types = ["int8", "text", "int8", "bytea", "bytea"]

    def sql_streams_present(self, count: int) -> Any:
        marks = SQL(", ").join([SQL("%s")] * count)
        return SQL("SELECT DISTINCT originator_id FROM {} WHERE originator_id IN ({})").format(self.events_table, marks)

    @contextmanager
    def bulk(self) -> Iterator[Callable[[Sequence[StoredEvent]], None]]:
        """One transaction for a large import (see the SQLite recorder's `bulk`), the events table
        locked from the start as the library locks it for each insert.

        A batch goes in by COPY: the library's insert (an array of a composite type, to return
        each notification id, which an import does not need) spent most of an import's storing
        time turning the events into that array in Python. COPY gives the rows their
        notification ids in the order written, as the insert does.
        """
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            for statement in self.lock_table_statements:
                curs.execute(statement, prepare=False)
            self._with_statistics(curs)

            def store(stored_events: Sequence[StoredEvent]) -> None:
                if stored_events:
                    self._notify_channel(curs)  # as the library's insert does, for its subscribers
                    with curs.copy(self.sql_copy_events) as copy:
                        copy.set_types(self.copy_events_types)
                        for s in stored_events:
                            copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
                    self._chain(curs, stored_events, bulk=True)

            yield store
            self._with_statistics(curs)

    def _with_statistics(self, curs: Any) -> None:
        """Gives the events table the planner's statistics if it has none (a server without
        autovacuum, or a table just filled): without them it took the ~100 deals of a query
        (`originator_id = ANY(…)`) for 4.5 million of the million events and compiled each
        query (JIT, ~40 ms). An import of 974 reports into the bench's million events then
        took 4.3 s against 3.3-3.5 s, and the first read after it 5.1 s against 4.2 s; the
        ANALYZE, 0.2 s. Run before an import reads its deals, and after it writes."""
        with_statistics(curs, self.events_regclass, SQL("ANALYZE {}").format(self.events_table))

    def _fetch_ids_after_insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        ids = super()._fetch_ids_after_insert_events(c, stored_events, **kwargs)
        self._chain(c, stored_events)
        return ids

    def _chain(self, c: Any, stored_events: Sequence[StoredEvent], bulk: bool = False) -> None:
        """Links the events just inserted into the chain, after its head (by COPY for an import)."""
        c.execute(SQL("SELECT seq, chain_hash FROM {} ORDER BY seq DESC LIMIT 1").format(self.chain_table))
        row = c.fetchone()
        head = (row["seq"], bytes(row["chain_hash"])) if row else (0, GENESIS)
        rows = chain_rows(head, stored_events)
        if not bulk:
            c.executemany(self.sql_insert_chain, list(rows))
            return
        with c.copy(self.sql_copy_chain) as copy:
            copy.set_types(self.copy_chain_types)
            for link in rows:
                copy.write_row(link)


def create_schema(settings: dict[str, str]) -> bool:
    """Creates the ledger's schema (POSTGRES_SCHEMA) if the database has none of that name; True if it did.

    Only where it is missing: CREATE SCHEMA IF NOT EXISTS asks for the right to create
    schemas even when the schema exists, which a team member need not have.
    """
    import psycopg

    from ledger.errors import StorageError
    from ledger.pg_reads import connect_settings

    schema = settings.get("POSTGRES_SCHEMA")
    if not schema:
        return False
    try:
        with psycopg.connect(**connect_settings(settings), autocommit=True) as connection:
            if connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
                return False
            try:
                connection.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
            except psycopg.errors.DuplicateSchema:  # created meanwhile by another `ledger init`
                return False
            return True
    except psycopg.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(f"cannot create the schema {schema!r}: {first}") from None


class LedgerPostgresFactory(PostgresFactory):
    """PostgreSQL with the hash chain."""

    application_recorder_class = ChainedPostgresApplicationRecorder

