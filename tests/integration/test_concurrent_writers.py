"""Eight writer processes racing: nothing acknowledged is lost, nothing is stored twice.

Each writer appends 250 reports, alternately to a deal of its own and to one
deal every writer shares, and prints the event id of each append the ledger
acknowledged. Afterwards the stored events are read back through the
application and straight from the event table.
"""

from __future__ import annotations

import collections
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import PG_URL, Backend

WRITERS = 8
APPENDS = 250
SHARED = "shared-deal"

WRITER = textwrap.dedent(
    """
    import sys
    from events.intake import read_report
    from ledger.application import DealLedger
    from ledger.storage import locate

    db, n, count, shared = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    app = DealLedger(env=locate(db).settings())
    decisions = worst = 0
    decide = app.decide

    def counted(*args, **kwargs):
        global decisions
        decisions += 1
        return decide(*args, **kwargs)

    app.decide = counted
    for i in range(count):
        deal = shared if i % 2 else f"writer-{n}"
        draft = read_report({"deal": deal, "kind": "amount-revised", "reported": "2026-01-28",
                             "source": {"name": f"writer {n}"}, "quote": f"writer {n} report {i}",
                             "figures": {"size": f"${i + 1}B"}, "parties": {"nvidia": f"up to {i + 1}亿美元"}})
        tries = decisions
        outcome = app.append(draft)
        worst = max(worst, decisions - tries)
        [event] = outcome.recorded
        print(deal, event.event_id, flush=True)
    print("#decisions", decisions, worst, flush=True)
    app.close()
    """
)


def stored_rows(backend: Backend) -> list[tuple[str, int]]:
    """(originator id as hex, version) of every row of the event table, read without the library."""
    if backend.name == "sqlite":
        with sqlite3.connect(backend.db) as connection:
            rows = connection.execute("SELECT originator_id, originator_version FROM stored_events").fetchall()
        return [(str(o).replace("-", ""), v) for o, v in rows]
    import psycopg

    with psycopg.connect(PG_URL) as connection:
        rows = connection.execute(
            f'SELECT originator_id, originator_version FROM "{backend.schema}".dealledger_events'
        ).fetchall()
    return [(o.hex if hasattr(o, "hex") else str(o).replace("-", ""), v) for o, v in rows]


@pytest.mark.slow
def test_eight_writers_lose_nothing_and_duplicate_nothing(backend: Backend, tmp_path: Path) -> None:
    from ledger import domain
    from ledger.application import CONFLICT_RETRIES, DealLedger
    from ledger.storage import locate

    app = DealLedger(env=locate(backend.db).settings())  # create the tables before the race
    started = time.monotonic()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, backend.db, str(n), str(APPENDS), SHARED],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    outputs = [w.communicate(timeout=600) for w in writers]
    elapsed = time.monotonic() - started

    acknowledged: dict[str, list[str]] = collections.defaultdict(list)
    decisions = worst = 0
    for out, _ in outputs:
        for line in out.splitlines():
            if line.startswith("#decisions"):
                decisions += int(line.split()[1])
                worst = max(worst, int(line.split()[2]))
                continue
            deal, event_id = line.split()
            acknowledged[deal].append(event_id)
    attempted = WRITERS * APPENDS
    acked = sum(len(ids) for ids in acknowledged.values())

    deals = [SHARED] + [f"writer-{n}" for n in range(WRITERS)]
    stored = {deal: app.deal_events(deal) if acknowledged.get(deal) else [] for deal in deals}
    stored_ids = {deal: [str(e.event_id) for e in events] for deal, events in stored.items()}
    lost = sum(len(set(acknowledged[d]) - set(stored_ids[d])) for d in deals)
    rows = stored_rows(backend)
    per_key = collections.Counter(rows)
    duplicated_versions = sum(n - 1 for n in per_key.values() if n > 1)
    all_ids = [i for ids in stored_ids.values() for i in ids]
    duplicated_ids = len(all_ids) - len(set(all_ids))
    print(
        f"\n[{backend.name}] {WRITERS} writers x {APPENDS} appends in {elapsed:.1f}s: attempted {attempted}, "
        f"acknowledged {acked}, stored {len(rows)}, lost {lost}, duplicated (deal, version) {duplicated_versions}, "
        f"duplicated event ids {duplicated_ids}; {decisions - acked} decisions retried after a lost race "
        f"(at most {worst} decisions for one append; the ledger gives up after {CONFLICT_RETRIES})"
    )

    for n, (writer, (_, err)) in enumerate(zip(writers, outputs, strict=True)):
        assert writer.returncode == 0, f"writer {n} exited {writer.returncode}: {err[-2000:]}"
        assert err == "", f"writer {n} wrote to stderr: {err[-2000:]}"
    assert acked == attempted
    assert lost == 0
    assert duplicated_versions == 0
    assert duplicated_ids == 0
    assert len(rows) == attempted
    assert len(acknowledged[SHARED]) == WRITERS * (APPENDS // 2)
    for deal in deals:
        assert sorted(stored_ids[deal]) == sorted(acknowledged[deal]), deal
        assert [e.originator_version for e in stored[deal]] == list(range(1, len(stored[deal]) + 1)), deal
    # The table itself: versions dense 1..n for every stream, and every stream is one of our deals.
    versions: dict[str, list[int]] = collections.defaultdict(list)
    for originator, version in rows:
        versions[originator].append(version)
    assert set(versions) == {domain.deal_id(deal).hex for deal in deals}
    for originator, numbers in versions.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), originator
    # Each writer's reports to the shared deal keep their own order.
    for n in range(WRITERS):
        mine = [e.quote for e in stored[SHARED] if e.source.name == f"writer {n}"]
        assert mine == [f"writer {n} report {i}" for i in range(1, APPENDS, 2)]
    app.close()


READERS = 8
ROUNDS = 1


def test_readers_catching_up_at_the_same_time_all_succeed(backend: Backend, tmp_path: Path) -> None:
    """Right after an import, several read commands at once each catch the read models up.

    Every one must answer (exit 0, empty stderr): a team's second reader must not get a
    database error because the first is catching up too.
    """
    from tests.integration.test_crash_import import import_lines

    failures = []
    for round_ in range(ROUNDS):
        lines = [line.replace('"deal": "deal-', f'"deal": "r{round_}-deal-') for line in import_lines()[:1000]]
        path = tmp_path / f"round-{round_}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        imported = subprocess.run(
            [sys.executable, "-m", "ledger", "--db", backend.db, "import", str(path)], capture_output=True, text=True
        )
        assert imported.returncode == 0, imported.stderr
        readers = [
            subprocess.Popen(
                [sys.executable, "-m", "ledger", "--db", backend.db, "deals", "--json"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            for _ in range(READERS)
        ]
        for reader in readers:
            _, err = reader.communicate(timeout=300)
            if reader.returncode or err:
                failures.append(f"exit {reader.returncode}: {err.strip()}")
    print(
        f"\n[{backend.name}] {ROUNDS} x {READERS} concurrent readers after an import: {len(failures)} failed"
        + "".join(f"\n  {message}" for message in sorted(set(failures)))
    )
    assert failures == []
