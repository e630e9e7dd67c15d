"""verify's read-model check: what it finds when the read models were changed, on one process and on workers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from bench.ledgers import dataset
from bench.synth import Spec
from ledger.application import DealLedger
from ledger.cli import Session, cli
from ledger.storage import locate
from projections.catchup import Reader
from tests.conftest import Backend

GHOST = "ghost-deal"


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic reports (English and Chinese, retractions) across 40 deals, as import lines."""
    return dataset(Spec(600, 40, 7), tmp_path_factory.mktemp("lines"))


def imported(db: str, lines: Path) -> Reader:
    """A reader of a ledger holding the lines, its read models caught up."""
    result = CliRunner().invoke(cli, ["--db", db, "import", str(lines)])
    assert result.exit_code == 0, result.output
    reader = Reader(DealLedger(env=locate(db).settings()))
    reader.catch_up()
    return reader


def tamper(reader: Reader) -> list[tuple[str, str]]:
    """Changes one deal's row, another deal's party rows, and adds a deal without events; returns
    what the check must find, in its order."""
    deals = [row["deal"] for row in reader.index.select("SELECT deal FROM {deal_index} ORDER BY deal")]
    counted, named = deals[3], deals[17]
    assert reader.index.select("SELECT COUNT(*) AS n FROM {party_index} WHERE deal = ? AND amount IS NOT NULL", (named,))[0]["n"]
    sql = reader.index.sql
    with reader.index.datastore.transaction(commit=True) as c:
        c.execute(sql("UPDATE {deal_index} SET reports = reports + 1 WHERE deal = ?"), (counted,))
        c.execute(sql("UPDATE {party_index} SET amount = NULL WHERE deal = ?"), (named,))
        c.execute(
            sql(
                "INSERT INTO {deal_index} SELECT ?, status, first_reported, last_reported, last_recorded, reports, "
                "retracted, sources, warnings, headline FROM {deal_index} WHERE deal = ?"
            ),
            (GHOST, counted),
        )
    return [
        ("", f"event_index names {len(deals)} deals, deal_index {len(deals) + 1}"),
        (counted, "deal_index row differs from the events"),
        (GHOST, f"its events cannot be read: unknown deal '{GHOST}'"),
        (named, "party_index rows differ from the events"),
    ]


def test_one_process_and_workers_find_the_same_changes_on_both_backends(lines: Path, backend: Backend) -> None:
    reader = imported(backend.db, lines)
    assert reader._events_at() is not None  # workers can read this ledger: jobs=2 runs on them
    assert reader.mismatches(jobs=1) == reader.mismatches(jobs=2) == []
    expected = sorted(tamper(reader))
    assert sorted(reader.mismatches(jobs=1)) == expected
    assert reader.mismatches(jobs=2) == reader.mismatches(jobs=1)
    reader.app.close()


def test_workers_tell_each_deal_checked(lines: Path, tmp_path: Path) -> None:
    reader = imported(str(tmp_path / "ledger.db"), lines)
    checked: list[int] = []
    assert reader.mismatches(checked.append, jobs=2) == []
    assert checked == [1] * 40
    reader.app.close()


def test_the_cli_verify_with_jobs_names_the_changed_deals_on_both_backends(lines: Path, backend: Backend) -> None:
    db = backend.db
    reader = imported(db, lines)
    expected = tamper(reader)
    reader.app.close()
    quick = Session(db).quick  # what `verify` reads with: workers can read this ledger too
    assert quick is not None and quick._events_at() is not None
    for jobs in ("1", "2"):
        result = CliRunner().invoke(cli, ["--db", db, "verify", "--jobs", jobs, "--json"])
        assert result.exit_code == 1, result.output
        problems = orjson.loads(result.stdout)["problems"]
        assert all(p["check"] == "read-models" for p in problems)
        assert sorted(p.get("deal") or "" for p in problems) == sorted(deal for deal, _ in expected)


def test_a_verify_with_jobs_over_8_is_refused_and_reads_nothing(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "verify", "--jobs", "9"])
    assert result.exit_code == 2
    assert "--jobs" in result.output and "Traceback" not in result.output
    assert not db.exists() or not sqlite3.connect(db).execute("SELECT name FROM sqlite_master").fetchall()


def test_a_worker_leaves_ctrl_c_to_the_verifying_process(lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker ignores it, and the
    verifying process, which stops the workers, decides."""
    import multiprocessing
    import os
    import signal

    from projections import parallel

    reader = imported(str(tmp_path / "ledger.db"), lines)
    slugs = [row["deal"] for row in reader.index.select("SELECT deal FROM {deal_index} ORDER BY deal")]
    monkeypatch.setattr(parallel, "REFOLD_DEALS", 4)
    results = parallel.refolded(reader._events_at(), slugs, 1)
    first = next(results)  # the one worker has started and folded a task
    [worker] = multiprocessing.active_children()
    os.kill(worker.pid, signal.SIGINT)
    try:
        got = [first, *results]
    except KeyboardInterrupt:
        pytest.fail("the worker took Ctrl-C and handed it back as its task's outcome")
    assert [slug for slug, _ in got] == slugs
    assert not [rows for _, rows in got if isinstance(rows, str)]
    reader.app.close()


def test_workers_stopped_early_leave_nothing_running(lines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from projections import parallel

    reader = imported(str(tmp_path / "ledger.db"), lines)
    slugs = [row["deal"] for row in reader.index.select("SELECT deal FROM {deal_index} ORDER BY deal")]
    monkeypatch.setattr(parallel, "REFOLD_DEALS", 1)
    results = parallel.refolded(reader._events_at(), slugs, 2)
    assert next(results)[0] == slugs[0]
    results.close()  # as when the comparing stops: Ctrl-C, or an error
    assert multiprocessing.active_children() == []
    reader.app.close()
