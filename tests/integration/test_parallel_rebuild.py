"""A rebuild spread over worker processes gives exactly the read models of a one-process rebuild."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from bench.ledgers import dataset
from bench.synth import Spec
from ledger.application import DealLedger
from ledger.cli import cli
from ledger.storage import locate
from projections.catchup import Reader
from projections.parallel import MAX_ATTACHED, dealt, default_jobs, refold_size, shares
from tests.conftest import Backend
from tests.integration.test_rebuild import TABLES, contents


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic reports (English and Chinese, retractions) across 40 deals, as import lines."""
    return dataset(Spec(600, 40, 7), tmp_path_factory.mktemp("lines"))


@pytest.fixture(scope="module")
def ledger_file(lines: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger of those reports, its read models caught up."""
    db = tmp_path_factory.mktemp("parallel") / "ledger.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "import", str(lines)])
    assert result.exit_code == 0, result.output
    caught_up = CliRunner().invoke(cli, ["--db", str(db), "deals", "--json"])  # a read catches the read models up
    assert caught_up.exit_code == 0, caught_up.output
    return db


def copy_of(ledger: Path, db: Path) -> Path:
    """A copy of the ledger file at `db`."""
    with sqlite3.connect(ledger) as source, sqlite3.connect(db) as target:
        source.backup(target)
    return db


def rows_in_order(db: Path) -> dict[str, list[tuple]]:
    """Every read-model row in the order it was written (rowid), as a serial rebuild writes them."""
    with sqlite3.connect(db) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_workers_give_the_rows_one_process_gives_in_the_same_order(ledger_file: Path, tmp_path: Path, jobs: int) -> None:
    serial, parallel = copy_of(ledger_file, tmp_path / "serial.db"), copy_of(ledger_file, tmp_path / "parallel.db")
    results = {}
    for db, n in ((serial, 1), (parallel, jobs)):
        app = DealLedger(env=locate(str(db)).settings())
        results[n] = Reader(app).rebuild(jobs=n)
        app.close()
    assert results[1] == results[jobs]
    assert results[1]["event_index"] == 600 and results[1]["deal_index"] == 40
    assert rows_in_order(parallel) == rows_in_order(serial)


def test_workers_give_what_one_process_gives_on_both_backends(lines: Path, backend: Backend) -> None:
    result = CliRunner().invoke(cli, ["--db", backend.db, "import", str(lines)])
    assert result.exit_code == 0, result.output
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.rebuild(jobs=1)
    serial = contents(reader)
    assert reader.rebuild(jobs=2) == {"deal_index": 40, "party_index": len(serial["party_index"]), "event_index": 600}
    assert contents(reader) == serial
    assert reader.mismatches() == []
    app.close()


def test_a_parallel_rebuild_then_a_catch_up_equal_a_catch_up_from_nothing(ledger_file: Path, tmp_path: Path) -> None:
    db = copy_of(ledger_file, tmp_path / "ledger.db")
    app = DealLedger(env=locate(str(db)).settings())
    reader = Reader(app)
    reader.catch_up()
    before = contents(reader)
    assert before["event_index"]
    reader.rebuild(jobs=2)
    assert contents(reader) == before
    result = CliRunner().invoke(cli, ["--db", str(db), "append", "orbit-bio-series-a-1", "amount-revised", "--source",
                                      "Reuters", "--reported", "2026-02-01", "--party", "nvidia=$31B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    reader.catch_up()
    assert reader.mismatches() == []
    app.close()


def test_the_cli_rebuilds_with_jobs_and_leaves_no_scratch_files(ledger_file: Path, tmp_path: Path) -> None:
    db = copy_of(ledger_file, tmp_path / "ledger.db")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-m", "ledger", "--db", str(db), "rebuild", "--jobs", "2", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"event_index": 600' in done.stdout
    assert list(scratch.iterdir()) == []


def test_a_failing_worker_says_what_one_process_says_and_the_read_models_stay(ledger_file: Path, tmp_path: Path) -> None:
    db = copy_of(ledger_file, tmp_path / "ledger.db")
    before = rows_in_order(db)
    assert all(before.values())
    with sqlite3.connect(db) as connection:
        # The last deal recorded is in the last worker's share: make one of its events unreadable.
        (stream,) = connection.execute(
            "SELECT originator_id FROM stored_events GROUP BY originator_id ORDER BY MIN(rowid) DESC LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE stored_events SET state = X'00ff' WHERE originator_id = ? AND originator_version = 1",
                           (stream,))  # fmt: skip
    runs = {
        jobs: subprocess.run([sys.executable, "-m", "ledger", "--db", str(db), "rebuild", "--jobs", str(jobs)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        for jobs in (1, 2)
    }
    for done in runs.values():
        assert done.returncode == 1, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert "it is corrupt" in done.stderr
        assert rows_in_order(db) == before
    assert runs[2].stderr == runs[1].stderr


def test_jobs_outside_1_to_8_are_refused(ledger_file: Path) -> None:
    for jobs in ("0", "9", "two"):
        result = CliRunner().invoke(cli, ["--db", str(ledger_file), "rebuild", "--jobs", jobs])
        assert result.exit_code == 2
        assert "--jobs" in result.output


def test_shares_are_contiguous_and_cover_every_stream_once() -> None:
    streams = list(range(10))
    assert shares(streams, 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert shares(streams, 1) == [streams]
    assert [len(s) for s in shares(list(range(7)), 4)] == [2, 2, 2, 1]


@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
def test_chunks_are_dealt_in_turn_and_together_are_every_stream_in_order(jobs: int) -> None:
    streams = list(range(1000))
    hands = dealt(streams, jobs)
    assert len(hands) == jobs
    numbered = sorted(chunk for hand in hands for chunk in hand)
    assert [n for n, _ in numbered] == list(range(len(numbered))) and len(numbered) <= MAX_ATTACHED
    assert [s for _, chunk in numbered for s in chunk] == streams  # contiguous, in order, each once
    for w, hand in enumerate(hands):
        assert [n for n, _ in hand] == list(range(w, len(numbered), jobs))
    assert dealt([7], 2) == [[(0, [7])], []]  # fewer streams than workers: one idles


@pytest.mark.parametrize("jobs", [2, 3, 4])
def test_the_last_round_of_chunks_is_a_third_of_the_others(jobs: int) -> None:
    """Only the last round's copying is left once the workers are done: it is made small."""
    sizes = [len(chunk) for _, chunk in sorted(c for hand in dealt(list(range(10_000)), jobs) for c in hand)]
    full, last = sizes[:-jobs], sizes[-jobs:]
    assert max(full) - min(full) <= 1 and max(last) - min(last) <= 1
    assert abs(3 * min(last) - min(full)) <= 3
    # Too few streams for a smaller round: equal chunks, none of them empty.
    assert sorted(len(chunk) for hand in dealt(list(range(7)), 2) for _, chunk in hand) == [1] * 7


def test_small_ledgers_rebuild_on_one_process() -> None:
    assert default_jobs(49_999) == 1
    assert default_jobs(50_000) == min(os.cpu_count() or 1, 4)


def test_an_encrypted_ledger_rebuilds_on_one_process_and_stays_sealed(lines: Path, tmp_path: Path) -> None:
    """Workers read plain rows only: with a key, `--jobs 2` folds here, sealing every row as a catch-up does."""
    from tests.integration.test_encryption import invoke, new_key

    db, key = tmp_path / "ledger.db", new_key()
    assert invoke(db, "import", str(lines), key=key).exit_code == 0
    caught_up = invoke(db, "party", "a16z", "--json", key=key)
    assert caught_up.exit_code == 0, caught_up.output
    assert '"deal":' in caught_up.stdout  # a16z has commitments to show
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-m", "ledger", "--db", str(db), "rebuild", "--jobs", "2", "--json"],
                          capture_output=True, text=True, env={**os.environ, "LEDGER_CIPHER_KEY": key,
                                                               "TMPDIR": str(scratch)}, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(scratch.iterdir()) == []
    assert invoke(db, "party", "a16z", "--json", key=key).stdout == caught_up.stdout
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM party_index WHERE party = 'a16z'").fetchone()[0] == 0
        assert connection.execute("SELECT COUNT(*) FROM party_index").fetchone()[0] > 0


def test_a_catch_up_of_many_deals_on_workers_replaces_their_rows_on_both_backends(
    lines: Path, backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first read after an import into a large ledger refolds every deal the import touched:
    on workers, as a rebuild does, their rows replace the old ones and nothing else changes."""
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(lines)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()
    # New reports (another source's) for most deals, and a deal of its own.
    later = tmp_path / "later.jsonl"
    reports = [orjson.loads(line) for line in lines.read_bytes().splitlines()]
    reports = [r for r in reports if "source" in r and r["kind"] != "retraction"][::5]
    for report in reports:
        report.pop("event_id", None), report.pop("recorded", None)
        report["source"]["name"] += " Daily"
    reports.append({"deal": "fresh-deal-2026", "kind": "talks-opened", "reported": "2026-01-28",
                    "source": {"name": "Reuters"}, "figures": {"size": "up to $1B"}})  # fmt: skip
    later.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in reports))
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(later)]).exit_code == 0
    touched = len({r["deal"] for r in reports})
    assert touched > 30
    # Workers fold in a scratch directory of their own, while the catch-up tells of progress.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scratch_seen: set[str] = set()
    seen = lambda n: scratch_seen.update(p.name for p in tmp_path.glob("ledger-rebuild-*"))
    assert reader.catch_up(seen, jobs=2) == len(reports)
    assert scratch_seen, "the catch-up did not fold on workers"
    assert list(tmp_path.glob("ledger-rebuild-*")) == []
    caught_up = contents(reader)
    assert len(caught_up["event_index"]) == 600 + len(reports)
    assert reader.mismatches() == []
    reader.rebuild(jobs=1)
    assert contents(reader) == caught_up
    app.close()


def test_a_catch_up_folds_on_workers_when_it_refolds_many_events() -> None:
    # An import of 1,000 reports into a million events in 10,000 deals: ~100,000 events again.
    assert default_jobs(refold_size(1_000, 1_000_000, 10_000)) == min(os.cpu_count() or 1, 4)
    assert default_jobs(refold_size(1, 1_000_000, 10_000)) == 1
    assert default_jobs(refold_size(400, 1_000_000, 10_000)) == 1  # 40,000 events: one process
    assert refold_size(3, 10, 0) == 30  # no deals indexed yet


def test_a_postgres_catch_up_replaces_only_the_party_rows_that_changed(
    lines: Path, postgres_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refolded deal's party rows mostly come out as they were: on PostgreSQL those stay where
    they are, and the read models still equal a rebuild's."""
    from projections.pg_index import PostgresIndex

    backend = postgres_backend
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(lines)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()
    reports = [orjson.loads(line) for line in lines.read_bytes().splitlines()]
    reports = [r for r in reports if "source" in r and r["kind"] != "retraction"][::7]
    for report in reports:
        report.pop("event_id", None), report.pop("recorded", None)
        report["source"]["name"] += " Daily"
    later = tmp_path / "later.jsonl"
    later.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in reports))
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(later)]).exit_code == 0
    where = "SELECT ctid::text AS at, * FROM {party_index}"
    before = {tuple(r.values()) for r in reader.index.select(where)}
    monkeypatch.setattr(PostgresIndex, "DIFFED_FROM_ROWS", 1)
    assert reader.catch_up(jobs=1) == len(reports)
    after = {tuple(r.values()) for r in reader.index.select(where)}
    kept = len(before & after)
    assert kept > len(before) // 2, "the catch-up rewrote rows that did not change"
    assert len(after) > kept  # and it added and changed some
    assert reader.mismatches() == []
    caught_up = contents(reader)
    reader.rebuild(jobs=1)
    assert contents(reader) == caught_up
    app.close()


def test_postgres_read_models_get_the_planner_s_statistics_from_a_rebuild_or_a_diffing_catch_up(
    lines: Path, postgres_backend: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without them (no autovacuum, or not yet) the planner took a diff's ~100 deals for half of
    party_index and read all of it for each: 6.0-6.4 s against 4.3-4.8 s for a catch-up of
    1,000 reports into a million events."""
    from projections.pg_index import PostgresIndex

    def analyzed() -> set[str]:
        tables = ", ".join(f"'{reader.index.sql(name)}'" for name in ("{deal_index}", "{party_index}", "{event_index}"))
        rows = reader.index.select(f"SELECT DISTINCT starelid::regclass::text AS t FROM pg_statistic "
                                   f"WHERE starelid = ANY(ARRAY[{tables}]::regclass[])")  # fmt: skip
        return {row["t"].rsplit(".", 1)[-1] for row in rows}

    assert CliRunner().invoke(cli, ["--db", postgres_backend.db, "import", str(lines)]).exit_code == 0
    app = DealLedger(env=locate(postgres_backend.db).settings())
    reader = Reader(app)
    monkeypatch.setattr(PostgresIndex, "DIFFED_FROM_ROWS", 10**9)  # no diffs: rows replaced whole
    reader.catch_up(jobs=1)
    assert analyzed() == set()
    later = tmp_path / "later.jsonl"
    report = orjson.loads(lines.read_bytes().splitlines()[0])
    report.pop("event_id", None), report.pop("recorded", None)
    report["source"] = {"name": "Another Daily"}
    later.write_bytes(orjson.dumps(report) + b"\n")
    assert CliRunner().invoke(cli, ["--db", postgres_backend.db, "import", str(later)]).exit_code == 0
    monkeypatch.setattr(PostgresIndex, "DIFFED_FROM_ROWS", 1)  # the deal's party rows diffed: statistics first
    assert reader.catch_up(jobs=1) == 1
    assert "party_index" in analyzed()
    assert reader.mismatches() == []
    reader.rebuild(jobs=1)
    assert analyzed() == {"deal_index", "party_index", "event_index"}
    app.close()
