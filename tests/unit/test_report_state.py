"""`report_state` writes what the event model writes, byte for byte.

An import's workers store reports through it instead of building the event
and dumping it (`ledger.preparing`); a field added to `Report`, or a change in
how pydantic writes a value, would show here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import orjson
import pytest

from bench.synth import Spec, lines
from events.intake import Draft, read_report
from events.reports import REPORT_KINDS, report_state
from ledger import domain
from ledger.mapper import plain_mapper

NOW = datetime(2026, 11, 29, 8, 2, 22, 120000, tzinfo=timezone.utc)
BASE = {"deal": "openai-2026", "kind": "talks-opened", "reported": "2026-01-28", "source": {"name": "The Information"}}
EDGES = [
    BASE,
    {**BASE, "reported": "2026-01-28T09:00:00+08:00", "recorded": "2026-01-28T01:02:03.000456+00:00"},
    {**BASE, "reported": "2026-01-28T09:00:00.5-05:30", "event_id": str(uuid4()), "recorded_by": "ana"},
    {**BASE, "kind": "round-closed", "source": {"name": "OpenAI", "url": "https://openai.com/x", "title": "Funding",
                                                "language": "en", "kind": "company"},
     "quote": "line one\n\tline two", "note": "as said", "currency": "USD",
     "figures": {"size": "up to $100B", "valuation": "约1.5万亿美元", "pre-money": {"currency": "EUR",
                 "qualifier": "range", "low": 1.5, "high": 2.25}},
     "parties": [{"party": ["amazon", "microsoft"], "name": ["Amazon", "Microsoft"], "amount": "$10-20B"},
                 {"party": "nvidia", "name": "NVIDIA", "amount": None}, {"party": "softbank", "amount": "30亿日元"}]},
    {**BASE, "kind": "amount-revised", "parties": {"nvidia": "至多300亿美元", "xai+tesla": "超过200亿美元"}},
    {**BASE, "kind": "talks-ended", "figures": {"size": "近1000亿美元"}, "reported": "2026-02-01"},
]


def stored_by_the_model(draft: Draft) -> bytes:
    return plain_mapper().plain_state(domain.record_report(None, draft, NOW))


def stored_directly(draft: Draft) -> bytes:
    event = domain.record_report(None, draft, NOW)  # for the id it gives a draft without one
    return orjson.dumps(report_state(draft, event.event_id, event.timestamp))


@pytest.mark.parametrize("line", EDGES, ids=range(len(EDGES)))
def test_an_unusual_report_is_written_as_the_model_writes_it(line: dict) -> None:
    draft = read_report(line, default_currency="JPY")
    event = domain.record_report(None, draft, NOW)

    assert orjson.dumps(report_state(draft, event.event_id, event.timestamp)) == plain_mapper().plain_state(event)


def test_every_report_of_a_synthetic_ledger_is_written_as_the_model_writes_it() -> None:
    drafts = [read_report(orjson.loads(line.data)) for line in lines(Spec(3000, 30, seed=7))]
    reports = [draft for draft in drafts if isinstance(draft, Draft)]
    assert {draft.kind for draft in reports} == set(REPORT_KINDS)

    for draft in reports:
        assert stored_directly(draft) == stored_by_the_model(draft), draft


def test_a_later_version_of_a_report_class_is_written_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    cls = REPORT_KINDS["talks-opened"]
    monkeypatch.setattr(cls, "class_version", 2)
    draft = read_report({**BASE, "event_id": str(uuid4())})

    state = report_state(draft, uuid4(), NOW + timedelta(seconds=1))

    assert state["class_version"] == 2
    assert stored_directly(draft) == stored_by_the_model(draft)
