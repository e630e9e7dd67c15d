"""Reading a caught-up PostgreSQL ledger through one plain libpq connection.

The PostgreSQL counterpart of `ledger.sqlite_reads.QuickStore`: a read
command on a team ledger without a key, whose read models are caught up,
reads the library's tables with plain queries, without importing the
library, its connection pool or pydantic (together ~100 ms of a ~220 ms
`ledger history`), nor psycopg (another 75-95 ms): it talks to libpq through
ctypes (`ledger.libpq`). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.reading import NAME
from ledger.sqlite_reads import TABLES, QuickStore

EVENTS = f"{NAME.lower()}_events"
TRACKING = f"{NAME.lower()}_tracking"
#: The tables a quick read needs.
NEEDED = (EVENTS, TRACKING, "deal_index", "party_index", "event_index")


def connect_settings(env: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg.connect() keywords from a ledger's POSTGRES_* settings (libpq's keywords too)."""
    return {
        "dbname": env.get("POSTGRES_DBNAME"),
        "host": env.get("POSTGRES_HOST"),
        "port": env.get("POSTGRES_PORT"),
        "user": env.get("POSTGRES_USER"),
        "password": env.get("POSTGRES_PASSWORD") or None,
        "connect_timeout": env.get("POSTGRES_CONNECT_TIMEOUT") or "10",
    }


def numbered(statement: str) -> str:
    """The statement with its `?` marks as PostgreSQL's `$1, $2 …` (our statements hold no literal `?`)."""
    parts = statement.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


class PgQuickStore(QuickStore):
    """A PostgreSQL ledger opened with one plain connection, for reads only (see `QuickStore`).

    Its connection is a `ledger.libpq.Connection`; its own statements use `$n` marks.
    """

    def __init__(self, connection: Any, schema: str | None, settings: dict[str, Any] | None = None):
        super().__init__(connection)
        self.prefix = f'"{schema}".' if schema else ""
        self.events = f'{self.prefix}"{EVENTS}"'
        self.tables = {name: self.prefix + table for name, table in TABLES.items()}
        #: How to connect to the server again (`connect_settings`), for worker processes.
        self.settings = settings

    def events_at(self) -> tuple[Any, ...] | None:
        """Where worker processes can read the events: the server and the events table."""
        return ("postgres", self.settings, self.events) if self.settings is not None else None

    @staticmethod
    def start(settings: Mapping[str, Any]) -> Any | None:
        """A connection to the ledger's server on its way (`ledger.libpq.start`), or None where
        libpq cannot be loaded."""
        from ledger import libpq

        try:
            return libpq.start(connect_settings(settings))
        except libpq.LibpqError:  # libpq cannot be loaded (or is out of memory)
            return None

    @classmethod
    def connect(cls, settings: Mapping[str, Any], display: str, started: Any | None = None) -> PgQuickStore | None:
        """The store, or None when the schema has no ledger or read-model tables yet, or libpq
        cannot be loaded; `started` is its connection begun by `start`.

        A server it cannot connect to is a `StorageError` at once (naming the ledger as
        `display`, password masked): trying again through the library would wait as long again.
        """
        from ledger import libpq

        if started is None:
            started = cls.start(settings)
            if started is None:
                return None
        try:
            connection = started.finish()
        except libpq.LibpqError as error:
            from ledger.errors import StorageError

            raise StorageError(f"cannot open the ledger at {display}: {error}") from None
        store = cls(connection, settings.get("POSTGRES_SCHEMA"), connect_settings(settings))
        # One round trip, and the fastest of the ways to ask (information_schema takes ~5x as long;
        # naming the tables in the first query took longer too: a new server backend then loads
        # each one's catalog entries).
        found = " AND ".join(f"to_regclass(${n}) IS NOT NULL" for n in range(1, len(NEEDED) + 1))
        if not store.rows(f"SELECT {found}", [f'{store.prefix}"{table}"' for table in NEEDED])[0][0]:
            connection.close()
            return None
        return store

    def execute(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self.connection.execute(statement, params)

    marks = staticmethod(numbered)

    def position(self, application_name: str) -> int:
        return self.rows(self._position, (application_name,))[0][0] or 0

    def behind(self, application_name: str) -> int:
        statement = f"SELECT COALESCE((SELECT MAX(notification_id) FROM {self.events}), 0) - COALESCE(({self._position}), 0)"
        return self.rows(statement, (application_name,))[0][0]

    @property
    def _first_event(self) -> str:  # type: ignore[override]
        return f"SELECT originator_id, originator_version, topic, state FROM {self.events} ORDER BY notification_id LIMIT 1"

    @property
    def _position(self) -> str:
        return f'SELECT MAX(notification_id) FROM {self.prefix}"{TRACKING}" WHERE application_name = $1'

    def stream(self, stream: Any) -> list[tuple[int, str, bytes]]:
        statement = (
            f"SELECT originator_version, topic, state FROM {self.events} "
            "WHERE originator_id = $1 ORDER BY originator_version"
        )
        return self.rows(statement, (str(stream),))  # a UUID, or its 32 hex digits
