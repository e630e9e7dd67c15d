"""A committed report survives a crash or power loss: the ledger's storage settings.

SQLite: a ledger the CLI created runs in WAL mode (a property of the file)
and every connection the ledger opens uses `synchronous=FULL` (a property of
each connection; in WAL mode NORMAL may lose the last transactions on power
loss). PostgreSQL: the ledger's connections commit synchronously.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import ExitStack
from typing import Any

import pytest

from tests.conftest import Backend

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def create_with_the_cli(backend: Backend) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "--db", backend.db, "append", "openai-2026", "talks-opened",
         "--source", "The Information", "--reported", "2026-01-28", "--figure", "size=up to $100B"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert backend.count_events() == 1


def test_a_ledger_the_cli_created_commits_durably(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.application import DealLedger
    from ledger.storage import locate

    create_with_the_cli(backend)
    # This machine's SQLite may default to FULL in WAL mode (SQLITE_DEFAULT_WAL_SYNCHRONOUS=2); many
    # builds default to NORMAL. Make every new connection start at NORMAL, so only the ledger setting
    # FULL on each connection it opens can pass.
    connect = sqlite3.connect

    def connect_normal(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_normal)
    app = DealLedger(env=locate(backend.db).settings())
    try:
        datastore = app.recorder.datastore
        if backend.name == "sqlite":
            with sqlite3.connect(backend.db) as connection:
                assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            # Readers and the writer, several at once, so the pool opens new connections.
            with ExitStack() as stack:
                connections = [
                    stack.enter_context(datastore.get_connection(commit=commit)) for commit in (False, False, True)
                ]
                assert len({id(c) for c in connections}) == 3
                modes = []
                for connection in connections:
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA synchronous")
                        modes.append(cursor.fetchone()[0])
                assert modes == [FULL, FULL, FULL]
                with connections[0].cursor() as cursor:
                    cursor.execute("PRAGMA journal_mode")
                    assert cursor.fetchone()[0] == "wal"
            # The read side's connections too: the reader catches up through the same datastore.
            from projections.catchup import Reader

            reader = Reader(app)
            reader.catch_up()
            with reader.index.datastore.get_connection(commit=False) as connection, connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] == FULL
        else:
            with datastore.get_connection() as connection:
                row = connection.execute("SHOW synchronous_commit").fetchone()
                assert row["synchronous_commit"] == "on"
                row = connection.execute("SHOW fsync").fetchone()
                assert row["fsync"] == "on"
    finally:
        app.close()


def test_the_mode_survives_reopening_and_a_second_writer(backend: Backend) -> None:
    """A second CLI process writing to the same file keeps WAL, and its report is stored."""
    create_with_the_cli(backend)
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "--db", backend.db, "append", "openai-2026", "amount-revised",
         "--source", "Reuters", "--reported", "2026-01-29", "--figure", "size=至多300亿美元"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert backend.count_events() == 2
    if backend.name == "sqlite":
        with sqlite3.connect(backend.db) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
