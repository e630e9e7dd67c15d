"""The current state of a deal: current values, status, counts and warnings."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from tests.unit.builders import (
    about,
    at_least,
    between,
    exact,
    more_than,
    report,
    retract,
    up_to,
)
from projections.render import state_json
from projections.state import CURRENT_VALUE_RULE, deal_state


def codes(state):
    return [w.code for w in state.warnings]


# current values


def test_a_backfill_recorded_later_but_reported_earlier_does_not_become_current():
    latest = report(reported="2026-01-20", recorded="2026-01-20T10:00Z", size=exact("12B"), source="Reuters")
    backfill = report(reported="2026-01-05", recorded="2026-02-10T10:00Z", size=exact("8B"), source="FT")

    state = deal_state([latest, backfill])

    assert state.figures["size"].value == exact("12B")
    assert state.figures["size"].event_id == latest.event_id
    assert state.figures["size"].source == "Reuters"
    assert state.first_reported == date(2026, 1, 5)
    assert state.last_reported == date(2026, 1, 20)


def test_reports_of_the_same_day_are_ordered_by_when_the_ledger_recorded_them():
    first = report(reported="2026-01-20", recorded="2026-01-20T10:00Z", size=exact("12B"))
    second = report(reported="2026-01-20", recorded="2026-01-20T11:00Z", size=exact("13B"))

    assert deal_state([first, second]).figures["size"].event_id == second.event_id


def test_a_report_without_a_figure_keeps_the_earlier_value_current():
    sized = report(reported="2026-01-10", size=exact("10B"), valuation=exact("300B"))
    later = report("term-sheet-reviewed", reported="2026-01-15", valuation=exact("320B"))

    state = deal_state([sized, later])

    assert state.figures["size"].event_id == sized.event_id
    assert state.figures["valuation"].event_id == later.event_id


def test_a_retracted_report_drops_out_and_the_previous_value_is_current_again():
    first = report(reported="2026-01-10", size=exact("10B"), parties={"nvidia": exact("5B")})
    wrong = report(reported="2026-01-12", size=exact("99B"), parties={"nvidia": exact("50B"), "sbi": exact("1B")})
    withdrawn = retract(wrong, reported="2026-01-13")

    state = deal_state([first, wrong, withdrawn])

    assert state.figures["size"].value == exact("10B")
    assert state.commitments["nvidia"].value == exact("5B")
    assert "sbi" not in state.commitments
    assert (state.reports, state.retracted) == (2, 1)
    assert state.last_reported == date(2026, 1, 10)


def test_commitments_are_kept_per_party_key_with_the_report_that_set_them():
    opened = report(
        reported="2026-01-10",
        recorded="2026-01-11T08:00Z",
        source="The Information",
        parties={"nvidia": up_to("30B"), "amazon+microsoft": exact("20B"), "softbank": None},
    )

    state = deal_state([opened])

    assert list(state.commitments) == ["amazon+microsoft", "nvidia", "softbank"]
    group = state.commitments["amazon+microsoft"]
    assert group.parties == ("Amazon", "Microsoft")
    assert group.party == "amazon+microsoft" and group.figure is None
    assert group.reported == date(2026, 1, 10)
    assert group.recorded.isoformat() == "2026-01-11T08:00:00+00:00"
    assert state.commitments["softbank"].value is None


def test_figures_come_in_the_order_size_target_valuation_pre_money_then_alphabetical():
    event = report(
        figures={"zeta": exact("1B"), "pre-money": exact("2B"), "alpha": exact("3B")},
        valuation=exact("4B"),
        size=exact("5B"),
        target=exact("6B"),
    )
    assert list(deal_state([event]).figures) == ["size", "target", "valuation", "pre-money", "alpha", "zeta"]


def test_sources_count_distinct_names_of_the_reports_that_stand():
    a = report(source="Reuters")
    b = report(source="Reuters")
    c = report(source="Bloomberg")
    d = report(source="FT")
    state = deal_state([a, b, c, d, retract(d)])
    assert (state.sources, state.reports, state.retracted) == (2, 4, 1)


def test_the_current_value_rule_is_one_sentence_for_help_text():
    assert CURRENT_VALUE_RULE.endswith(".") and CURRENT_VALUE_RULE.count(". ") == 0
    assert "retracted" in CURRENT_VALUE_RULE and "recorded" in CURRENT_VALUE_RULE


def test_a_state_of_no_events_needs_the_deal_slug():
    state = deal_state([], deal="openai-2026")
    assert (state.deal, state.status, state.first_reported, state.figures) == ("openai-2026", None, None, {})
    with pytest.raises(ValueError, match="which deal"):
        deal_state([])


def test_events_of_two_deals_are_refused():
    with pytest.raises(ValueError, match="several deals"):
        deal_state([report(deal="a"), report(deal="b")])


# status


@pytest.mark.parametrize(
    ("kinds", "status"),
    [
        (["talks-opened"], "talks"),
        (["talks-opened", "amount-revised"], "talks"),
        (["talks-opened", "term-sheet-reviewed"], "term-sheet"),
        (["talks-opened", "term-sheet-reviewed", "round-closed"], "closed"),
        (["talks-opened", "round-closed", "amount-revised"], "closed"),
        (["talks-opened", "talks-ended"], "ended"),
        (["talks-opened", "talks-ended", "talks-opened"], "talks"),
        (["term-sheet-reviewed", "talks-ended", "talks-opened"], "term-sheet"),
        (["talks-ended"], "ended"),
    ],
)
def test_the_status_moves_through_the_stages_in_reported_order(kinds, status):
    events = [report(kind, reported=f"2026-01-{10 + i}") for i, kind in enumerate(kinds)]
    assert deal_state(events).status == status


def test_talks_reopen_when_a_later_reported_report_follows_the_end():
    ended = report("talks-ended", reported="2026-01-20")
    reopened = report("talks-opened", reported="2026-02-01")
    assert deal_state([ended, reopened]).status == "talks"


def test_an_end_backfilled_before_a_later_report_does_not_end_the_deal():
    opened = report("talks-opened", reported="2026-01-20", recorded="2026-01-20T10:00Z")
    old_end = report("talks-ended", reported="2026-01-05", recorded="2026-01-25T10:00Z")
    assert deal_state([opened, old_end]).status == "talks"


def test_a_retracted_end_does_not_end_the_deal():
    opened = report("term-sheet-reviewed", reported="2026-01-10")
    ended = report("talks-ended", reported="2026-01-20")
    assert deal_state([opened, ended, retract(ended)]).status == "term-sheet"


def test_a_retracted_close_does_not_close_the_deal():
    opened = report("talks-opened", reported="2026-01-10")
    closed = report("round-closed", reported="2026-01-20")
    assert deal_state([opened, closed, retract(closed)]).status == "talks"


def test_the_ending_report_of_the_same_day_recorded_last_wins():
    ended = report("talks-ended", reported="2026-01-20")
    opened = report("talks-opened", reported="2026-01-20")
    assert deal_state([opened, ended]).status == "ended"
    assert deal_state([ended, opened]).status == "talks"


# warning (a): commitments exceed size


def test_commitments_whose_certain_sum_exceeds_the_size_warn():
    event = report(size=up_to("30B"), parties={"nvidia": exact("20B"), "amazon": at_least("15B")})

    state = deal_state([event])

    assert codes(state) == ["commitments-exceed-size"]
    warning = state.warnings[0]
    assert "$35B" in warning.message and "≤ $30B" in warning.message and "Nvidia $20B" in warning.message
    assert "\n" not in warning.message
    assert warning.event_ids == (event.event_id,)


def test_upper_bounds_and_undisclosed_amounts_are_not_certain_and_are_not_added():
    event = report(size=exact("30B"), parties={"nvidia": exact("20B"), "amazon": up_to("50B"), "sbi": None})
    assert codes(deal_state([event])) == []


def test_a_group_commitment_counts_its_members_once():
    sized = report(reported="2026-01-10", size=exact("30B"))
    group = report(reported="2026-01-11", parties={"amazon+microsoft": exact("20B")})
    singles = report(
        reported="2026-01-12", parties={"amazon": exact("15B"), "microsoft": exact("5B"), "sbi": exact("5B")}
    )

    assert codes(deal_state([sized, group, singles])) == []

    extra = report(reported="2026-01-13", parties={"nvidia": exact("6B")})
    state = deal_state([sized, group, singles, extra])
    assert codes(state) == ["commitments-exceed-size"]
    assert "$31B" in state.warnings[0].message
    assert set(state.warnings[0].event_ids) == {sized.event_id, group.event_id, singles.event_id, extra.event_id}


def test_commitments_in_another_currency_are_not_compared_with_the_size():
    event = report(size=exact("10B"), parties={"nvidia": exact("20B", currency="EUR")})
    assert codes(deal_state([event])) == []


def test_a_size_without_an_upper_bound_cannot_be_exceeded():
    event = report(size=more_than("10B"), parties={"nvidia": exact("20B")})
    assert codes(deal_state([event])) == []


def test_the_current_size_not_an_earlier_one_is_compared():
    small = report(reported="2026-01-10", size=exact("10B"), parties={"nvidia": exact("20B")})
    bigger = report(reported="2026-01-12", size=between("20B", "25B"))
    assert codes(deal_state([small])) == ["commitments-exceed-size"]
    assert codes(deal_state([small, bigger])) == []


# warning (b): close outside an earlier range or bound


def test_a_close_above_an_earlier_size_range_warns():
    ranged = report(reported="2026-01-10", size=between("10B", "15B"), source="Reuters")
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"), source="Company")

    state = deal_state([ranged, closed])

    assert codes(state) == ["close-outside-range"]
    message = state.warnings[0].message
    assert "$20B" in message and "$10–15B" in message and "above" in message and "Reuters" in message
    assert state.warnings[0].event_ids == (ranged.event_id, closed.event_id)


def test_a_close_compared_only_with_the_same_figure():
    target = report(reported="2026-01-10", target=up_to("15B"))
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"))
    assert codes(deal_state([target, closed])) == []


@pytest.mark.parametrize(
    ("earlier", "closed", "warns"),
    [
        (up_to("15B"), exact("20B"), True),
        (up_to("15B"), exact("15B"), False),
        (at_least("15B"), exact("10B"), True),
        (at_least("15B"), exact("15B"), False),
        (more_than("15B"), exact("15B"), True),
        (more_than("15B"), exact("16B"), False),
        (between("10B", "15B"), exact("9B"), True),
        (between("10B", "15B"), exact("12B"), False),
        (between("10B", "15B"), between("14B", "18B"), False),
        (between("10B", "15B"), between("16B", "18B"), True),
        (about("15B"), exact("20B"), False),
        (up_to("15B"), exact("20B", currency="EUR"), False),
    ],
)
def test_a_close_warns_only_when_it_is_certainly_outside_the_earlier_bound(earlier, closed, warns):
    events = [report(reported="2026-01-10", size=earlier), report("round-closed", reported="2026-02-01", size=closed)]
    assert codes(deal_state(events)) == (["close-outside-range"] if warns else [])


def test_a_retracted_earlier_range_is_not_held_against_the_close():
    ranged = report(reported="2026-01-10", size=between("10B", "15B"))
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"))
    assert codes(deal_state([ranged, closed, retract(ranged)])) == []


def test_a_range_reported_after_the_close_is_not_an_earlier_bound():
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"))
    later = report("round-closed", reported="2026-02-01", size=between("10B", "15B"))
    assert "close-outside-range" not in codes(deal_state([closed, later]))


# warning (c): reported after the close


def test_a_report_dated_after_the_close_warns():
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"))
    revised = report("amount-revised", reported="2026-02-05", size=exact("22B"), source="Bloomberg")

    state = deal_state([closed, revised])

    assert codes(state) == ["reported-after-close"]
    assert "2026-02-05" in state.warnings[0].message and "Bloomberg" in state.warnings[0].message
    assert state.warnings[0].event_ids == (closed.event_id, revised.event_id)


def test_a_report_of_the_closing_day_does_not_warn():
    closed = report("round-closed", reported="2026-02-01")
    same_day = report("amount-revised", reported="2026-02-01", size=exact("22B"))
    assert codes(deal_state([closed, same_day])) == []


def test_the_earliest_close_that_stands_is_the_close():
    wrong_close = report("round-closed", reported="2026-01-15")
    close = report("round-closed", reported="2026-02-01")
    talks = report("amount-revised", reported="2026-01-20", size=exact("1B"))

    assert codes(deal_state([wrong_close, close, talks])) == ["reported-after-close", "reported-after-close"]
    assert codes(deal_state([wrong_close, close, talks, retract(wrong_close)])) == []


def test_the_state_json_is_plain_data_orjson_can_write():
    event = report(reported="2026-01-10", size=between("10B", "15B"), parties={"nvidia": None})
    closed = report("round-closed", reported="2026-02-01", size=exact("20B"))

    data = state_json(deal_state([event, closed]))

    orjson.dumps(data)
    assert data["status"] == "closed"
    assert data["first_reported"] == "2026-01-10"
    assert data["figures"]["size"]["value"] == {
        "currency": "USD", "qualifier": "exact", "low": 20_000_000_000, "high": 20_000_000_000, "text": None
    }
    assert data["figures"]["size"]["event_id"] == str(closed.event_id)
    assert data["commitments"]["nvidia"]["value"] is None
    assert data["commitments"]["nvidia"]["parties"] == ["Nvidia"]
    assert data["warnings"][0]["code"] == "close-outside-range"
    assert data["rules"]["current_value"] == CURRENT_VALUE_RULE
