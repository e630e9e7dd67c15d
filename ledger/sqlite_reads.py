"""Reading a SQLite ledger's events as plain rows, without the library's objects.

Reads that must be fast take their rows as plain tuples: the library's
recorder builds a StoredEvent with a parsed UUID for every row, and importing
it costs more than a whole `ledger history`. The tables are the library's
(`stored_events`, keyed by the stream id as 32 hex digits, and `tracking`);
nothing here writes. `QuickStore` is a caught-up ledger opened for reading
only, with no import of the library at all (see `projections.quick.QuickReader`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a SQLite file is opened: a PostgreSQL read never needs it
    import sqlite3

#: The events of one stream, in record order.
SELECT_STREAM = (
    "SELECT originator_version, topic, state FROM stored_events WHERE originator_id = ? ORDER BY originator_version"
)
#: Every stream, first recorded first (read from the primary key's index alone).
SELECT_STREAMS = "SELECT originator_id, MIN(rowid) AS first FROM stored_events GROUP BY originator_id ORDER BY first"
#: The stream of each event after a notification id, in record order.
SELECT_STREAMS_AFTER = "SELECT originator_id FROM stored_events WHERE rowid > ? AND rowid <= ? ORDER BY rowid"
SELECT_LAST = "SELECT MAX(rowid) FROM stored_events"
SELECT_POSITION = "SELECT MAX(notification_id) FROM tracking WHERE application_name = ?"
#: Reads of events all over a large file go through a memory map this large (SQLite's own limit).
MMAP_SIZE = 2147418112
#: The read models' table names, as `projections.index` writes its statements.
TABLES = {name: name for name in ("deal_index", "party_index", "event_index", "party_index_deal")}


def stream_rows(cursor: Any, stream: str) -> list[tuple[int, str, bytes]]:
    """(version, topic, state) of each event of the stream (32 hex digits)."""
    cursor.execute(SELECT_STREAM, (stream,))
    return cursor.fetchall()


def streams_after(cursor: Any, start: int) -> tuple[list[str], int]:
    """The streams with events after notification `start`, first touched first, and the last id."""
    cursor.execute(SELECT_LAST)
    last = cursor.fetchone()[0] or 0
    if last <= start:
        return [], start
    if start == 0:
        cursor.execute(SELECT_STREAMS)
        return [row[0] for row in cursor.fetchall()], last
    cursor.execute(SELECT_STREAMS_AFTER, (start, last))
    return list(dict.fromkeys(row[0] for row in cursor.fetchall())), last


def hex_id(stream: Any) -> str:
    """A stream id as `stored_events` keeps it."""
    return stream.hex if hasattr(stream, "hex") else str(stream).replace("-", "")


def refuse_foreign_file(path: str) -> None:
    """Refuses a SQLite file that holds another program's database (tables, none of them the
    ledger's events): opening it as a ledger would add the ledger's tables to it, even for a
    read. A new or empty file, a ledger, and a file that is not a database at all (which
    opening reports) pass."""
    import os
    import sqlite3
    from contextlib import closing
    from pathlib import Path

    from ledger.errors import StorageError

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        with closing(sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)) as connection:
            tables = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    except sqlite3.DatabaseError:
        return
    if tables and "stored_events" not in tables:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        raise StorageError(f"{path} is a SQLite database, but not a ledger (its tables: {shown}); give a new file or a ledger")


def worker_file(name: str) -> tuple[str, str] | None:
    """("sqlite", name) for a ledger file that worker processes can open (`projections.parallel`);
    None for anything else (an in-memory database, a URI)."""
    import os

    usable = name and not name.startswith(("file:", ":memory:")) and os.path.exists(name)
    return ("sqlite", name) if usable else None


class QuickStore:
    """A SQLite ledger opened with one plain connection, for reads only.

    `open` gives None when the file has no ledger tables yet.
    """

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    @classmethod
    def open(cls, path: str, timeout: float) -> QuickStore | None:
        import sqlite3

        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        store = cls(connection)
        tables = {row[0] for row in store.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"stored_events", "tracking", "deal_index", "party_index", "event_index"} <= tables:
            connection.close()
            return None
        return store

    def execute(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) of one statement."""
        cursor = self.connection.execute(statement, tuple(params))
        return [column[0] for column in cursor.description or ()], cursor.fetchall()

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.execute(statement, params)[1]

    def events_at(self) -> tuple[Any, ...] | None:
        """Where worker processes can read the events: this ledger's file."""
        files = {name: file for _, name, file in self.rows("PRAGMA database_list")}
        return worker_file(files.get("main") or "")

    #: The read models' names as this database's statements use them.
    tables: dict[str, str] = TABLES

    @staticmethod
    def marks(statement: str) -> str:
        """A statement written with `?` marks as this database takes them."""
        return statement

    def select(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query on the read models as dicts (as `projections.index.IndexSQL.select`)."""
        names, rows = self.execute(self.marks(statement.format(**self.tables)), params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def position(self, application_name: str) -> int:
        return self.rows(SELECT_POSITION, (application_name,))[0][0] or 0

    def behind(self, application_name: str) -> int:
        """Notifications recorded after the read models' position, in one query."""
        return self.rows(f"SELECT COALESCE(({SELECT_LAST}), 0) - COALESCE(({SELECT_POSITION}), 0)", (application_name,))[0][0]

    def stream(self, stream: Any) -> list[tuple[int, str, bytes]]:
        return stream_rows(self.connection.cursor(), hex_id(stream))

    def first_event(self) -> tuple[Any, int, str, bytes] | None:
        """(stream id, version, topic, state) of the first stored event, or None."""
        from uuid import UUID

        rows = self.rows(self._first_event)
        if not rows:
            return None
        stream, version, topic, state = rows[0]
        return (stream if isinstance(stream, UUID) else UUID(str(stream)), version, topic, bytes(state))

    _first_event = "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid LIMIT 1"

    def close(self) -> None:
        self.connection.close()
