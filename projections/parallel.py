"""A rebuild on several cores: deals folded in worker processes, rows merged in SQL.

Decoding and folding a deal's events is pure Python and takes most of a
rebuild; one process uses one core. For a large unencrypted SQLite ledger a
rebuild splits its deals (in first-recorded order) into contiguous shares:
this process folds the first share straight into the read models, as a
serial rebuild does, while each worker process folds one of the other shares
into a scratch SQLite file. Once all are done, each scratch file is attached
and its rows copied with `INSERT … SELECT`, share after share, in the same
order a serial rebuild writes them, all inside the rebuild's one
transaction. The workers only read the ledger (the rebuild holds the write
lock, so no event can be added meanwhile); the scratch files live in a
private temporary directory, deleted at the end, whatever happens.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.errors import StorageError
from ledger.sqlite_reads import MMAP_SIZE, TABLES
from projections.index import CREATE, DEAL_COLUMNS, EVENT_COLUMNS, PARTY_COLUMNS, UNKEYED_EVENT_INDEX, UNKEYED_PARTY_INDEX

#: Events a ledger needs before a rebuild spreads over cores: starting a worker costs ~0.2 s.
PARALLEL_FROM_EVENTS = 50_000
#: The read models' tables and columns, in the order a share's rows are copied.
COPIED = (("deal_index", DEAL_COLUMNS), ("party_index", PARTY_COLUMNS), ("event_index", EVENT_COLUMNS))


class WorkerError(StorageError):
    """A worker process could not fold its share of the deals."""


def default_jobs(events: int) -> int:
    """Processes a rebuild of `events` uses when not told: one per core, one for a small ledger."""
    return min(os.cpu_count() or 1, 4) if events >= PARALLEL_FROM_EVENTS else 1


def shares(streams: list[Any], jobs: int) -> list[list[Any]]:
    """`streams` in `jobs` contiguous shares of (nearly) equal size, in order."""
    size, extra = divmod(len(streams), jobs)
    bounds = [i * size + min(i, extra) for i in range(jobs + 1)]
    return [streams[bounds[i] : bounds[i + 1]] for i in range(jobs)]


@contextmanager
def workers(ledger_path: str, parts: list[list[str]], done: Any) -> Iterator[Callable[[Callable[[], None]], list[Path]]]:
    """Starts one worker per share; the yielded function waits for them (calling `tick` now and then)
    and gives their files, in the order of `parts`."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="ledger-rebuild-") as scratch:
        files = [Path(scratch) / f"share-{i}.db" for i in range(len(parts))]
        errors = context.Queue()
        processes = [
            context.Process(target=fold_share, args=(ledger_path, part, str(path), done, errors), daemon=True)
            for part, path in zip(parts, files, strict=True)
        ]
        for process in processes:
            process.start()

        def wait(tick: Callable[[], None]) -> list[Path]:
            for process in processes:
                while process.is_alive():
                    process.join(0.1)
                    tick()
            tick()
            if not errors.empty():
                raise WorkerError(errors.get())
            failed = [p.exitcode for p in processes if p.exitcode != 0]
            if failed:
                raise WorkerError(f"a rebuild worker stopped with exit code {failed[0]}")
            return files

        try:
            yield wait
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                process.join()
            errors.close()
            errors.join_thread()


def fold_share(ledger_path: str, streams: list[str], out_path: str, done: Any, errors: Any) -> None:
    """In a worker: folds the deals of `streams` into the read-model tables of a new file at `out_path`."""
    try:
        from ledger.collector import collector_paused
        from projections.batches import folded
        from projections.sources import SQLiteRows, plain_record

        ledger = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
        ledger.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
        out = sqlite3.connect(out_path, isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536"):
            out.execute(f"PRAGMA {pragma}")
        for statement in (CREATE[0], UNKEYED_PARTY_INDEX, UNKEYED_EVENT_INDEX):
            out.execute(statement.format(**TABLES))
        out.execute("BEGIN")
        source = SQLiteRows(ledger.cursor(), plain_record)
        with collector_paused() as batch_done:
            for deals, parties, events in folded(source, streams):
                out.executemany(_insert("deal_index", DEAL_COLUMNS), list(deals.values()))
                out.executemany(_insert("party_index", PARTY_COLUMNS), [row for deal in deals for row in parties[deal]])
                out.executemany(_insert("event_index", EVENT_COLUMNS), events)
                batch_done()
                with done.get_lock():
                    done.value += len(deals)
        out.execute("COMMIT")
        out.close()
        ledger.close()
    except BaseException as error:  # noqa: BLE001 - the parent says it in one line
        from ledger.errors import LedgerError

        first = str(error).splitlines()[0] if str(error) else ""
        errors.put(first if isinstance(error, LedgerError) else f"a rebuild worker failed: {type(error).__name__}: {first}")
        raise SystemExit(1) from None


def copy_share(cursor: Any, path: Path, name: str) -> None:
    """Copies a worker's rows into the read models, inside the caller's transaction."""
    cursor.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
    for table, columns in COPIED:
        names = ", ".join(columns)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {name}.{table} ORDER BY rowid")


def detach(connection: sqlite3.Connection, names: list[str]) -> None:
    """Detaches copied shares once the transaction has ended (SQLite refuses it inside one)."""
    for name in names:
        try:
            connection.execute(f"DETACH DATABASE {name}")
        except sqlite3.Error:
            pass


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
