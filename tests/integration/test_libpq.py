"""The ctypes libpq client of the quick PostgreSQL reads, on the real server: types, parameters, errors."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from ledger import libpq
from click.testing import CliRunner

from ledger.cli import cli
from ledger.pg_reads import NEEDED, PgQuickStore, connect_settings, numbered
from ledger.storage import postgres_settings
from projections.quick import QuickReader
from tests.conftest import EXAMPLE, PG_URL, fresh_postgres_schema, postgres_available

SETTINGS = postgres_settings(PG_URL)


@pytest.fixture
def connection() -> Iterator[libpq.Connection]:
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with libpq.connect(connect_settings(SETTINGS)) as connection:
        yield connection


def test_values_come_back_as_the_python_types_psycopg_gives(connection: libpq.Connection) -> None:
    names, rows = connection.execute(
        "SELECT 7::int2 AS small, -8::int4 AS int, 9007199254740993::int8 AS big, 26::oid AS oid, COUNT(*) AS n, "
        "true AS yes, false AS no, NULL::int AS none, '\\x00ff00'::bytea AS raw, '中文 ünï'::text AS text, "
        "'12345678901234567890.000123'::numeric AS numeric, 0.5::float8 AS float, ''::text AS empty, "
        "'a'::varchar AS varchar, '00000000-0000-0000-0000-00000000000a'::uuid AS uuid"
    )
    assert names == ["small", "int", "big", "oid", "n", "yes", "no", "none", "raw", "text", "numeric", "float",
                     "empty", "varchar", "uuid"]  # fmt: skip
    assert rows == [(7, -8, 9007199254740993, 26, 1, True, False, None, b"\x00\xff\x00", "中文 ünï",
                     Decimal("12345678901234567890.000123"), 0.5, "", "a",
                     "00000000-0000-0000-0000-00000000000a")]  # fmt: skip
    assert [type(value) for value in rows[0][:5]] == [int] * 5


def test_bytea_comes_back_whole_in_either_output_format(connection: libpq.Connection) -> None:
    every_byte = bytes(range(256)) * 3 + b"\x00\x00"
    for output in ("hex", "escape"):
        connection.execute(f"SET bytea_output = {output}")
        assert connection.execute("SELECT $1::bytea, ''::bytea", (every_byte,))[1] == [(every_byte, b"")]


def test_parameters_are_sent_as_text_none_as_null(connection: libpq.Connection) -> None:
    names, rows = connection.execute(
        "SELECT $1::text, $2::text IS NULL, $3::int8 + 1, $4::bool, $5::bool, $6::numeric, $7::text",
        ("中文 “quoted” 'single' \\ $1 ?", None, 2**40, True, False, Decimal("1.10"), "\uffff"),
    )
    assert rows == [("中文 “quoted” 'single' \\ $1 ?", True, 2**40 + 1, True, False, Decimal("1.10"), "\uffff")]
    assert connection.execute("SELECT $1::int", (None,))[1] == [(None,)]
    assert connection.execute("SELECT 1 WHERE false")[1] == []


def test_text_with_a_zero_byte_is_refused_not_cut(connection: libpq.Connection) -> None:
    with pytest.raises(libpq.LibpqError, match="NUL"):
        connection.execute("SELECT $1::text", ("a\x00b",))


def test_a_failing_statement_raises_the_servers_message_and_the_connection_goes_on(
    connection: libpq.Connection,
) -> None:
    with pytest.raises(libpq.LibpqError) as failed:
        connection.execute("SELECT * FROM no_such_table_here")
    assert str(failed.value) == 'relation "no_such_table_here" does not exist'
    assert failed.value.sqlstate == "42P01"
    with pytest.raises(libpq.LibpqError, match="invalid input syntax for type integer"):
        connection.execute("SELECT $1::int", ("twelve",))
    assert connection.execute("SELECT 1")[1] == [(1,)]


def test_a_closed_connection_refuses_statements_and_closes_once(connection: libpq.Connection) -> None:
    connection.close()
    connection.close()
    with pytest.raises(libpq.LibpqError, match="closed"):
        connection.execute("SELECT 1")


def test_a_connection_nobody_closes_ends_with_its_last_reference(connection: libpq.Connection) -> None:
    # As psycopg's: in-process commands (the tests' CliRunner) never close their reader's store.
    dropped = libpq.connect(connect_settings(SETTINGS))
    pid = dropped.execute("SELECT pg_backend_pid()")[1][0][0]
    del dropped
    deadline = time.monotonic() + 5
    while connection.execute("SELECT 1 FROM pg_stat_activity WHERE pid = $1", (pid,))[1]:
        assert time.monotonic() < deadline, "the server still has the connection"
        time.sleep(0.01)


def test_an_unused_port_is_one_line() -> None:
    with pytest.raises(libpq.LibpqError) as failed:
        libpq.connect({"host": "127.0.0.1", "port": "1", "dbname": "test", "user": None, "connect_timeout": "2"})
    message = str(failed.value)
    assert len(message.splitlines()) == 1 and message == message.strip()
    assert "127.0.0.1" in message and "port 1" in message


@pytest.mark.parametrize("where", ["bundled", "system"])
def test_libpq_is_found_without_psycopg_in_psycopg_binarys_copy_else_the_systems(
    connection: libpq.Connection, where: str
) -> None:
    bundled = list(libpq.bundled())
    assert bundled and all(os.sep + "psycopg_binary.libs" + os.sep in path for path in bundled)
    assert list(libpq.candidates()) == [*bundled, *libpq.NAMES]
    if where == "system":
        try:
            ctypes.CDLL("libpq.so.5")
        except OSError:
            pytest.skip("this system has no libpq of its own")
    hide = "libpq.bundled = lambda: iter(())  # as without psycopg-binary\n" if where == "system" else ""
    script = (
        "import sys\n"
        "from ledger import libpq\n"
        f"{hide}"
        "from ledger.pg_reads import connect_settings\n"
        "from ledger.storage import postgres_settings\n"
        f"with libpq.connect(connect_settings(postgres_settings({PG_URL!r}))) as connection:\n"
        "    assert connection.execute('SELECT $1::int', (5,))[1] == [(5,)]\n"
        "print(libpq.library()._name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_binary')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded, imported = done.stdout.strip().splitlines()
    assert loaded == (bundled[0] if where == "bundled" else "libpq.so.5") and imported == "[]"


def test_statements_get_numbered_marks() -> None:
    assert numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)") == "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"
    assert numbered("SELECT 1") == "SELECT 1"


def test_a_schema_without_the_ledger_tables_is_not_read_quickly(connection: libpq.Connection) -> None:
    with fresh_postgres_schema() as empty:
        connection.execute(f'CREATE TABLE "{empty.schema}".deal_index (deal TEXT)')
        settings = {**SETTINGS, "POSTGRES_SCHEMA": empty.schema}
        assert PgQuickStore.connect(settings, "here") is None
        assert QuickReader.open_postgres(settings, "here") is None


@pytest.mark.parametrize("missing", NEEDED)
def test_a_ledger_missing_any_table_of_a_quick_read_is_read_through_the_library(
    connection: libpq.Connection, missing: str
) -> None:
    with fresh_postgres_schema() as made:
        assert CliRunner().invoke(cli, ["--db", made.db, "import", str(EXAMPLE)]).exit_code == 0
        assert CliRunner().invoke(cli, ["--db", made.db, "deals"]).exit_code == 0  # read models made, caught up
        settings = {**SETTINGS, "POSTGRES_SCHEMA": made.schema}
        assert isinstance(QuickReader.open_postgres(settings, "here"), QuickReader)
        connection.execute(f'DROP TABLE "{made.schema}"."{missing}" CASCADE')
        assert QuickReader.open_postgres(settings, "here") is None


def test_a_connection_started_early_is_the_same_connection_when_finished(connection: libpq.Connection) -> None:
    started = libpq.start(connect_settings(SETTINGS))
    with started.finish() as finished:
        assert finished.execute("SELECT $1::int + 1", (1,))[1] == [(2,)]
        with pytest.raises(libpq.LibpqError, match="closed"):
            started.finish()  # handed over once


def test_a_started_connection_that_is_refused_or_unanswered_is_one_line() -> None:
    refused = libpq.start({"host": "127.0.0.1", "port": "1", "dbname": "test", "connect_timeout": "2"})
    with pytest.raises(libpq.LibpqError) as failed:
        refused.finish()
    assert "port 1" in str(failed.value) and len(str(failed.value).splitlines()) == 1
    # A listening socket that never answers: the wait ends at connect_timeout (libpq leaves it to us).
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = libpq.start({"host": "127.0.0.1", "port": str(port), "dbname": "test", "connect_timeout": "1"})
        began = time.monotonic()
        with pytest.raises(libpq.LibpqError, match="timeout expired"):
            started.finish()
        assert 0.9 < time.monotonic() - began < 10


def test_bad_keywords_fail_when_finished_in_one_line() -> None:
    started = libpq.start({"no_such_keyword": "x"})
    with pytest.raises(libpq.LibpqError) as failed:
        started.finish()
    assert "no_such_keyword" in str(failed.value)
