"""Where the read side reads a ledger's events from: the library's recorder, or plain SQLite rows.

Both give the streams with events after a notification id (`touched`) and a
stream's events as light records (`records`). On SQLite the rows are read
with a plain cursor, within the caller's transaction when it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from orjson import JSONDecodeError, loads

from events.stored import StoredRecord, decode
from ledger.sqlite_reads import hex_id, stream_rows, streams_after

#: Notifications read per query when going through the library.
BATCH = 5000
#: Makes a record from (stream id, version, topic, stored state).
RecordMaker = Callable[[Any, int, str, bytes], StoredRecord]

_validating: Any = None


def plain_record(originator_id: Any, version: int, topic: str, state: bytes) -> StoredRecord:
    """The record of an unencrypted stored event; one not in today's shape is read through pydantic."""
    global _validating
    try:
        record = decode(loads(state), topic, originator_id, version)
    except JSONDecodeError:
        record = None
    if record is None:  # the mapper upcasts it, or says why it cannot be read
        if _validating is None:
            from ledger.mapper import plain_mapper

            _validating = plain_mapper()
        record = _validating.record(originator_id, version, topic, state)
    return record


class RecorderEvents:
    """Events through the library's recorder (PostgreSQL, or a SQLite ledger outside a catch-up)."""

    def __init__(self, recorder: Any, mapper: Any):
        self.recorder = recorder
        self.mapper = mapper

    def touched(self, start: int) -> tuple[list[Any], int]:
        """The streams with notifications after `start`, first touched first, and the last id."""
        streams: dict[Any, None] = {}
        last = start
        while True:
            notifications = self.recorder.select_notifications(start=last + 1, limit=BATCH)
            streams.update(dict.fromkeys(n.originator_id for n in notifications))
            if notifications:
                last = notifications[-1].id
            if len(notifications) < BATCH:
                return list(streams), last

    def records(self, stream: Any) -> list[StoredRecord]:
        """Every event of one stream, in record order."""
        to_record = self.mapper.to_record
        return [to_record(stored) for stored in self.recorder.select_events(stream)]

    def records_many(self, streams: list[Any]) -> list[list[StoredRecord]]:
        """`records` of each stream."""
        return [self.records(stream) for stream in streams]


class PostgresRows:
    """Events of a PostgreSQL ledger as plain rows through a cursor of the caller's transaction.

    A rebuild or a long catch-up reads many streams: one query per batch of
    streams, and stream ids from the notification index alone, instead of
    one query per stream and every notification's state.
    """

    def __init__(self, cursor: Any, table: str, record: RecordMaker):
        self.cursor = cursor
        self.table = table
        self.record = record

    def touched(self, start: int) -> tuple[list[Any], int]:
        """The streams with events after `start`, first touched first, and the last id."""
        self.cursor.execute(f"SELECT MAX(notification_id) FROM {self.table}")
        last = self.cursor.fetchone()[0] or 0
        if last <= start:
            return [], start
        self.cursor.execute(
            f"SELECT originator_id FROM {self.table} WHERE notification_id > %s AND notification_id <= %s "
            "GROUP BY originator_id ORDER BY MIN(notification_id)",
            (start, last),
        )
        return [row[0] for row in self.cursor.fetchall()], last

    def records(self, stream: Any) -> list[StoredRecord]:
        return self.records_many([stream])[0]

    def records_many(self, streams: list[Any]) -> list[list[StoredRecord]]:
        """`records` of each stream, read in one query."""
        self.cursor.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version",
            (list(streams),),
        )
        found: dict[Any, list[StoredRecord]] = {stream: [] for stream in streams}
        record = self.record
        for originator_id, version, topic, state in self.cursor.fetchall():
            found[originator_id].append(record(originator_id, version, topic, bytes(state)))
        return list(found.values())


class SQLiteRows:
    """Events of a SQLite ledger as plain rows through one cursor (see `ledger.sqlite_reads`)."""

    def __init__(self, cursor: Any, record: RecordMaker):
        self.cursor = cursor
        self.record = record

    def touched(self, start: int) -> tuple[list[Any], int]:
        """The streams (as 32 hex digits) with events after `start`, first touched first, and the last id."""
        return streams_after(self.cursor, start)

    def records_many(self, streams: list[Any]) -> list[list[StoredRecord]]:
        """`records` of each stream."""
        return [self.records(stream) for stream in streams]

    def records(self, stream: Any) -> list[StoredRecord]:
        """Every event of one stream, in record order."""
        record = self.record
        stream_id = stream if isinstance(stream, UUID) else UUID(hex=stream)
        return [record(stream_id, version, topic, state) for version, topic, state in stream_rows(self.cursor, hex_id(stream))]
