"""The materialised read models on PostgreSQL (see `projections.index`)."""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL

from projections.index import CREATE, IndexSQL


class PostgresIndex(IndexSQL, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL schema."""

    placeholder = "%s"
    lock_statement = "SELECT pg_advisory_xact_lock(7302514263)"

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.prefix = f'"{self.datastore.schema}".' if self.datastore.schema else ""
        self.tracking_table = f'{self.prefix}"{self.tracking_table_name}"'
        self.sql_create_statements.extend(SQL(self.sql(s)) for s in CREATE)  # type: ignore[arg-type]

    def sql(self, statement: str) -> str:
        statement = super().sql(statement)
        # An index name may not be schema-qualified in CREATE INDEX.
        return statement.replace(f"EXISTS {self.prefix}party_index_deal", "EXISTS party_index_deal")
