"""An import's lines read on several cores: each report prepared for storing off the importing process.

Reading a report (its JSON, its phrases, validation) and building the JSON it
is stored as is most of an import's work, and needs nothing from the ledger.
What does need the ledger (the report's place in its deal, duplicates,
retractions, event ids used elsewhere) is decided afterwards, in order, by the
importing process (`ledger.application.decide`). So the file is cut into
blocks of lines; worker processes turn each block into `Prepared` reports (the
few facts the rules need, and the stored JSON), and the importing process
takes the blocks back in file order. Retraction lines (a few) come back as
drafts. The first bad line stops the import, as it does when read in one process.

What crosses between processes is plain tuples and bytes: a validated draft
itself (pydantic models, Decimals, UUIDs) took longer to unpickle than to read.

Workers are forked (on Linux) before the ledger is opened: a forked worker
starts at once and holds no connection or thread of the parent. Elsewhere
they are spawned. A small import is read in the importing process, the same way.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from uuid import UUID

#: Lines a worker reads at a time.
BLOCK_LINES = 1000
#: Bytes of import below which starting workers costs more than it saves (about 1,500 reports).
PARALLEL_FROM_BYTES = 1_000_000


@dataclass(slots=True)
class Prepared:
    """A report read, checked and encoded off the importing process, not yet placed in its deal.

    `event_id` is the id the line gave (None if it gave none), as a draft has
    it; `new_id` is the id the event gets either way.
    """

    deal: str
    kind: str
    event_id: UUID | None
    new_id: UUID
    reported_day: date
    content_hash: str
    topic: str
    stored_json: bytes  # without the stream and version (see `PydanticMapper.plain_state`)

    def event(self, originator_id: UUID, version: int) -> PreparedEvent:
        """The event this report becomes at `version` of its deal's stream."""
        return PreparedEvent(originator_id, version, self.new_id, self.kind, self.deal, self.content_hash,
                             self.reported_day, self.topic, self.stored_json)  # fmt: skip


@dataclass(slots=True)
class PreparedEvent:
    """A prepared report placed in its deal: what the rules fold (`domain.apply`) and the store writes."""

    originator_id: UUID
    originator_version: int
    event_id: UUID
    kind: str
    deal: str
    content_hash: str
    reported_day: date
    topic: str
    stored_json: bytes


def default_jobs(size: int | None) -> int:
    """Worker processes an import of `size` bytes (None: a pipe) uses when not told: one per core,
    at most four, for a file of `PARALLEL_FROM_BYTES` or more; else none (1: read here)."""
    return min(os.cpu_count() or 1, 4) if size is not None and size >= PARALLEL_FROM_BYTES else 1


class Readers:
    """The lines of an import file, read by `jobs` worker processes, or here (`jobs` = 1).

    Start them before opening the ledger: the workers are forked (on Linux)
    and begin on the first blocks at once, while the ledger opens. `now` is
    the import's record time.
    """

    def __init__(
        self, file: IO[bytes], *, jobs: int, now: datetime, currency: str | None = None, recorded_by: str | None = None
    ):
        self.settings = (now, currency, recorded_by)
        self.blocks = _blocks(file)
        self.pool: Any = None
        self.pending: deque[tuple[Any, int]] = deque()
        #: The first block, prepared here by `check_first` when there are no workers.
        self.first: tuple[tuple[list[tuple[Any, ...]], Any], int] | None = None
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            import eventsourcing.utils  # noqa: F401 - what a worker needs, loaded once before forking
            import ledger.domain  # noqa: F401
            import ledger.importer  # noqa: F401

            method = "fork" if sys.platform == "linux" else "spawn"
            context = multiprocessing.get_context(method)
            self.pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_started)
            with _stopped_worker():
                # Blocks in flight: enough to keep every worker busy, from the start while the
                # ledger opens (on PostgreSQL, creating its tables takes a while); memory stays flat.
                for first, block in itertools.islice(self.blocks, 4 * jobs):
                    self.pending.append((self.pool.submit(_prepare_in_worker, first, block, *self.settings), len(block)))

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the workers; blocks not started yet are dropped."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def check_first(self) -> None:
        """Waits for the first block of lines and raises its error, if a line of it has one, as
        `lines` would: an import into a ledger that does not exist yet calls it before creating
        the ledger, so that a file that is not an import (another format, another encoding)
        leaves nothing behind."""
        if self.pool is None:
            if self.first is None:
                for first, block in itertools.islice(self.blocks, 1):
                    self.first = (prepare_block(first, block, *self.settings), len(block))
            done = self.first
        else:
            with _stopped_worker():
                done = (self.pending[0][0].result(), self.pending[0][1]) if self.pending else None
        if done is not None and done[0][1] is not None:
            _raise(done[0][1])

    def lines(self, advance: Callable[[int], None] | None = None) -> Iterator[tuple[str, Any]]:
        """(label, Prepared or RetractionDraft) for each line of the file, in order; `advance`
        is told the bytes of each block read.

        The first unreadable line raises `IntakeError`, and a report the rules
        refuse on its own (dated in the future, say) raises `DomainError`,
        naming its line.
        """
        if self.pool is None:
            if self.first is not None:
                yield from _taken(self.first, advance)
            for first, block in self.blocks:
                yield from _taken((prepare_block(first, block, *self.settings), len(block)), advance)
            return
        with _stopped_worker():
            while self.pending:
                future, size = self.pending.popleft()
                for first, block in itertools.islice(self.blocks, 1):
                    self.pending.append((self.pool.submit(_prepare_in_worker, first, block, *self.settings), len(block)))
                yield from _taken((future.result(), size), advance)


@contextmanager
def _stopped_worker() -> Iterator[None]:
    """A worker killed (out of memory, say) stops the import in one line."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool:
        from ledger.errors import StorageError

        raise StorageError("an import worker stopped unexpectedly; nothing was imported") from None


def _worker_started() -> None:
    """A worker leaves Ctrl-C to the importing process (which stops it). Its collector leaves
    alone the objects it was forked with (looking at them would copy every page), and runs
    after each block instead of every few hundred allocations (see `ledger.collector`)."""
    import gc
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    gc.disable()


def _prepare_in_worker(*block: Any) -> tuple[list[tuple[Any, ...]], Any]:
    import gc

    try:
        return prepare_block(*block)
    finally:
        gc.collect(1)


#: What some editors write at the start of a UTF-8 file: not part of its first line.
UTF8_BOM = b"\xef\xbb\xbf"


def _blocks(file: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, bytes) for each block of `BLOCK_LINES` lines of the file; a
    UTF-8 byte order mark at its very start is left out."""
    lines: list[bytes] = []
    first = 1
    for number, line in enumerate(file):
        if number == 0 and line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM) :]
        lines.append(line)
        if len(lines) == BLOCK_LINES:
            yield first, b"".join(lines)
            first += len(lines)
            lines = []
    if lines:
        yield first, b"".join(lines)


def _taken(done: tuple[tuple[list[tuple[Any, ...]], Any], int], advance: Callable[[int], None] | None) -> Iterator[tuple[str, Any]]:
    """A block's lines as (label, Prepared or draft), and its size in bytes; then its error, if a line had one."""
    (items, error), size = done
    for item in items:
        if len(item) == 2:  # (label, retraction draft)
            yield item
        else:
            label, deal, kind, given, new, day, content_hash, topic, stored_json = item
            given_id = None if given is None else UUID(int=given)
            yield label, Prepared(deal, kind, given_id, UUID(int=new), date.fromordinal(day), content_hash, topic, stored_json)
    if advance:
        advance(size)
    if error is not None:
        _raise(error)


def _raise(error: Any) -> None:
    """Raises a block's error as it came back: a `DomainError`, or an `IntakeError`'s (field, message)."""
    from ledger.errors import DomainError

    if isinstance(error, DomainError):
        raise error
    from events.intake import IntakeError

    raise IntakeError(*error)


def prepare_block(
    first: int, block: bytes, now: datetime, currency: str | None, recorded_by: str | None
) -> tuple[list[tuple[Any, ...]], Any]:
    """In a worker: the block's lines prepared, and the first line's error that stopped it, if any.

    A report becomes a plain tuple (see `_taken`); a retraction stays a draft.
    An error comes back as a value: a `DomainError` (it pickles), or an
    `IntakeError`'s (field, message).
    """
    from uuid import uuid4

    import orjson
    from eventsourcing.utils import get_topic

    from events.intake import Draft, IntakeError
    from events.reports import REPORT_KINDS, content_hash, report_state
    from ledger import domain
    from ledger.errors import DomainError
    from ledger.importer import iter_lines

    items: list[tuple[Any, ...]] = []
    try:
        for label, draft in iter_lines(io.BytesIO(block), currency=currency, recorded_by=recorded_by, start=first):
            if not isinstance(draft, Draft):
                items.append((label, draft))
                continue
            try:
                domain.check_report(draft, now)
            except DomainError as error:
                return items, type(error)(f"{label}: {error}")
            # The event `domain.record_report` would decide, as it is stored, without building it.
            event_id = draft.event_id or uuid4()
            state = report_state(draft, event_id, draft.recorded or now)
            given = None if draft.event_id is None else draft.event_id.int
            items.append((label, draft.deal, draft.kind, given, event_id.int, draft.reported_day.toordinal(),
                          content_hash(draft.kind, state), get_topic(REPORT_KINDS[draft.kind]),
                          orjson.dumps(state)))  # fmt: skip
    except IntakeError as error:
        return items, (error.field, error.message)
    return items, None
