"""A rebuild on several cores: deals folded in worker processes, rows merged in SQL.

Decoding and folding a deal's events is pure Python and takes most of a
rebuild; one process uses one core. For a large ledger without a key a
rebuild splits its deals (in first-recorded order) into contiguous chunks,
dealt to the worker processes in turn (`dealt`); each worker folds its chunks
one after another, each into a scratch SQLite file. The rebuilding process
folds nothing itself: it copies each chunk's rows as soon as the chunk is
complete (on SQLite it attaches the file and copies with `INSERT … SELECT`,
record by record; on PostgreSQL it reads the file and COPYs), in chunk order,
so the rows go in in the order a serial rebuild writes them, inside the
rebuild's one transaction, while the workers fold the next chunks. Dealt in
turn, the chunks complete about in the order they are copied: with one
contiguous share per worker, the second worker's chunks waited for the first
worker's last, and their copying ran past the folds (6 s of a 30 s PostgreSQL
rebuild). (Folding here too was measured slower on 2 cores: this process's
rows go through the ledger's WAL, the workers' to journal-less files, so its
chunks finished last and the copying waited for them.) The workers only read
the ledger's events (on their own connection); the chunks live in a private
temporary directory, deleted at the end, whatever happens.

A catch-up that refolds many deals (the first read after an import into a
large ledger: each deal it touches is folded again whole) folds them the same
way. Its chunks' rows then replace the rows of their deals in read models that
keep their keys and indexes (`replace_from_chunk`; on PostgreSQL through
`IndexWriter.write`).

Workers are started with `spawn`: a script that calls a rebuild with more
than one job must guard its top level with `if __name__ == "__main__":`
(the `ledger` command does).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.errors import StorageError
from ledger.sqlite_reads import MMAP_SIZE, TABLES
from projections.index import (
    CREATE, DEAL_COLUMNS, EVENT_COLUMNS, KNOWN_EVENT, PARTY_COLUMNS, UNKEYED_EVENT_INDEX, UNKEYED_PARTY_INDEX,
)

#: Events a ledger needs before a rebuild spreads over cores: starting a worker costs ~0.2 s.
PARALLEL_FROM_EVENTS = 50_000
#: Databases one SQLite connection can attach (SQLITE_MAX_ATTACHED); a transaction cannot detach them.
MAX_ATTACHED = 10
#: The read models' tables and columns, in the order a chunk's rows are copied.
COPIED = (("deal_index", DEAL_COLUMNS), ("party_index", PARTY_COLUMNS), ("event_index", EVENT_COLUMNS))


class WorkerError(StorageError):
    """A worker process could not fold its share of the deals."""


def default_jobs(events: int) -> int:
    """Processes a rebuild of `events` uses when not told: one per core, one for a small ledger."""
    return min(os.cpu_count() or 1, 4) if events >= PARALLEL_FROM_EVENTS else 1


def refold_size(touched: int, events: int, deals: int) -> int:
    """About how many events a catch-up that touches `touched` deals refolds: each of them whole,
    at the ledger's mean events a deal. An import of 1,000 reports into a ledger of a million
    events in 10,000 deals touches ~1,000 deals: ~100,000 events to fold again, for 1,000 new."""
    return touched * events // max(deals, 1)


def shares(streams: list[Any], jobs: int) -> list[list[Any]]:
    """`streams` in `jobs` contiguous shares of (nearly) equal size, in order."""
    size, extra = divmod(len(streams), jobs)
    bounds = [i * size + min(i, extra) for i in range(jobs + 1)]
    return [streams[bounds[i] : bounds[i + 1]] for i in range(jobs)]


def dealt(streams: list[Any], jobs: int) -> list[list[tuple[int, list[Any]]]]:
    """`streams` in contiguous chunks, numbered in order and dealt to `jobs` workers in turn.

    Worker w folds chunks w, w + jobs, …: the chunks complete in about the order they are
    copied, so copying keeps up with folding instead of waiting for one worker's every chunk
    while the other's pile up. As many chunks as SQLite can attach (`MAX_ATTACHED`).

    The last round of chunks (one per worker) is a third of the size of the others: only its
    copying is left once the workers are done, and the copy of the round before it still fits
    in the time the workers take to fold it (copying a chunk takes about a sixth of the time
    folding it does).
    """
    count = min(len(streams), max(jobs, MAX_ATTACHED - MAX_ATTACHED % jobs))
    full = count - jobs  # chunks of full size, before the last round
    cut = len(streams) * 3 * full // (3 * full + jobs)
    if full >= jobs and len(streams) - cut >= jobs:
        chunks = list(enumerate([*shares(streams[:cut], full), *shares(streams[cut:], jobs)]))
    else:  # too few chunks or streams for a smaller last round
        chunks = list(enumerate(shares(streams, count)))
    return [chunks[w::jobs] for w in range(jobs)]


class Workers:
    """Worker processes folding chunks of the deals into files; `chunks` gives the files in order as they complete."""

    def __init__(self, events_at: tuple[Any, ...], streams: list[Any], jobs: int, done: Any, scratch: Path):
        context = multiprocessing.get_context("spawn")
        hands = dealt(streams, jobs)
        path = {number: scratch / f"chunk-{number}.db" for hand in hands for number, _ in hand}
        #: Every chunk file, in chunk order: the order they are copied in.
        self.files = [path[number] for number in sorted(path)]
        self.ready = context.Queue()
        self.errors = context.Queue()
        self.processes = [
            context.Process(
                target=fold_share,
                args=(events_at, [(str(path[n]), chunk) for n, chunk in hand], done, self.ready, self.errors),
                daemon=True,
            )
            for hand in hands
        ]  # fmt: skip
        for process in self.processes:
            process.start()

    def chunks(self, tick: Callable[[], None]) -> Iterator[Path]:
        """Each chunk file, in order, once its worker has closed it; `tick` runs while waiting."""
        complete: set[str] = set()
        for path in self.files:
            while str(path) not in complete:
                try:
                    complete.add(self.ready.get(timeout=0.1))
                except queue.Empty:
                    tick()
                    for worker in self.processes:
                        if worker.exitcode not in (None, 0):
                            self._failed(worker)
            tick()
            yield path
        for worker in self.processes:
            worker.join()
            if worker.exitcode != 0:
                self._failed(worker)

    def _failed(self, worker: Any) -> None:
        worker.join()
        try:
            message = self.errors.get(timeout=1)
        except queue.Empty:
            message = f"a rebuild worker stopped with exit code {worker.exitcode}"
        raise WorkerError(message)

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for q in (self.ready, self.errors):
            q.close()
            q.join_thread()


@contextmanager
def workers(events_at: tuple[Any, ...], streams: list[Any], jobs: int, done: Any) -> Iterator[Workers]:
    """`jobs` workers folding `streams` (see `dealt`), with a private scratch directory; stopped
    and removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="ledger-rebuild-") as scratch:
        started = Workers(events_at, streams, jobs, done, Path(scratch))
        try:
            yield started
        finally:
            started.stop()


def fold_share(events_at: tuple[Any, ...], hand: list[tuple[str, list[Any]]], done: Any, ready: Any, errors: Any) -> None:
    """In a worker: folds each (file, streams) of its hand into the read-model tables of that file."""
    try:
        from ledger.collector import collector_paused
        from projections.batches import folded

        ledger, source = _events(events_at)
        with collector_paused() as batch_done:
            for path, chunk in hand:
                out = sqlite3.connect(path, isolation_level=None)
                for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536"):
                    out.execute(f"PRAGMA {pragma}")
                for statement in (CREATE[0], UNKEYED_PARTY_INDEX, UNKEYED_EVENT_INDEX):
                    out.execute(statement.format(**TABLES))
                out.execute("BEGIN")
                for deals, parties, events in folded(source, chunk):
                    out.executemany(_insert("deal_index", DEAL_COLUMNS), list(deals.values()))
                    out.executemany(_insert("party_index", PARTY_COLUMNS), [r for deal in deals for r in parties[deal]])
                    out.executemany(_insert("event_index", EVENT_COLUMNS), events)
                    batch_done()
                    with done.get_lock():
                        done.value += len(deals)
                out.execute("COMMIT")
                out.close()
                ready.put(path)
        ledger.close()
    except BaseException as error:  # noqa: BLE001 - the parent says it in one line
        from ledger.errors import LedgerError

        first = str(error).splitlines()[0] if str(error) else ""
        errors.put(first if isinstance(error, LedgerError) else f"a rebuild worker failed: {type(error).__name__}: {first}")
        raise SystemExit(1) from None


def _events(events_at: tuple[Any, ...], record: Any = None) -> tuple[Any, Any]:
    """A read-only connection to the ledger's events and a plain-row source on it, making
    each event with `record` (default: a light record)."""
    from projections.sources import PostgresRows, SQLiteRows, plain_record

    record = record or plain_record
    if events_at[0] == "sqlite":
        ledger = sqlite3.connect(f"file:{events_at[1]}?mode=ro", uri=True)
        ledger.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
        return ledger, SQLiteRows(ledger.cursor(), record)
    import psycopg

    ledger = psycopg.connect(**events_at[1])
    ledger.read_only = True
    return ledger, PostgresRows(ledger.cursor(), events_at[2], record)


#: Deals a verify worker refolds per task: small enough that the first results come soon.
REFOLD_DEALS = 100


def refolded(events_at: tuple[Any, ...], slugs: list[str], jobs: int) -> Iterator[tuple[str, Any]]:
    """`rows.refold` of each deal, in order, on `jobs` worker processes reading the ledger at
    `events_at` (see `projections.catchup.Reader.mismatches`).

    Each worker validates the deals' events through pydantic, as `verify` does in one process:
    that is most of a verify's time on a large ledger. The results come back in order as the
    workers finish them, while this process compares them with the read models. The workers
    are spawned, as a rebuild's are: a script that calls this guards its top level.
    """
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    tasks = [slugs[start : start + REFOLD_DEALS] for start in range(0, len(slugs), REFOLD_DEALS)]
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_open_validated, initargs=(events_at,))
    try:
        for results in pool.map(_refold_task, tasks):
            yield from results
    except BrokenProcessPool:
        raise WorkerError("a verify worker stopped unexpectedly") from None
    finally:
        # Stopped early (Ctrl-C, an error): the tasks not begun are dropped, not run to the end.
        pool.shutdown(wait=True, cancel_futures=True)


#: In a verify worker: its source of validated events (`_open_validated`).
_validated_source: Any = None


def _open_validated(events_at: tuple[Any, ...]) -> None:
    """In a verify worker: opens the ledger read-only, with events validated as the write side's
    models. Ctrl-C is left to the verifying process, which stops the workers."""
    global _validated_source
    import signal

    from eventsourcing.persistence import StoredEvent

    from ledger.mapper import OrjsonTranscoder, PydanticMapper

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    to_domain_event = PydanticMapper(transcoder=OrjsonTranscoder()).to_domain_event
    _, _validated_source = _events(events_at, lambda *stored: to_domain_event(StoredEvent(*stored)))


def _refold_task(slugs: list[str]) -> list[tuple[str, Any]]:
    from projections.rows import refold

    return [(slug, refold(_validated_source.records, slug)) for slug in slugs]


def chunk_rows(path: Path) -> Iterator[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    """(table, columns, rows) of a chunk, a block of rows at a time, in the order they were written."""
    chunk = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table, columns in COPIED:
            cursor = chunk.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
            while rows := cursor.fetchmany(50_000):
                yield table, columns, rows
    finally:
        chunk.close()


def chunk_folds(path: Path) -> tuple[dict[str, tuple[Any, ...]], dict[str, list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """A chunk's rows as `IndexWriter.write` takes them: deal rows by deal, party rows by deal,
    event rows."""
    deals: dict[str, tuple[Any, ...]] = {}
    parties: dict[str, list[tuple[Any, ...]]] = {}
    events: list[tuple[Any, ...]] = []
    for table, _, rows in chunk_rows(path):
        if table == "deal_index":
            deals.update((row[0], row) for row in rows)
        elif table == "party_index":
            for row in rows:
                parties.setdefault(row[1], []).append(row)
        else:
            events += rows
    return deals, parties, events


def copy_chunk(cursor: Any, path: Path, name: str) -> None:
    """Copies a chunk's rows into the read models, inside the caller's transaction.

    A rebuild makes party_index and event_index again, without indexes, by the statements that
    made the chunk's, so `INSERT INTO t SELECT * FROM chunk.t` (no column list, no ORDER BY) is
    SQLite's transfer optimisation: each row's record is copied as it is, in rowid order, without
    decoding its columns. deal_index (kept, with its key; a few rows) is copied column by column.
    """
    cursor.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
    for table, columns in COPIED:
        if table == "deal_index":
            names = ", ".join(columns)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {name}.{table} ORDER BY rowid")
        else:
            cursor.execute(f"INSERT INTO {table} SELECT * FROM {name}.{table}")


def replace_from_chunk(cursor: Any, path: Path, name: str) -> None:
    """A catch-up's `copy_chunk`: the chunk's deals' rows replace theirs in read models that keep
    their keys and indexes; an event already indexed keeps its row (`KNOWN_EVENT`). In SQL, from
    the attached file: reading the rows into Python and writing them back took twice as long."""
    cursor.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
    chunk_deals = f"SELECT deal FROM {name}.deal_index"
    for table, columns in COPIED:
        names = ", ".join(columns)
        if table != "event_index":
            cursor.execute(f"DELETE FROM {table} WHERE deal IN ({chunk_deals})")
        # `WHERE true`: SQLite's parser needs a WHERE before an upsert's ON CONFLICT after a SELECT.
        conflict = KNOWN_EVENT if table == "event_index" else ""
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {name}.{table} WHERE true ORDER BY rowid {conflict}")


def detach(attached: list[tuple[sqlite3.Connection, str]]) -> None:
    """Detaches copied chunks, (connection, name) each, once the transaction has ended (SQLite
    refuses it inside one)."""
    for connection, name in attached:
        try:
            connection.execute(f"DETACH DATABASE {name}")
        except sqlite3.Error:
            pass


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
