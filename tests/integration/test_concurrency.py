"""Writers racing on one deal: every acknowledged append is stored, versions stay dense."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import Backend

WRITER = textwrap.dedent(
    """
    import sys
    from events.intake import read_report
    from ledger.application import DealLedger
    from ledger.storage import locate

    db, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = DealLedger(env=locate(db).settings())
    for i in range(count):
        draft = read_report({"deal": "shared-deal", "kind": "amount-revised", "reported": "2026-01-28",
                             "source": {"name": name}, "figures": {"size": f"${i + 1}B"}})
        app.append(draft)
        print(i, flush=True)
    """
)


def test_two_processes_appending_to_one_deal_lose_nothing(backend: Backend) -> None:
    from ledger.application import DealLedger
    from ledger.storage import locate

    app = DealLedger(env=locate(backend.db).settings())  # create the tables before the race
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, backend.db, f"writer-{n}", "40"], stdout=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    acknowledged = sum(len(w.communicate(timeout=300)[0].split()) for w in writers)
    assert [w.returncode for w in writers] == [0, 0]
    events = app.deal_events("shared-deal")
    assert acknowledged == 80
    assert len(events) == 80
    assert [e.originator_version for e in events] == list(range(1, 81))
