"""The materialised read models always equal a from-scratch fold of the events."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.intake import read_report, read_retraction
from ledger.application import DealLedger
from ledger.errors import DomainError
from ledger.storage import locate
from projections.catchup import Reader
from projections.rows import deal_rows
from projections.state import deal_state

DEALS = ["alpha", "beta", "gamma"]
PHRASES = ["$10B", "up to $30B", "至多300亿美元", "超过200亿美元", "$10-20bn", "about €2.5bn", "近1000亿美元"]
KINDS = ["talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended"]

appends = st.fixed_dictionaries(
    {
        "deal": st.sampled_from(DEALS),
        "kind": st.sampled_from(KINDS),
        "reported": st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)).map(str),
        "source": st.sampled_from([{"name": "Reuters"}, {"name": "The Information"}, {"name": "彭博"}]),
        "figures": st.dictionaries(st.sampled_from(["size", "valuation", "target"]), st.sampled_from(PHRASES), min_size=1),
        "parties": st.dictionaries(st.sampled_from(["nvidia", "softbank", "amazon+microsoft"]), st.sampled_from(PHRASES)),
    }
)  # fmt: skip
steps = st.lists(st.one_of(appends, st.tuples(st.just("retract"), st.integers(0, 50))), min_size=1, max_size=25)


def apply(app: DealLedger, step: object, recorded: list) -> None:
    if isinstance(step, tuple):
        if not recorded:
            return
        event = recorded[step[1] % len(recorded)]
        draft = read_retraction({"deal": event.deal, "retracted": str(event.event_id), "reason": "wrong",
                                 "reported": "2025-12-31"})  # fmt: skip
    else:
        draft = read_report(step)
    try:
        outcome = app.record([draft])
    except DomainError:
        return  # e.g. retracting twice: refused, nothing written
    recorded += [e for e in outcome.recorded if e.kind != "retraction"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, catch_up_every=st.integers(1, 5))
def test_incremental_catch_up_equals_a_fresh_fold_and_a_rebuild(tmp_path: Path, steps: list, catch_up_every: int) -> None:
    app = DealLedger(env=locate(str(tmp_path / f"{uuid.uuid4().hex}.db")).settings())
    reader = Reader(app)
    recorded: list = []
    for number, step in enumerate(steps, start=1):
        apply(app, step, recorded)
        if number % catch_up_every == 0:
            reader.catch_up()
    reader.catch_up()
    assert reader.mismatches() == []
    deals = {row["deal"]: row for row in reader.deals()}
    for slug in {e.deal for e in app.all_events()}:
        events = app.deal_events(slug)
        assert deals[slug]["status"] == (deal_state(events).status or "retracted")
        assert tuple(deals[slug][k] for k in ("reports", "retracted", "sources")) == deal_rows(events)[0][5:8]
    before = {row["deal"]: row for row in reader.deals()}
    counts = reader.rebuild()
    assert {row["deal"]: row for row in reader.deals()} == before
    assert counts["event_index"] == sum(1 for _ in app.all_events())
    app.close()
