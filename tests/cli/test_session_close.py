"""Commands run in a process that goes on (CliRunner, a script calling `cli`) leave no connection open."""

from __future__ import annotations

import gc
import time

import psycopg
import pytest
from click.testing import CliRunner

from ledger.cli import cli
from tests.conftest import EXAMPLE, PG_URL, Backend

COMMANDS = (
    ("import", str(EXAMPLE)),  # the write side: the application and its pool
    ("deals",),  # a catch-up through the library, then the read models
    ("history", "openai-2026", "--json"),  # the quick reader's own connection
    ("rebuild", "--jobs", "1"),
    ("verify",),
    ("history", "no-such-deal"),  # refused: the error's traceback holds the command's frames
    ("history", "openai-2026", "--as-of", "someday"),  # unreadable: a connection begun, never read through
)
#: The exit code of each command that does not succeed.
FAILING = {"no-such-deal": 1, "someday": 2}


def open_connections(expected: int | None = None) -> int:
    """Client connections to the test database other than the one asking. A backend whose client
    has gone may linger a moment: given `expected`, waits up to 5 s for the count to reach it."""
    deadline = time.monotonic() + 5
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        while True:
            count = connection.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if expected is None or count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.05)


def test_every_command_closes_what_it_opened_without_the_garbage_collector(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("counts the server's connections")
    gc.collect()
    before = open_connections()
    gc.disable()  # a leak would stay: nothing left to the collector is closed by it
    try:
        results = []  # kept, as a caller may keep them (with their exceptions' tracebacks)
        for args in COMMANDS:
            results.append(CliRunner().invoke(cli, ["--db", backend.db, *args]))
            assert results[-1].exit_code == next((FAILING[a] for a in args if a in FAILING), 0), results[-1].output
            assert open_connections(before) == before, args
    finally:
        gc.enable()


def test_a_ledger_that_cannot_be_opened_leaves_no_connection_without_the_garbage_collector() -> None:
    """A missing schema fails the opening half-way, after the library's pool has connected."""
    import os

    from tests.conftest import postgres_available

    problem = postgres_available()
    if problem and not os.environ.get("CI"):
        pytest.skip(problem)
    gc.collect()
    before = open_connections()
    gc.disable()
    try:
        results = []
        for args in (("deals",), ("append", "x-1", "talks-opened", "--source", "A", "--reported", "2026-01-02")):
            results.append(CliRunner().invoke(cli, ["--db", f"{PG_URL}?schema=no_such_schema_here", *args]))
            assert results[-1].exit_code == 1 and "does not exist" in results[-1].stderr, results[-1].output
            assert open_connections(before) == before, args
    finally:
        gc.enable()
