"""The ledger opened for reading: the library's factory, recorder and mapper, no write side.

Read commands need no aggregate, repository or decisions, so they open the
store through the library's own factory with the same settings as
`ledger.application.DealLedger` (a test holds the two together) and never
import the write side's pydantic models.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

#: The application name: tracking records and PostgreSQL table names use it.
NAME = "DealLedger"
#: What `DealLedger.env` sets that reading depends on.
ENV = {
    "TRANSCODER_TOPIC": "ledger.mapper:OrjsonTranscoder",
    "MAPPER_TOPIC": "ledger.mapper:PydanticMapper",
}
#: How often opening is tried when other processes create the tables at the same time.
OPEN_RETRIES = 8
#: SQLSTATEs of concurrent DDL: internal error (tuple concurrently updated), unique
#: violation (pg_type), duplicate table, duplicate object.
DDL_RACES = {"XX000", "23505", "42P07", "42710"}


def open_recorder(construct: Callable[[], Any], close: Callable[[], None]) -> Any:
    """The library's recorder; on PostgreSQL constructing it (re)creates its tables and functions.

    Processes opening one PostgreSQL ledger at the same moment race on that
    DDL ("tuple concurrently updated", "duplicate key ... pg_type"): try again.
    If it cannot be opened, `close` closes the factory (its connection pool) at
    once: the half-made application is never returned, so nothing else would,
    but the garbage collector, on whatever thread (the pool's own, which cannot
    join itself).
    """
    import random
    import time

    from eventsourcing.persistence import PersistenceError

    try:
        for attempt in range(1, OPEN_RETRIES + 1):
            try:
                return construct()
            except PersistenceError as error:
                if attempt == OPEN_RETRIES or getattr(error.__cause__, "sqlstate", None) not in DDL_RACES:
                    raise
                time.sleep(random.uniform(0.05, 0.2) * attempt)
    except BaseException:
        close()
        raise
    raise AssertionError("unreachable")


class LedgerStore:
    """What the read side uses of an application: `name`, `env`, `factory`, `mapper`, `recorder`."""

    name = NAME

    def __init__(self, env: dict[str, str]):
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.utils import Environment

        self.env = Environment(NAME, {**ENV, **os.environ, **env})
        self.factory: Any = InfrastructureFactory.construct(self.env)
        self.mapper: Any = self.factory.mapper(transcoder=self.factory.transcoder())
        self.recorder: Any = self._recorder()

    def _recorder(self) -> Any:
        return open_recorder(self.factory.application_recorder, self.factory.close)

    def close(self) -> None:
        self.factory.close()


def check_key(store: Any) -> None:
    """Refuses, in one line (`ledger.mapper.CipherError`), a key that cannot read the ledger's
    events: none for an encrypted ledger, another one, or one for a ledger that has none.
    `store`: a `LedgerStore` or the application, checked once. It reads the first stored
    event (an empty ledger takes any key). Run before the read models are read (they are
    sealed with the same key: they would fail to open or find nothing) and before anything
    is written (an event sealed with another key, or left plain in an encrypted ledger,
    could not be read with the others)."""
    from ledger.mapper import CipherError

    if getattr(store, "key_checked", False):
        return
    first = store.recorder.select_notifications(start=1, limit=1)
    if first:
        event = first[0]
        try:
            store.mapper.decode_state(event.state, f"event {event.originator_id} version {event.originator_version}")
        except CipherError:
            if store.mapper.cipher and _plain_json(event.state):
                raise CipherError("the ledger's events are not encrypted: unset LEDGER_CIPHER_KEY to use it") from None
            raise
    store.key_checked = True


def _plain_json(state: bytes) -> bool:
    import orjson

    try:
        return isinstance(orjson.loads(state), dict)
    except orjson.JSONDecodeError:
        return False


def notifications(recorder: Any, start: int = 1, batch: int = 1000) -> Iterator[Any]:
    """The stored events from notification `start` on, in record order, `batch` per query."""
    while True:
        page = recorder.select_notifications(start=start, limit=batch)
        yield from page
        if len(page) < batch:
            return
        start = page[-1].id + 1


def all_records(store: Any, batch: int = 1000) -> Iterator[Any]:
    """Every event of the ledger (`store`: a `LedgerStore` or the application), in record order,
    as light records (`events.stored`): validated through pydantic only if not in today's shape."""
    to_record = store.mapper.to_record
    for notification in notifications(store.recorder, 1, batch):
        yield to_record(notification)
