"""An import read by worker processes (`ledger import --jobs N`) records what one process records.

The files here span several blocks of `BLOCK_LINES` lines, so the workers
read blocks in turn and the importing process takes them back in order: an
error in a later block must still stop the whole import, name its line, and
leave nothing written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from bench.synth import Spec, lines
from ledger.cli import cli
from ledger.preparing import BLOCK_LINES
from tests.conftest import Backend

#: Reports across a few blocks, with retractions, Chinese and English phrases, event ids and record times.
SPEC = Spec(events=2 * BLOCK_LINES + 500, deals=25, seed=7)


def run(backend: Backend, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["--db", backend.db, *args], env=env)


def synthetic(path: Path) -> list[dict]:
    """The synthetic lines written to `path`; returns them parsed."""
    data = b"".join(line.data for line in lines(SPEC))
    path.write_bytes(data)
    return [orjson.loads(raw) for raw in data.splitlines()]


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
    return path


def test_workers_record_exactly_what_one_process_records(backend: Backend, tmp_path: Path) -> None:
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)
    assert sum(r["kind"] == "retraction" for r in records) > 10
    alone = Backend("sqlite", str(tmp_path / "alone.db"))

    one = run(alone, "import", "--jobs", "1", str(file), "--json")
    many = run(backend, "import", "--jobs", "2", str(file), "--json")

    assert one.exit_code == 0 and many.exit_code == 0, one.output + many.output
    assert json.loads(many.stdout)["recorded"] == json.loads(one.stdout)["recorded"] == len(records)
    assert json.loads(many.stdout)["flags"] == json.loads(one.stdout)["flags"]
    assert run(backend, "export").stdout == run(alone, "export").stdout
    assert run(backend, "deals", "--json").stdout == run(alone, "deals", "--json").stdout


def test_an_import_run_again_with_workers_adds_nothing(backend: Backend, tmp_path: Path) -> None:
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)
    assert run(backend, "import", "-j", "2", str(file)).exit_code == 0

    again = run(backend, "import", "-j", "2", str(file), "--json")

    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["recorded"] == 0
    assert json.loads(again.stdout)["skipped"] == len(records)
    assert backend.count_events() == len(records)


def test_reports_without_ids_get_new_ones_and_the_import_start_as_record_time(sqlite_backend: Backend, tmp_path: Path) -> None:
    report = {"kind": "talks-opened", "reported": "2026-01-28", "source": {"name": "The Information"}}
    count = BLOCK_LINES + 300
    file = write(tmp_path / "new.jsonl", [{**report, "deal": f"d-{n % 7}", "figures": {"size": f"${n}M"}} for n in range(count)])

    result = run(sqlite_backend, "import", "-j", "2", str(file))

    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in run(sqlite_backend, "export").stdout.splitlines()]
    assert len(events) == count
    assert len({e["event_id"] for e in events}) == count
    assert len({e["recorded"] for e in events}) == 1
    sizes = sorted(int(e["figures"]["size"]["high"]) for e in events)
    assert sizes == [n * 1_000_000 for n in range(count)]


def test_a_bad_line_in_a_later_block_stops_the_import_and_writes_nothing(backend: Backend, tmp_path: Path) -> None:
    records = synthetic(tmp_path / "lines.jsonl")
    number = BLOCK_LINES + 345
    bad = next(r for r in records[number - 1 :] if r["kind"] != "retraction")
    records[number - 1] = {**bad, "figures": {"size": "maybe thirty"}}
    file = write(tmp_path / "bad.jsonl", records)

    result = run(backend, "import", "-j", "2", str(file))

    assert result.exit_code == 2
    assert result.stderr == f"Error: line {number}: field 'figures.size': cannot read amount 'maybe thirty': no number\n"
    assert backend.count_events() == 0


def test_a_report_from_the_future_in_a_later_block_stops_the_import_and_writes_nothing(backend: Backend, tmp_path: Path) -> None:
    records = synthetic(tmp_path / "lines.jsonl")
    number = 2 * BLOCK_LINES + 7
    records.insert(number - 1, {"deal": "d", "kind": "talks-opened", "reported": "2999-01-01", "source": {"name": "S"}})
    file = write(tmp_path / "future.jsonl", records)

    result = run(backend, "import", "-j", "2", str(file))

    assert result.exit_code == 1
    assert result.stderr == f"Error: line {number}: reported date 2999-01-01 is in the future\n"
    assert backend.count_events() == 0


def test_a_retraction_of_an_event_no_deal_has_in_a_later_block_writes_nothing(backend: Backend, tmp_path: Path) -> None:
    records = synthetic(tmp_path / "lines.jsonl")
    deal = records[0]["deal"]
    records.append({"deal": deal, "kind": "retraction", "retracts": "0b7e1c3e-0000-4000-8000-000000000000",
                    "reason": "wrong", "reported": "2026-01-29"})  # fmt: skip
    file = write(tmp_path / "retract.jsonl", records)

    result = run(backend, "import", "-j", "2", str(file))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: line {len(records)}: deal {deal!r} has no event 0b7e1c3e-")
    assert backend.count_events() == 0


def test_an_encrypted_ledger_imports_with_workers(sqlite_backend: Backend, tmp_path: Path) -> None:
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)
    key = CliRunner().invoke(cli, ["keygen"]).stdout.strip()
    env = {"LEDGER_CIPHER_KEY": key}
    alone = Backend("sqlite", str(tmp_path / "alone.db"))

    assert run(sqlite_backend, "import", "-j", "2", str(file), env=env).exit_code == 0
    assert run(alone, "import", "-j", "1", str(file)).exit_code == 0

    assert run(sqlite_backend, "export", env=env).stdout == run(alone, "export").stdout
    unreadable = run(sqlite_backend, "export", env={"LEDGER_CIPHER_KEY": ""})
    assert unreadable.exit_code != 0 and "LEDGER_CIPHER_KEY is not set" in unreadable.stderr
    assert len(records) == sqlite_backend.count_events()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers through /proc")
def test_a_worker_killed_mid_import_stops_it_in_one_line_and_nothing_is_written(sqlite_backend: Backend, tmp_path: Path) -> None:
    file = tmp_path / "lines.jsonl"
    file.write_bytes(b"".join(line.data for line in lines(Spec(events=8 * BLOCK_LINES, deals=50, seed=9))))  # a few seconds
    command = [sys.executable, "-m", "ledger", "--db", sqlite_backend.db, "import", "--jobs", "2", str(file)]
    importing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{importing.pid}/task/{importing.pid}/children")
    deadline = time.monotonic() + 60
    ledger = Path(sqlite_backend.db)
    while not (ledger.exists() and (workers := children.read_text().split())):  # workers started, ledger opened
        assert time.monotonic() < deadline and importing.poll() is None, "the import started no worker"
        time.sleep(0.01)
    os.kill(int(workers[0]), signal.SIGKILL)

    out, err = importing.communicate(timeout=120)

    assert importing.returncode == 1
    assert (out, err) == ("", "Error: an import worker stopped unexpectedly; nothing was imported\n")
    assert sqlite_backend.count_events() == 0


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_the_ledger_command_imports_with_workers(sqlite_backend: Backend, tmp_path: Path, jobs: str) -> None:
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)

    result = subprocess.run(
        [sys.executable, "-m", "ledger", "--db", sqlite_backend.db, "import", "--jobs", jobs, str(file)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported {len(records)} events; 0 already recorded and skipped\n"
    assert sqlite_backend.count_events() == len(records)


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("bad", ["encoding", "future"])
def test_a_file_refused_in_its_first_block_leaves_no_new_ledger_behind(tmp_path: Path, jobs: str, bad: str) -> None:
    """The new ledger's folder and file were made before the first line was read: an empty
    ledger was left where the wrong file was imported."""
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)
    if bad == "encoding":
        file.write_bytes(file.read_text().encode("utf-16"))
    else:  # a report the rules refuse on its own, in the middle of the first block
        records[BLOCK_LINES // 2]["reported"] = "2999-01-01"
        write(file, records)
    target = tmp_path / "new" / "ledger.db"
    result = CliRunner().invoke(cli, ["--db", str(target), "import", "--jobs", jobs, str(file)])
    assert result.exit_code in (1, 2) and result.stderr.count("\n") == 1, result.output
    assert not target.parent.exists()


def test_a_new_ledger_is_made_once_the_first_block_reads(tmp_path: Path) -> None:
    file = tmp_path / "lines.jsonl"
    records = synthetic(file)
    target = tmp_path / "new" / "ledger.db"
    result = CliRunner().invoke(cli, ["--db", str(target), "import", "--jobs", "2", str(file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recorded"] == len(records)


def test_a_postgres_import_leaves_the_events_table_with_the_planner_s_statistics(
    postgres_backend: Backend, tmp_path: Path
) -> None:
    """Without them the planner took a query of ~100 deals' events for most of the table, and
    compiled it (JIT): an import of 974 reports into a million events took 4.3 s against 3.8 s."""
    from ledger.application import DealLedger
    from ledger.pg_stores import ANALYZED
    from ledger.storage import locate

    file = tmp_path / "lines.jsonl"
    synthetic(file)
    assert run(postgres_backend, "import", str(file)).exit_code == 0
    app = DealLedger(env=locate(postgres_backend.db).settings())
    with app.recorder.datastore.transaction(commit=False) as c:
        c.execute(ANALYZED, (app.recorder.events_regclass,))
        assert c.fetchone()["analyzed"]
    app.close()
