"""The read side of a ledger through one plain connection: no library, no pydantic.

A read command on a ledger without a key needs neither to write nor to
decrypt, so `QuickReader.open` reads a SQLite file with `sqlite3` alone
(`ledger.sqlite_reads.QuickStore`) and
`QuickReader.open_postgres` a PostgreSQL ledger with one libpq connection
(`ledger.pg_reads.PgQuickStore`, without psycopg): a `ledger history` then
imports little more than `ledger --version` does. A deal's events are read
from the events themselves; what reads the read models (`deals`, `party`,
finding an event) needs them caught up (`caught_up`). Otherwise (read models
behind, no ledger tables, a database it cannot read) the caller takes a
`Reader`, which catches up first and says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from events.stored import StoredRecord
from ledger.reading import NAME
from ledger.sqlite_reads import QuickStore
from projections.catchup import Reader
from projections.sealing import Sealer
from projections.sources import plain_record


class QuickReader(Reader):
    """A `Reader` that only reads, through a `QuickStore`; it cannot catch up or rebuild."""

    def __init__(self, store: QuickStore, errors: type[Exception] = Exception):
        self.store = store
        #: What the store raises when it cannot answer.
        self.errors = errors
        self._caught_up: bool | None = None
        self.index = store
        self.sealer = Sealer(None, None)
        self._mapper: Any = None

    @classmethod
    def open(cls, path: str, timeout: float) -> QuickReader | None:
        """The quick reader of a ledger file, or None."""
        import sqlite3

        return cls._over(lambda: QuickStore.open(path, timeout), sqlite3.Error)

    @classmethod
    def open_postgres(cls, settings: dict[str, str], display: str, started: Any | None = None) -> QuickReader | None:
        """The quick reader of a PostgreSQL ledger (`ledger.pg_reads`), or None
        (also where libpq cannot be loaded: the library's way then uses psycopg's);
        `started` is its connection begun by `PgQuickStore.start`."""
        from ledger.libpq import LibpqError
        from ledger.pg_reads import PgQuickStore

        return cls._over(lambda: PgQuickStore.connect(settings, display, started), LibpqError)

    @classmethod
    def _over(cls, opener: Callable[[], Any], errors: type[Exception]) -> QuickReader | None:
        """A quick reader over the store `opener` opens, or None when it cannot (the caller then
        takes a `Reader`, which says what is wrong)."""
        try:
            store = opener()
        except errors:
            return None
        if store is None:
            return None
        return cls(store, errors)

    def caught_up(self) -> bool:
        """Whether the read models hold every event recorded (asked once); one the store cannot
        answer is not. Only what reads the read models needs it: a deal's events are read
        from the events themselves (`deal_events`)."""
        if self._caught_up is None:
            try:
                self._caught_up = self.behind() == 0
            except self.errors:
                self._caught_up = False
        return self._caught_up

    def check_key(self) -> None:
        """Refuses, as `Reader.check_key` does, to read the read models of an encrypted ledger: its
        first stored event is not plain JSON, and reading it says so (`plain_record`)."""
        first = self.store.first_event()
        if first is not None:
            plain_record(*first)

    def position(self) -> int:
        return self.store.position(NAME)

    def behind(self) -> int:
        return self.store.behind(NAME)

    def catch_up(self, advance: Callable[[int], None] | None = None) -> int:
        if self.behind() > 0:
            raise RuntimeError("the read models are behind; catch up through a Reader")
        return 0

    def rebuild(self, advance: Callable[[int], None] | None = None) -> dict[str, int]:
        raise RuntimeError("a QuickReader only reads; rebuild through a Reader")

    def _records(self, stream: Any) -> list[StoredRecord]:
        stream_id = stream if isinstance(stream, UUID) else UUID(hex=stream)
        return [plain_record(stream_id, version, topic, state) for version, topic, state in self.store.stream(stream_id)]

    def _events_at(self) -> tuple[Any, ...] | None:
        """Where worker processes can read the events (`QuickStore.events_at`)."""
        return self.store.events_at()

    def _validated(self, stream: Any) -> list[Any]:
        from eventsourcing.persistence import StoredEvent

        to_domain_event = self._validating_mapper().to_domain_event
        return [to_domain_event(StoredEvent(stream, *row)) for row in self.store.stream(stream)]

    def _validating_mapper(self) -> Any:
        if self._mapper is None:
            from ledger.mapper import OrjsonTranscoder, PydanticMapper

            self._mapper = PydanticMapper(transcoder=OrjsonTranscoder())
        return self._mapper
