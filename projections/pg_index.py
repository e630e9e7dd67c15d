"""The materialised read models on PostgreSQL (see `projections.index`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL

from projections.index import CREATE, IndexSQL


class PostgresIndex(IndexSQL, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL schema."""

    placeholder = "%s"

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.prefix = f'"{self.datastore.schema}".' if self.datastore.schema else ""
        self.sql_create_statements.extend(SQL(self.sql(s)) for s in CREATE)  # type: ignore[arg-type]

    def sql(self, statement: str) -> str:
        statement = super().sql(statement)
        # An index name may not be schema-qualified in CREATE INDEX.
        return statement.replace(f"EXISTS {self.prefix}party_index_deal", "EXISTS party_index_deal")

    def write(self, deals: Any, parties: Any, events: Any, tracking: Tracking | None) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._write(c, deals, parties, events)
            if tracking:
                self._insert_tracking(c, tracking)

    def clear(self, application_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._clear(c, application_name)
            c.execute(
                f'DELETE FROM {self.prefix}"{self.tracking_table_name}" WHERE application_name = %s',
                (application_name,),
            )

    def select(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as c:
            return self._select(c, statement, params)
