"""Read commands on a caught-up ledger read it through one plain connection (sqlite3, libpq) and print the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.application import DealLedger
from ledger.cli import Session, cli
from ledger.storage import locate
from projections.catchup import Reader
from projections.quick import QuickReader
from tests.conftest import EXAMPLE, PG_URL, Backend

DEALS = ("openai-2026", "xai-series-e-2026", "tesla-xai-2026", "xai-x-merger-2025")
READS = [
    *(("history", deal) for deal in DEALS),
    ("history", "openai-2026", "--party", "nvidia", "--as-of", "2026-01-28"),
    ("history", "openai-2026", "--figure", "size", "--known-at", "2026-12-31"),
    *(("show", deal) for deal in DEALS),
    *(("blame", deal) for deal in DEALS),
    ("diff", "openai-2026", "--from", "2026-01-01", "--to", "2026-02-01"),
    ("party", "nvidia"),
    ("deals",),
]


@pytest.fixture
def ledger_db(backend: Backend) -> str:
    db = backend.db
    assert CliRunner().invoke(cli, ["--db", db, "import", str(EXAMPLE)]).exit_code == 0
    assert CliRunner().invoke(cli, ["--db", db, "deals"]).exit_code == 0  # catches the read models up
    return db


def through(reader_of, db: str, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(Session, "_quick_reader", reader_of)
    outputs = []
    for as_json in ((), ("--json",)):
        result = CliRunner().invoke(cli, ["--db", db, *args, *as_json], env={"NO_COLOR": "1"})
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    return outputs


def test_every_read_prints_the_same_through_the_quick_reader_and_the_library(
    ledger_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = Session._quick_reader
    for args in READS:
        assert through(quick, ledger_db, args, monkeypatch) == through(lambda _: None, ledger_db, args, monkeypatch)


def test_a_caught_up_ledger_is_read_quickly_and_one_behind_through_the_library(ledger_db: str) -> None:
    assert isinstance(Session(ledger_db).reader, QuickReader)
    result = CliRunner().invoke(cli, ["--db", ledger_db, "append", "openai-2026", "amount-revised", "--source", "Reuters",
                                      "--reported", "2026-02-01", "--figure", "size=$101B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    reader = Session(ledger_db).reader
    assert type(reader) is Reader and reader.behind() == 0
    assert isinstance(Session(ledger_db).reader, QuickReader)


def test_a_deals_events_are_read_quickly_without_catching_up_the_read_models(ledger_db: str) -> None:
    result = CliRunner().invoke(cli, ["--db", ledger_db, "append", "openai-2026", "amount-revised", "--source", "Reuters",
                                      "--reported", "2026-02-01", "--figure", "size=$101B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    session = Session(ledger_db)
    try:
        events = session.deal_events("openai-2026")
        assert "reader" not in session.__dict__ and isinstance(session.quick, QuickReader)
        assert session.quick.behind() == 1  # still behind: nothing caught up
        assert events[-1].event_id == result.stdout.strip()  # the report just appended
        through_library = Session(ledger_db)
        try:
            library = Reader(through_library.store)
            assert [e.state for e in events] == [e.state for e in library.deal_events("openai-2026")]
        finally:
            through_library.close()
    finally:
        session.close()
    assert Session(ledger_db).quick.behind() == 1
    # What reads the read models catches them up first, through the library.
    reader = Session(ledger_db).reader
    assert type(reader) is Reader and reader.behind() == 0


def test_an_encrypted_ledger_is_read_through_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = CliRunner().invoke(cli, ["keygen"]).stdout.strip()
    monkeypatch.setenv("LEDGER_CIPHER_KEY", key)
    db = str(tmp_path / "secret.db")
    assert CliRunner().invoke(cli, ["--db", db, "import", str(EXAMPLE)]).exit_code == 0
    assert type(Session(db).reader) is Reader


def test_a_history_imports_neither_the_library_nor_pydantic_nor_psycopg(ledger_db: str, backend: Backend) -> None:
    # On PostgreSQL too: it reads through libpq itself (ledger.libpq), not psycopg, nor sqlite3.
    heavy = ("pydantic", "eventsourcing", "psycopg_pool", "psycopg", "psycopg_binary")
    heavy += ("sqlite3",) if backend.name == "postgres" else ()
    script = (
        "import sys\n"
        "from ledger.cli import Session, cli\n"
        "from projections.quick import QuickReader\n"
        f"assert isinstance(Session({ledger_db!r}).reader, QuickReader)\n"
        "try:\n"
        f"    cli(['--db', {ledger_db!r}, 'history', 'openai-2026', '--json'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_postgres_store_gives_the_rows_and_types_psycopg_gave(ledger_db: str, backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("PostgreSQL's plain-connection store")
    import psycopg
    from psycopg.rows import dict_row

    from ledger.pg_reads import PgQuickStore
    from ledger.streams import deal_id

    settings = locate(ledger_db).settings()
    store = PgQuickStore.connect(settings, ledger_db)
    assert store is not None
    event = store.select("SELECT event_id FROM {event_index} ORDER BY event_id LIMIT 1")[0]["event_id"]
    queries = [
        ("SELECT COUNT(*) AS n, COUNT(DISTINCT deal) AS d FROM {event_index}", ()),
        ("SELECT * FROM {deal_index} ORDER BY last_reported DESC, deal", ()),
        ("SELECT * FROM {deal_index} WHERE status = ? ORDER BY deal", ("closed",)),
        ("SELECT * FROM {party_index} WHERE party = ? ORDER BY deal, reported, recorded", ("nvidia",)),
        ("SELECT * FROM {event_index} WHERE event_id >= ? AND event_id < ? LIMIT 2", (event[:8], event[:8] + "\uffff")),
        ("SELECT event_id, deal FROM {event_index} WHERE event_id IN (?, ?)", (event, "none")),
    ]
    try:
        with psycopg.connect(PG_URL, autocommit=True, row_factory=dict_row) as connection:
            for statement, params in queries:
                expected = connection.execute(statement.format(**store.tables).replace("?", "%s"), params).fetchall()
                got = store.select(statement, params)
                assert got and got == expected, statement
                types = [[type(value) for value in row.values()] for row in (*got, *expected)]
                assert types[: len(got)] == types[len(got) :], statement
            stream = deal_id("openai-2026")
            expected_events = connection.execute(
                f"SELECT originator_version, topic, state FROM {store.events} WHERE originator_id = %s "
                "ORDER BY originator_version", (stream,),
            ).fetchall()  # fmt: skip
            assert store.stream(stream) == store.stream(stream.hex) == [tuple(row.values()) for row in expected_events]
            assert all(type(state) is bytes for _, _, state in store.stream(stream))
            last = connection.execute(f"SELECT MAX(notification_id) AS n FROM {store.events}").fetchone()["n"]
            assert store.position("DealLedger") == last > 0 and store.behind("DealLedger") == 0
    finally:
        store.close()


def test_an_event_of_an_older_class_version_is_upcast_on_the_quick_path(tmp_path: Path) -> None:
    from eventsourcing.utils import get_topic

    from tests.unit.test_upcasting import TalksOpenedV2

    db = str(tmp_path / "ledger.db")
    assert CliRunner().invoke(cli, ["--db", db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(db).settings())
    stream = app.recorder.select_events(app.deal_events("openai-2026")[0].originator_id)
    with app.recorder.datastore.transaction(commit=True) as c:
        c.execute("UPDATE stored_events SET topic = ? WHERE originator_id = ? AND originator_version = 1",
                  (get_topic(TalksOpenedV2), stream[0].originator_id.hex))  # fmt: skip
    Reader(app).catch_up()
    reader = Session(db).reader
    assert isinstance(reader, QuickReader)
    history = json.loads(CliRunner().invoke(cli, ["--db", db, "history", "openai-2026", "--json"]).stdout)
    assert [e.get("confidence") for e in history["events"] if e["version"] == 1] == ["unrated"]


def test_the_read_side_opens_the_ledger_with_the_write_sides_settings_and_stream_ids() -> None:
    from uuid import uuid5

    from ledger import domain, reading, streams

    assert reading.NAME == DealLedger.name
    assert reading.ENV.items() <= DealLedger.env.items()
    for slug in ("a", "openai-2026", "x" * 64, "deal-with-9-parts"):
        # Existing ledgers keep every deal under uuid5(NAMESPACE, slug): it must never change.
        assert streams.deal_id(slug) == domain.deal_id(slug) == uuid5(streams.NAMESPACE, slug)