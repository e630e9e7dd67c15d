"""Fixtures: a real ledger on SQLite (a file in tmp_path) and on PostgreSQL (a fresh schema).

PostgreSQL runs at 127.0.0.1:5432 (user postgres, trust auth, database test).
Locally, without a server, its tests skip; under CI=true a missing server fails.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import contextmanager
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the generated examples are the same on every run, so a landing cannot fail by the
# luck of the draw; locally they vary, to keep finding new cases.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_URL = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
EXAMPLE = Path(__file__).parents[1] / "examples" / "openai-xai-2026-01.jsonl"


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as error:  # noqa: BLE001
        return f"PostgreSQL at {PG_URL} is not reachable: {str(error).splitlines()[0]}"


class Backend:
    """A ledger location for tests, and a way to count what is stored there."""

    def __init__(self, name: str, db: str, schema: str | None = None):
        self.name = name
        self.db = db
        self.schema = schema

    def count_events(self) -> int:
        """Rows in the event store, read straight from the database."""
        if self.name == "sqlite":
            if not Path(self.db).exists():
                return 0
            with sqlite3.connect(self.db) as connection:
                tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
                if "stored_events" not in tables:
                    return 0
                return connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]
        import psycopg

        with psycopg.connect(PG_URL) as connection:
            row = connection.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".dealledger_events',)
            ).fetchone()
            if row[0] is None:
                return 0
            return connection.execute(f'SELECT COUNT(*) FROM "{self.schema}".dealledger_events').fetchone()[0]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The same test on a SQLite file and on a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "ledger.db"))
        return
    require_postgres()
    with fresh_postgres_schema() as backend:
        yield backend


@pytest.fixture
def postgres_backend() -> Iterator[Backend]:
    """A PostgreSQL schema of its own, for what only PostgreSQL does."""
    require_postgres()
    with fresh_postgres_schema() as backend:
        yield backend


def require_postgres() -> None:
    """Skips the test when no PostgreSQL server answers; under CI, fails it."""
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


@contextmanager
def fresh_postgres_schema() -> Iterator[Backend]:
    """A ledger location in a PostgreSQL schema of its own, dropped afterwards."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Backend("postgres", f"{PG_URL}?schema={schema}", schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Backend:
    return Backend("sqlite", str(tmp_path / "ledger.db"))


def with_stderr_on_a_terminal(args: list[str], stdout: Any, program: tuple[str, ...] = ("-m", "ledger")) -> tuple[int, bytes]:
    """Runs `python -m ledger ARGS` (or `python PROGRAM ARGS`) with stderr on a pseudo-terminal
    (where progress bars are drawn) and stdout to `stdout`; its exit code and everything it drew
    on the terminal. The terminal is read while the program runs: a bar redrawn for seconds
    fills a pseudo-terminal's buffer, and the program would wait for it to be read."""
    import pty
    import subprocess
    import sys
    import threading

    terminal, stderr = pty.openpty()
    env = {name: value for name, value in os.environ.items() if name != "CI"}  # CI turns bars off
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the other end is closed and all was read
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        done = subprocess.run([sys.executable, *program, *args], stdout=stdout, stderr=stderr, env=env, timeout=120)
    finally:
        os.close(stderr)
        reader.join(timeout=10)
        os.close(terminal)
    return done.returncode, b"".join(chunks)
