"""`diff` between two days and `blame` of the current values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import orjson
import pytest

from tests.unit.builders import amount, between, exact, report, retract, up_to
from projections.compare import blame, diff
from projections.render import blame_json, diff_json


def by_name(changes):
    return {(c.figure or c.party): c for c in changes}


def test_a_diff_lists_only_the_values_whose_claim_changed_and_the_status():
    opened = report(reported="2026-01-10", size=between("10B", "15B"), valuation=exact("300B"),
                    parties={"nvidia": up_to("30B")})
    restated = report(reported="2026-01-12", valuation=exact("300B", text="three hundred billion"))
    closed = report("round-closed", reported="2026-02-01", size=exact("14B"), parties={"nvidia": up_to("30B")})
    events = [opened, restated, closed]

    result = diff(events, date(2026, 1, 11), date(2026, 2, 1))

    assert (result.status_before, result.status_after, result.status_changed) == ("talks", "closed", True)
    assert list(by_name(result.entries)) == ["size"]
    size = result.entries[0]
    assert size.before == between("10B", "15B") and size.before_event == opened.event_id
    assert size.after == exact("14B") and size.after_event == closed.event_id
    assert size.label == "size"
    assert size.change.direction == "now exact"
    assert size.change.absolute == amount("-1B")
    assert size.change.percent == Decimal("-6.7")


def test_a_value_first_reported_between_the_days_appears():
    opened = report(reported="2026-01-10", size=exact("10B"))
    joined = report(reported="2026-01-20", parties={"amazon+microsoft": exact("5B")})

    result = diff([opened, joined], date(2026, 1, 10), date(2026, 1, 31))

    (change,) = result.entries
    assert (change.party, change.parties, change.before, change.before_event) == (
        "amazon+microsoft", ("Amazon", "Microsoft"), None, None
    )
    assert change.label == "Amazon + Microsoft"
    assert change.change.direction == "first report"
    assert not result.status_changed


def test_a_value_whose_report_was_retracted_between_the_days_is_no_longer_reported():
    wrong = report(reported="2026-01-10", size=exact("10B"))
    result = diff([wrong, retract(wrong, reported="2026-01-15")], date(2026, 1, 12), date(2026, 1, 20))
    (change,) = result.entries
    assert (change.before_event, change.after, change.after_event) == (wrong.event_id, None, None)
    assert change.change.direction == "no longer reported"
    assert (result.status_before, result.status_after) == ("talks", None)


def test_a_diff_from_before_the_first_report_starts_from_nothing():
    opened = report(reported="2026-01-10", size=exact("10B"))
    result = diff([opened], date(2025, 12, 31), date(2026, 1, 10))
    assert result.status_before is None and result.status_after == "talks"
    assert [c.change.direction for c in result.entries] == ["first report"]


def test_a_diff_on_the_ledgers_clock_ignores_what_was_recorded_later():
    opened = report(reported="2026-01-10", recorded="2026-01-10T12:00Z", size=exact("10B"))
    backfill = report(reported="2026-01-15", recorded="2026-03-01T12:00Z", size=exact("12B"))
    events = [opened, backfill]
    assert diff(events, date(2026, 1, 10), date(2026, 1, 31)).entries[0].change.direction == "raised"
    known = datetime.fromisoformat("2026-02-01T00:00Z")
    assert diff(events, date(2026, 1, 10), date(2026, 1, 31), known_at=known).entries == ()


def test_a_diff_backwards_in_time_is_refused():
    with pytest.raises(ValueError, match="after"):
        diff([report()], date(2026, 2, 1), date(2026, 1, 1))


def test_blame_names_the_report_that_set_each_value_and_those_it_superseded():
    first = report(reported="2026-01-10", size=between("10B", "15B"), source="Reuters")
    backfill = report(reported="2026-01-08", recorded="2026-03-01T00:00Z", size=exact("9B"), source="FT")
    current = report(reported="2026-01-20", size=exact("14B"), source="Bloomberg", parties={"nvidia": None})
    wrong_later = report(reported="2026-01-25", size=exact("99B"), source="Blog")
    events = [first, current, wrong_later, retract(wrong_later), backfill]

    (size, nvidia) = blame(events)

    assert size.figure == "size" and size.party is None
    assert size.current.event_id == current.event_id
    assert (size.current.source, size.current.value) == ("Bloomberg", exact("14B"))
    assert [(p.event_id, p.retracted) for p in size.superseded] == [
        (backfill.event_id, False),
        (first.event_id, False),
        (wrong_later.event_id, True),
    ]
    assert (nvidia.party, nvidia.label, nvidia.current.value, nvidia.superseded) == ("nvidia", "Nvidia", None, ())


def test_blame_leaves_out_a_value_whose_every_report_was_retracted():
    wrong = report(size=exact("10B"))
    kept = report(valuation=exact("300B"))
    assert [b.figure for b in blame([wrong, kept, retract(wrong)])] == ["valuation"]


def test_the_diff_and_blame_json_are_plain_data_orjson_can_write():
    opened = report(reported="2026-01-10", size=exact("10B"))
    raised = report(reported="2026-01-20", size=exact("12B"))
    events = [opened, raised]

    start, end = date(2026, 1, 10), date(2026, 1, 20)
    data = diff_json("openai-2026", start, end, diff(events, start, end))
    orjson.dumps(data)
    assert data["from"] == "2026-01-10" and data["status"] == {"before": "talks", "after": "talks"}
    (change,) = data["entries"]
    assert change["figure"] == "size"
    assert change["before"]["event_id"] == str(opened.event_id)
    assert change["after"] == {"value": exact("12B").to_json(), "event_id": str(raised.event_id)}
    assert change["change"] == {"absolute": 2_000_000_000, "percent": "20.0", "direction": "raised"}

    blamed = blame_json("openai-2026", blame(events))
    orjson.dumps(blamed)
    assert blamed["deal"] == "openai-2026"
    assert blamed["figures"][0]["current"]["event_id"] == str(raised.event_id)
    assert [p["event_id"] for p in blamed["figures"][0]["superseded"]] == [str(opened.event_id)]
