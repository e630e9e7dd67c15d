"""`kill -9` in the middle of a large import: it lands whole or not at all, and the ledger recovers.

Every trial gets a fresh ledger (its own SQLite file or PostgreSQL schema),
seeded with the example reports so the kill lands on a live ledger whose read
models exist and whose deals the import continues. A fresh ledger per trial
keeps trials independent (a failure names its trial and delay) and makes
"the count before" exact; one ledger through all trials would also carry
crashes over, but its rebuild would grow with every trial. Each trial imports
3,000 reports across 50 deals (English and Chinese amounts) and is killed
after a seeded random delay between 0 and the time an uninterrupted import
took; two more trials are killed at a seeded random moment after the import
was seen holding the write lock, i.e. inside its one transaction. Then: the
event count is the seed or the seed plus the whole file; a fresh session's
`ledger deals --json` opens the ledger; `ledger rebuild` gives the read models
the incremental catch-up gave, and every stream's versions are dense; running
the import again completes and adds exactly what was missing.
"""

from __future__ import annotations

import collections
import datetime
import gc
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli import cli

from tests.conftest import EXAMPLE, PG_URL, Backend

REPORTS = 3000
DEALS = 50
TRIALS = 10
IN_WRITE_TRIALS = 2
SEED = 20260128

SOURCES = [
    ("The Information", "en"), ("Reuters", "en"), ("Bloomberg", "en"),
    ("36氪", "zh"), ("财新", "zh"), ("晚点LatePost", "zh"),
]  # fmt: skip
PARTIES = [
    ("nvidia", "英伟达"), ("softbank", "软银"), ("microsoft", "Microsoft"),
    ("amazon", "亚马逊"), ("a16z", "Andreessen Horowitz"), ("tencent", "腾讯"),
]  # fmt: skip
KINDS = ["talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended"]
KIND_WEIGHTS = [15, 60, 12, 8, 5]
SEED_LINES = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
SEED_EVENTS = len(SEED_LINES)
SEEDED = sorted({line["deal"] for line in SEED_LINES})


def phrase(rng: random.Random) -> str:
    """A reported amount, in English or Chinese, with its qualifier."""
    n = rng.randint(1, 900)
    return rng.choice(
        [
            f"up to ${n}B", f"about ${n} billion", f"more than ${n}bn", f"nearly ${n}B",
            f"${n}B-${n + rng.randint(1, 50)}B", f"${n} million",
            f"至多{n}亿美元", f"超过{n}亿美元", f"近{n}亿美元", f"约{n}亿美元",
            f"{n}亿至{n + rng.randint(1, 90)}亿美元", f"不超过{n}亿元人民币",
        ]
    )  # fmt: skip


def import_lines() -> list[str]:
    """A realistic import: 50 deals, some of them the seeded ones, English and Chinese amounts."""
    rng = random.Random(SEED)
    start = datetime.date(2025, 1, 1)
    lines = []
    for i in range(REPORTS):
        source, language = rng.choice(SOURCES)
        line = {
            "deal": SEEDED[i % DEALS] if i % DEALS < len(SEEDED) else f"deal-{i % DEALS:02d}",
            "kind": rng.choices(KINDS, KIND_WEIGHTS)[0],
            "reported": (start + datetime.timedelta(days=rng.randint(0, 300))).isoformat(),
            "source": {"name": source, "language": language},
            "quote": f"第{i}条报道：{rng.choice(['正洽谈', '据知情人士透露', 'in talks to invest'])} (report {i})",
            "figures": {rng.choice(["size", "valuation", "target"]): phrase(rng)},
        }
        if rng.random() < 0.6:
            party, name = rng.choice(PARTIES)
            line["parties"] = [{"party": party, "name": name, "amount": phrase(rng)}]
        lines.append(json.dumps(line, ensure_ascii=False))
    return lines


def ledger(backend: Backend, *args: str) -> SimpleNamespace:
    """A ledger command, in this process: a fresh session opens the database as a new process would.

    (Only the import that is killed needs a process of its own; running the checks in
    this one saves a second of start-up per command.)
    """
    result = CliRunner().invoke(cli, ["--db", backend.db, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def start_import(backend: Backend, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ledger", "--db", backend.db, "import", str(path), "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def versions_by_stream(backend: Backend) -> dict[str, list[int]]:
    """Every stream's versions, read straight from the event table."""
    if backend.name == "sqlite":
        with sqlite3.connect(backend.db) as connection:
            rows = connection.execute("SELECT originator_id, originator_version FROM stored_events").fetchall()
    else:
        import psycopg

        with psycopg.connect(PG_URL) as connection:
            rows = connection.execute(
                f'SELECT originator_id, originator_version FROM "{backend.schema}".dealledger_events'
            ).fetchall()
    streams: dict[str, list[int]] = collections.defaultdict(list)
    for originator, version in rows:
        streams[str(originator)].append(version)
    return streams


def incremental_counts(backend: Backend) -> dict[str, int]:
    """Rows in the read models as the catch-up left them (before any rebuild)."""
    from ledger.application import DealLedger
    from ledger.storage import locate
    from projections.catchup import Reader

    app = DealLedger(env=locate(backend.db).settings())
    try:
        return Reader(app).counts()
    finally:
        app.close()


def check_recovered(backend: Backend, expected_events: int, expected_deals: int) -> None:
    """The ledger opens, its read models catch up and rebuild to the same rows."""
    deals = ledger(backend, "deals", "--json")
    assert deals.returncode == 0, deals.stderr
    assert "Traceback" not in deals.stderr
    rows = json.loads(deals.stdout)
    assert len(rows) == expected_deals
    assert sum(row["reports"] for row in rows) <= expected_events
    caught_up = incremental_counts(backend)
    rebuilt = ledger(backend, "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    counts = json.loads(rebuilt.stdout)
    assert counts == caught_up
    assert counts["event_index"] == expected_events
    assert counts["deal_index"] == expected_deals
    for stream, versions in versions_by_stream(backend).items():
        assert sorted(versions) == list(range(1, len(versions) + 1)), stream


def seed(backend: Backend) -> None:
    """The example reports, recorded and caught up in the read models (in this process, for speed)."""
    from ledger.application import DealLedger
    from ledger.importer import read_lines
    from ledger.storage import locate
    from projections.catchup import Reader

    app = DealLedger(env=locate(backend.db).settings())
    try:
        with EXAMPLE.open("rb") as file:
            drafts, labels = read_lines(file)
        app.record(drafts, labels)
        Reader(app).catch_up()
    finally:
        app.close()


@contextmanager
def fresh_ledger(backend: Backend, tmp_path: Path, trial: int) -> Iterator[Backend]:
    """A new, seeded ledger on the backend under test."""
    if backend.name == "sqlite":
        ledger_backend = Backend("sqlite", str(tmp_path / f"trial-{trial}.db"))
        cleanup = None
    else:
        import psycopg

        schema = f"test_crash_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        ledger_backend = Backend("postgres", f"{PG_URL}?schema={schema}", schema)
        cleanup = schema
    try:
        seed(ledger_backend)
        assert ledger_backend.count_events() == SEED_EVENTS
        yield ledger_backend
    finally:
        gc.collect()  # closes the connection pools of the sessions the checks opened
        if cleanup:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{cleanup}" CASCADE')


class WriteLockProbe:
    """Whether someone (the import) holds the ledger's write lock right now.

    SQLite: an immediate transaction cannot start. PostgreSQL: someone holds
    the exclusive lock the library takes on the event table to insert.
    """

    def __init__(self, backend: Backend):
        self.backend = backend
        self.connection: Any = None
        if backend.name == "postgres":
            import psycopg

            self.connection = psycopg.connect(PG_URL, autocommit=True)

    def __call__(self) -> bool:
        if self.backend.name == "sqlite":
            connection = sqlite3.connect(self.backend.db, timeout=0, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:  # database is locked
                return True
            finally:
                connection.close()
        return bool(
            self.connection.execute(
                "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = 'dealledger_events' AND l.mode = 'ExclusiveLock' AND l.granted",
                (self.backend.schema,),
            ).fetchone()
        )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def kill_while_writing(writing: WriteLockProbe, process: subprocess.Popen, extra: float) -> bool:
    """Kills the import `extra` seconds after it is seen holding the write lock; False if it ended first."""
    while process.poll() is None:
        if writing():
            time.sleep(extra)
            process.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.005)
    return False


@pytest.mark.slow
def test_an_import_killed_at_a_random_moment_lands_whole_or_not_at_all(backend: Backend, tmp_path: Path) -> None:
    rng = random.Random(SEED + (backend.name == "postgres"))
    path = tmp_path / "import.jsonl"
    path.write_text("\n".join(import_lines()) + "\n", encoding="utf-8")

    # Trial 0 runs to the end: it measures how long an import takes, and how long it holds the write lock.
    with fresh_ledger(backend, tmp_path, 0) as trial_ledger:
        process = start_import(trial_ledger, path)
        started = time.monotonic()
        seen: list[float] = []
        writing = WriteLockProbe(trial_ledger)
        while process.poll() is None:
            if writing():
                seen.append(time.monotonic() - started)
            time.sleep(0.02)
        typical = time.monotonic() - started
        _, err = process.communicate()
        writing.close()
        assert process.returncode == 0, err
        assert trial_ledger.count_events() == SEED_EVENTS + REPORTS
        check_recovered(trial_ledger, SEED_EVENTS + REPORTS, DEALS)
    lock_span = (seen[-1] - seen[0]) if seen else 0.0

    # Random moments, then moments inside the write transaction itself.
    plan = [("random", rng.uniform(0, typical)) for _ in range(TRIALS)]
    plan += [("in-write", rng.uniform(0, lock_span)) for _ in range(IN_WRITE_TRIALS)]
    outcomes: collections.Counter[str] = collections.Counter()
    delays: dict[str, list[float]] = collections.defaultdict(list)
    for trial, (how, delay) in enumerate(plan, start=1):
        with fresh_ledger(backend, tmp_path, trial) as trial_ledger:
            writing = WriteLockProbe(trial_ledger)
            process = start_import(trial_ledger, path)
            started = time.monotonic()
            if how == "random":
                time.sleep(delay)
                inside = writing()  # was the import inside its write transaction when it was killed?
                process.send_signal(signal.SIGKILL)
            else:
                inside = kill_while_writing(writing, process, delay)
            killed_at = time.monotonic() - started
            _, err = process.communicate(timeout=60)
            assert process.returncode in (0, -signal.SIGKILL), err
            assert "Traceback" not in err
            # PostgreSQL finishes (commits or rolls back) a dead client's transaction on its own time.
            deadline = time.monotonic() + 30
            while trial_ledger.name == "postgres" and writing() and time.monotonic() < deadline:
                time.sleep(0.01)
            writing.close()

            count = trial_ledger.count_events()
            assert count in (SEED_EVENTS, SEED_EVENTS + REPORTS), (
                f"trial {trial} ({how}, killed after {killed_at:.2f}s): "
                f"{count - SEED_EVENTS} of {REPORTS} events landed"
            )
            landed = count == SEED_EVENTS + REPORTS
            if process.returncode == 0:
                outcome = "finished before the kill"
            elif landed:
                outcome = "killed after commit"
            else:
                outcome = "killed before commit" + (", inside the write transaction" if inside else "")
            outcomes[f"{how}: {outcome}"] += 1
            delays[f"{how}: {outcome}"].append(round(killed_at, 2))
            check_recovered(trial_ledger, count, DEALS if landed else len(SEEDED))

            again = ledger(trial_ledger, "import", str(path), "--json")
            assert again.returncode == 0, again.stderr
            result = json.loads(again.stdout)
            assert result["skipped"] == (REPORTS if landed else 0)
            assert result["recorded"] == REPORTS - result["skipped"]
            assert trial_ledger.count_events() == SEED_EVENTS + REPORTS

    print(
        f"\n[{backend.name}] {len(plan)} imports of {REPORTS} reports killed ({TRIALS} after a random 0-{typical:.2f}s, "
        f"{IN_WRITE_TRIALS} at a random 0-{lock_span:.2f}s after it took the write lock; "
        f"the uninterrupted import took {typical:.2f}s, holding the lock from {seen[0] if seen else 0:.2f}s): "
        + "; ".join(f"{name} {n} (at {delays[name]} s)" for name, n in sorted(outcomes.items()))
    )
    assert sum(n for name, n in outcomes.items() if name.startswith("random")) == TRIALS
