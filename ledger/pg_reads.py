"""Reading a caught-up PostgreSQL ledger through one plain psycopg connection.

The PostgreSQL counterpart of `ledger.sqlite_reads.QuickStore`: a read
command on a team ledger without a key, whose read models are caught up,
reads the library's tables with plain queries, without importing the
library, its connection pool or pydantic (together ~100 ms of a ~220 ms
`ledger history`). psycopg itself is still imported. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.reading import NAME
from ledger.sqlite_reads import TABLES, QuickStore

EVENTS = f"{NAME.lower()}_events"
TRACKING = f"{NAME.lower()}_tracking"


def connect_settings(env: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg.connect() keywords from a ledger's POSTGRES_* settings."""
    return {
        "dbname": env.get("POSTGRES_DBNAME"),
        "host": env.get("POSTGRES_HOST"),
        "port": env.get("POSTGRES_PORT"),
        "user": env.get("POSTGRES_USER"),
        "password": env.get("POSTGRES_PASSWORD") or None,
        "connect_timeout": env.get("POSTGRES_CONNECT_TIMEOUT") or "10",
    }


class PgQuickStore(QuickStore):
    """A PostgreSQL ledger opened with one plain connection, for reads only (see `QuickStore`)."""

    placeholder = "%s"

    def __init__(self, connection: Any, schema: str | None):
        super().__init__(connection)
        self.prefix = f'"{schema}".' if schema else ""
        self.events = f'{self.prefix}"{EVENTS}"'
        self.tables = {name: self.prefix + table for name, table in TABLES.items()}

    @classmethod
    def connect(cls, settings: Mapping[str, Any], display: str) -> PgQuickStore | None:
        """The store, or None when the schema has no ledger or read-model tables yet.

        A server it cannot connect to is a `StorageError` at once (naming the ledger as
        `display`, password masked): trying again through the library would wait as long again.
        """
        import psycopg

        try:
            connection = psycopg.connect(**connect_settings(settings), autocommit=True)
        except psycopg.OperationalError as error:
            from ledger.errors import StorageError

            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise StorageError(f"cannot open the ledger at {display}: {first}") from None
        schema = settings.get("POSTGRES_SCHEMA")
        store = cls(connection, schema)
        found = {
            row[0]
            for row in store.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema or "public",),
            )
        }
        if not {EVENTS, TRACKING, "deal_index", "party_index", "event_index"} <= found:
            connection.close()
            return None
        return store

    def position(self, application_name: str) -> int:
        statement = f'SELECT MAX(notification_id) FROM {self.prefix}"{TRACKING}" WHERE application_name = %s'
        return self.rows(statement, (application_name,))[0][0] or 0

    def last(self) -> int:
        return self.rows(f"SELECT MAX(notification_id) FROM {self.events}")[0][0] or 0

    def stream(self, stream: Any) -> list[tuple[int, str, bytes]]:
        statement = (
            f"SELECT originator_version, topic, state FROM {self.events} "
            "WHERE originator_id = %s ORDER BY originator_version"
        )
        return [(version, topic, bytes(state)) for version, topic, state in self.rows(statement, (stream,))]
