"""The two clocks: `as_of` (what had been reported by a day) and `known_at` (what the ledger held)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tests.unit.builders import exact, report, retract
from projections.clocks import visible
from projections.state import deal_state


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_as_of_keeps_reports_published_by_that_day_even_when_recorded_later():
    early = report(reported="2026-01-10", recorded="2026-03-01T00:00Z", size=exact("10B"))
    late = report(reported="2026-01-20", recorded="2026-01-21T00:00Z", size=exact("12B"))
    backfill = report(reported="2026-01-05", recorded="2026-03-05T00:00Z", size=exact("8B"))
    events = [late, early, backfill]

    assert visible(events, as_of=date(2026, 1, 10)) == [early, backfill]
    assert visible(events, as_of=date(2026, 1, 4)) == []
    assert visible(events, as_of=date(2026, 1, 20)) == events


def test_as_of_keeps_the_events_in_record_order():
    first = report(reported="2026-01-12")
    second = report(reported="2026-01-11")
    assert visible([first, second], as_of=date(2026, 1, 31)) == [first, second]


def test_a_report_with_a_publication_time_counts_from_its_calendar_day():
    timed = report(reported="2026-01-10T23:30+08:00")
    assert visible([timed], as_of=date(2026, 1, 10)) == [timed]
    assert visible([timed], as_of=date(2026, 1, 9)) == []


def test_known_at_keeps_what_the_ledger_had_recorded_at_that_moment():
    first = report(reported="2026-01-10", recorded="2026-01-11T09:00Z")
    second = report(reported="2026-01-05", recorded="2026-01-12T09:00Z")

    assert visible([first, second], known_at=at("2026-01-11T09:00Z")) == [first]
    assert visible([first, second], known_at=at("2026-01-12T10:00+01:00")) == [first, second]
    assert visible([first, second], known_at=at("2026-01-10T00:00Z")) == []


def test_a_retraction_counts_as_of_its_own_reported_day_not_the_reports():
    wrong = report(reported="2026-01-10", size=exact("10B"))
    withdrawn = retract(wrong, reported="2026-01-15")
    events = [wrong, withdrawn]

    assert visible(events, as_of=date(2026, 1, 14)) == [wrong]
    assert deal_state(visible(events, as_of=date(2026, 1, 14))).figures["size"].value == exact("10B")
    assert visible(events, as_of=date(2026, 1, 15)) == events
    assert "size" not in deal_state(visible(events, as_of=date(2026, 1, 15))).figures


def test_a_retraction_recorded_later_does_not_change_what_an_earlier_moment_knew():
    wrong = report(reported="2026-01-10", recorded="2026-01-10T12:00Z", size=exact("10B"))
    withdrawn = retract(wrong, reported="2026-01-10", recorded="2026-02-01T12:00Z")
    events = [wrong, withdrawn]

    then = deal_state(visible(events, known_at=at("2026-01-31T00:00Z")))
    now = deal_state(visible(events, known_at=at("2026-02-02T00:00Z")))

    assert then.figures["size"].value == exact("10B")
    assert then.retracted == 0
    assert "size" not in now.figures
    assert now.retracted == 1


def test_both_clocks_combine_what_was_reported_by_a_day_as_the_ledger_knew_it_then():
    on_time = report(reported="2026-01-10", recorded="2026-01-10T12:00Z", size=exact("10B"))
    backfill = report(reported="2026-01-08", recorded="2026-02-15T12:00Z", size=exact("9B"))
    later = report(reported="2026-01-20", recorded="2026-01-20T12:00Z", size=exact("11B"))
    events = [on_time, later, backfill]

    assert visible(events, as_of=date(2026, 1, 10), known_at=at("2026-02-01T00:00Z")) == [on_time]
    assert visible(events, as_of=date(2026, 1, 10), known_at=at("2026-03-01T00:00Z")) == [on_time, backfill]


def test_without_clocks_everything_is_visible():
    events = [report(), report()]
    assert visible(events) == events


def test_a_known_at_without_timezone_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        visible([report()], known_at=datetime(2026, 1, 1))


def test_a_known_at_in_another_timezone_compares_as_the_same_instant():
    event = report(recorded=datetime(2026, 1, 10, 12, tzinfo=timezone.utc))
    assert visible([event], known_at=at("2026-01-10T13:00+01:00")) == [event]
    assert visible([event], known_at=at("2026-01-10T12:59+01:00")) == []
