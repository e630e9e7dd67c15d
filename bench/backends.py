"""Where the benchmark's ledgers live, and the raw baselines on the same engine.

Two backends with one interface:
- `SQLite`: ledgers are files; cached ones in the cache folder
  (`sqlite-<events>-<deals>-s<seed>-g<generator>.db` with a `.json` note of how
  far the build got), scratch ones in `<cache>/scratch/`, on the same disk.
- `Postgres`: ledgers are schemas of a dedicated database (`deal_ledger_bench`,
  created with psycopg if absent) on the given server; cached ones are named
  after the parameters (`ledger_<events>_<deals>_s<seed>_g<generator>`), with
  their build notes in `bench_cache.ledgers`.

The baselines are deliberately plain and fair: `raw_insert` puts the very
bytes `ledger import` reads into a table `(stream, version, topic, state)`
with a unique `(stream, version)` index, with one `executemany` in one
transaction, on the same engine and disk (SQLite in WAL mode with
synchronous=FULL, as the ledger opens its file; PostgreSQL through psycopg,
as the library does). `read_all` reads every stored event of a ledger in record order and
decodes its JSON with orjson, which is the least any rebuild must do.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

Row = tuple[str, int, str, bytes]
#: What `read_all` reads of each event: its state, or (`whole`) all a stored event has.
READ_COLUMNS = {False: "state", True: "originator_id, originator_version, topic, state"}
RAW_TABLE = (
    "CREATE TABLE raw_events (stream TEXT NOT NULL, version INTEGER NOT NULL, topic TEXT NOT NULL, state {blob} NOT NULL)",
    "CREATE UNIQUE INDEX raw_events_stream_version ON raw_events (stream, version)",
)
#: Rows fetched per round trip when reading a whole ledger (catch-up reads 5000).
READ_BATCH = 5000


class SQLite:
    """Ledgers in SQLite files."""

    name = "sqlite"

    def __init__(self, cache: Path):
        self.cache = cache
        self.scratch = cache / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (WAL), files in {self.cache}"

    def location(self, key: str) -> str:
        return str(self.cache / f"sqlite-{key}.db")

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A new empty ledger location, removed afterwards (unless adopted)."""
        folder = Path(tempfile.mkdtemp(dir=self.scratch, prefix=f"ledger-{os.getpid()}-"))
        try:
            yield str(folder / "ledger.db")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def clean_scratch(self) -> None:
        """Removes what interrupted runs left in the scratch folder."""
        for entry in self.scratch.glob("ledger-*-*"):
            if not _alive(entry.name.split("-")[1]):
                shutil.rmtree(entry, ignore_errors=True)

    def state(self, key: str) -> dict[str, Any] | None:
        """How far the cached ledger `key` was built, or None if it was never started."""
        note = Path(self.location(key) + ".json")
        if not note.exists() or not Path(self.location(key)).exists():
            return None
        return json.loads(note.read_text())

    def set_state(self, key: str, state: dict[str, Any]) -> None:
        note = Path(self.location(key) + ".json")
        part = note.with_suffix(".part")
        part.write_text(json.dumps(state))
        os.replace(part, note)

    def create(self, key: str) -> None:
        """Nothing to do: `ledger` creates the file on first use."""

    def adopt(self, location: str, key: str) -> None:
        """Makes a scratch ledger the cached ledger `key`."""
        self.drop(key)
        for suffix in ("", "-wal", "-shm"):
            if Path(location + suffix).exists():
                os.replace(location + suffix, self.location(key) + suffix)

    def drop(self, key: str) -> None:
        for suffix in ("", "-wal", "-shm", ".json"):
            Path(self.location(key) + suffix).unlink(missing_ok=True)

    def count_events(self, location: str) -> int:
        if not Path(location).exists():
            return 0
        with sqlite3.connect(location) as connection:
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            if "stored_events" not in tables:
                return 0
            return connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]

    def raw_insert(self, rows: Sequence[Row]) -> float:
        """Seconds to store the rows raw: connect, create, one executemany, commit."""
        with self.fresh() as location:
            start = time.perf_counter()
            connection = sqlite3.connect(location, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")  # as the ledger opens its file
            connection.execute("PRAGMA synchronous=FULL")
            for statement in RAW_TABLE:
                connection.execute(statement.format(blob="BLOB"))
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO raw_events VALUES (?, ?, ?, ?)", rows)
            connection.execute("COMMIT")
            connection.close()
            seconds = time.perf_counter() - start
            stored = sqlite3.connect(location).execute("SELECT COUNT(*) FROM raw_events").fetchone()[0]
        if stored != len(rows):
            raise RuntimeError(f"raw insert stored {stored} rows of {len(rows)}")
        return seconds

    def read_all(self, location: str, each: Callable[[bytes], Any] = orjson.loads, whole: bool = False) -> tuple[int, float]:
        """(events, seconds) to read every stored event in record order and decode its JSON (or do
        `each` to its stored bytes); `whole` reads each event's id, version and topic too."""
        start = time.perf_counter()
        connection = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
        cursor = connection.execute(f"SELECT {READ_COLUMNS[whole]} FROM stored_events ORDER BY rowid")
        events = 0
        loads = each
        while batch := cursor.fetchmany(READ_BATCH):
            for row in batch:
                loads(row[-1])
            events += len(batch)
        connection.close()
        return events, time.perf_counter() - start


class Postgres:
    """Ledgers in schemas of a dedicated database on a PostgreSQL server."""

    name = "postgres"
    DATABASE = "deal_ledger_bench"

    def __init__(self, url: str, cache: Path):
        self.admin_url = url
        self.url = _with_database(url, self.DATABASE)
        self.scratch = cache / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._numbers = count(1)
        self._ready = False

    def describe(self) -> str:
        version = self._one("SHOW server_version")
        return f"PostgreSQL {version}, database {self.DATABASE} at {urlsplit(self.url).hostname}"

    def problem(self) -> str | None:
        """None when the server answers, else why not."""
        try:
            self._prepare()
            return None
        except Exception as error:  # noqa: BLE001 - any failure means "not available"
            return f"PostgreSQL at {self.admin_url} is not usable: {str(error).splitlines()[0] if str(error) else error!r}"

    def _prepare(self) -> None:
        if self._ready:
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.DATABASE,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{self.DATABASE}"')
        with self._connect() as connection:
            connection.execute("CREATE SCHEMA IF NOT EXISTS bench_cache")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS bench_cache.ledgers (key TEXT PRIMARY KEY, state JSONB NOT NULL)"
            )
        self._ready = True

    def _connect(self, autocommit: bool = True) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._prepare()
        with self._connect() as connection:
            row = connection.execute(sql, params).fetchone()
            return row[0] if row else None

    @staticmethod
    def schema(key: str) -> str:
        return "ledger_" + key.replace("-", "_")

    def location(self, key: str) -> str:
        return f"{self.url}?schema={self.schema(key)}"

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A new empty schema, dropped afterwards (unless adopted)."""
        self._prepare()
        schema = f"scratch_{os.getpid()}_{next(self._numbers)}"
        with self._connect() as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{self.url}?schema={schema}"
        finally:
            with self._connect() as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def clean_scratch(self) -> None:
        """Drops the scratch schemas that interrupted runs left behind."""
        self._prepare()
        with self._connect() as connection:
            names = [r[0] for r in connection.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'scratch\\_%'")]
            for name in names:
                if not _alive(name.split("_")[1]):
                    connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def state(self, key: str) -> dict[str, Any] | None:
        self._prepare()
        if not self._one("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema(key),)):
            return None
        return self._one("SELECT state FROM bench_cache.ledgers WHERE key = %s", (key,))

    def set_state(self, key: str, state: dict[str, Any]) -> None:
        self._prepare()
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO bench_cache.ledgers (key, state) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state",
                (key, json.dumps(state)),
            )

    def create(self, key: str) -> None:
        """Creates the (empty) schema of the cached ledger `key`."""
        self._prepare()
        with self._connect() as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema(key)}"')

    def adopt(self, location: str, key: str) -> None:
        schema = location.rsplit("?schema=", 1)[1]
        self.drop(key)
        with self._connect() as connection:
            connection.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{self.schema(key)}"')

    def drop(self, key: str) -> None:
        self._prepare()
        with self._connect() as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema(key)}" CASCADE')
            connection.execute("DELETE FROM bench_cache.ledgers WHERE key = %s", (key,))

    def count_events(self, location: str) -> int:
        schema = location.rsplit("?schema=", 1)[1]
        if not self._one("SELECT to_regclass(%s)", (f'"{schema}".dealledger_events',)):
            return 0
        return self._one(f'SELECT COUNT(*) FROM "{schema}".dealledger_events')

    def raw_insert(self, rows: Sequence[Row]) -> float:
        """Seconds to store the rows raw: connect, create, one executemany, commit."""
        with self.fresh() as location:
            schema = location.rsplit("?schema=", 1)[1]
            start = time.perf_counter()
            with self._connect(autocommit=False) as connection:
                connection.execute(f'SET search_path TO "{schema}"')
                for statement in RAW_TABLE:
                    connection.execute(statement.format(blob="BYTEA"))
                with connection.cursor() as cursor:
                    cursor.executemany("INSERT INTO raw_events VALUES (%s, %s, %s, %s)", rows)
                connection.commit()
            seconds = time.perf_counter() - start
            stored = self._one(f'SELECT COUNT(*) FROM "{schema}".raw_events')
        if stored != len(rows):
            raise RuntimeError(f"raw insert stored {stored} rows of {len(rows)}")
        return seconds

    def read_all(self, location: str, each: Callable[[bytes], Any] = orjson.loads, whole: bool = False) -> tuple[int, float]:
        """(events, seconds) to read every stored event in record order and decode its JSON (or do
        `each` to its stored bytes); `whole` reads each event's id, version and topic too."""
        schema = location.rsplit("?schema=", 1)[1]
        start = time.perf_counter()
        events = 0
        loads = each
        with self._connect(autocommit=False) as connection:
            with connection.cursor(name="read_all") as cursor:
                cursor.itersize = READ_BATCH
                cursor.execute(f'SELECT {READ_COLUMNS[whole]} FROM "{schema}".dealledger_events ORDER BY notification_id')
                while batch := cursor.fetchmany(READ_BATCH):
                    for row in batch:
                        loads(row[-1])
                    events += len(batch)
        return events, time.perf_counter() - start


def _alive(pid: str) -> bool:
    """Whether the process `pid` (a run that made a scratch ledger) still runs."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}", query=""))
