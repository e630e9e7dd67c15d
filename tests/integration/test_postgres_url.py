"""PostgreSQL locations: settings from the URL, and passwords never printed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledger.cli import cli
from ledger.storage import locate, mask_password


def test_a_url_becomes_the_librarys_postgres_settings() -> None:
    settings = locate("postgresql://ann:pw%40x@db.example:6543/ledger?schema=desk&connect_timeout=3").settings()
    assert settings["POSTGRES_USER"] == "ann"
    assert settings["POSTGRES_PASSWORD"] == "pw@x"
    assert (settings["POSTGRES_HOST"], settings["POSTGRES_PORT"]) == ("db.example", "6543")
    assert (settings["POSTGRES_DBNAME"], settings["POSTGRES_SCHEMA"]) == ("ledger", "desk")
    assert settings["POSTGRES_CONNECT_TIMEOUT"] == "3"


def test_the_password_is_masked_for_display() -> None:
    assert mask_password("postgresql://ann:s3cret@db/ledger") == "postgresql://ann:***@db/ledger"
    assert mask_password("postgresql://ann@db/ledger") == "postgresql://ann@db/ledger"


@pytest.mark.parametrize(
    "args", [("deals",), ("history", "openai-2026", "--json"), ("party", "nvidia"), ("append", "x", "talks-opened",
             "--source", "Reuters", "--reported", "2026-01-28", "--figure", "size=$1B")]
)  # fmt: skip
def test_an_unreachable_server_is_one_line_without_the_password(args: tuple[str, ...]) -> None:
    url = "postgresql://postgres:s3cr3tpw@127.0.0.1:1/test?connect_timeout=1"
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exit_code == 1
    assert "s3cr3tpw" not in result.output
    assert "postgres:***@127.0.0.1:1/test" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_init_creates_a_missing_schema_and_other_commands_say_to_run_it() -> None:
    import os
    import uuid

    import psycopg

    from tests.conftest import PG_URL, postgres_available

    problem = postgres_available()
    if problem and not os.environ.get("CI"):
        pytest.skip(problem)
    schema = f"test_new_{uuid.uuid4().hex[:10]}"
    url = f"{PG_URL}?schema={schema}"
    try:
        missing = CliRunner().invoke(cli, ["--db", url, "deals"])
        assert missing.exit_code == 1
        assert missing.stderr.endswith(f'schema "{schema}" does not exist (`ledger init` creates it)\n')
        created = CliRunner().invoke(cli, ["--db", url, "init"])
        assert created.exit_code == 0, created.output
        assert created.stderr == f"created the schema {schema!r}\n"
        again = CliRunner().invoke(cli, ["--db", url, "init"])
        assert again.exit_code == 0 and again.stderr == ""
        assert CliRunner().invoke(cli, ["--db", url, "deals", "--json"]).stdout.strip() == "[]"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
