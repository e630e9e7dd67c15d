"""Timelines: each figure's and party's reported values in reported order, with their changes."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

import orjson
import pytest

from tests.unit.builders import (
    about,
    amount,
    at_least,
    between,
    exact,
    less_than,
    more_than,
    nearly,
    report,
    retract,
    up_to,
)
from projections.render import history_json
from projections.timeline import DIRECTIONS, Change, compare, timelines


def line(events, name):
    return next(t for t in timelines(events) if t.name == name)


def directions(events, name):
    return [None if p.change is None else p.change.direction for p in line(events, name).points]


def test_points_follow_the_reported_order_not_the_record_order():
    late = report(reported="2026-01-20", recorded="2026-01-20T10:00Z", size=exact("12B"), source="Reuters")
    backfill = report(reported="2026-01-05", recorded="2026-02-10T10:00Z", size=exact("8B"), source="FT")

    points = line([late, backfill], "size").points

    assert [p.event_id for p in points] == [backfill.event_id, late.event_id]
    assert [p.reported for p in points] == [date(2026, 1, 5), date(2026, 1, 20)]
    assert points[0].recorded.isoformat() == "2026-02-10T10:00:00+00:00"
    assert points[0].source == "FT"
    assert points[0].change is None
    assert points[1].change == Change(absolute=amount("4B"), percent=Decimal("50.0"), direction="raised")


def test_points_of_the_same_day_follow_the_record_order():
    first = report(reported="2026-01-20", size=exact("12B"))
    second = report(reported="2026-01-20", size=exact("10B"))
    assert [p.event_id for p in line([first, second], "size").points] == [first.event_id, second.event_id]
    assert directions([first, second], "size") == [None, "lowered"]


def test_the_percent_is_rounded_to_one_decimal_place():
    events = [
        report(reported="2026-01-10", size=exact("3B")),
        report(reported="2026-01-11", size=exact("2B")),
        report(reported="2026-01-12", size=exact("2.5B")),
    ]
    changes = [p.change for p in line(events, "size").points]
    assert changes[1].absolute == amount("-1B") and changes[1].percent == Decimal("-33.3")
    assert changes[2].absolute == amount("0.5B") and changes[2].percent == Decimal("25.0")


def test_a_change_between_amounts_far_apart_is_exact_and_its_percent_still_rounds():
    """Plain Decimal arithmetic keeps 28 digits: this difference has 35, the percent 38."""
    change = compare(exact("0.000000000000001"), exact("18446744073709551615"))
    assert change.absolute == Decimal("18446744073709551614.999999999999999")
    assert change.percent == Decimal("1844674407370955161499999999999999900.0")


def test_a_change_from_the_smallest_storable_amount_to_the_largest_is_exact_and_rounded():
    """A float's smallest amount (5E-324) to the largest whole one: 344 digits apart."""
    low, high = Decimal("5E-324"), Decimal("18446744073709551615")
    change = compare(exact("5E-324"), exact("18446744073709551615"))
    assert change.absolute == Decimal("18446744073709551614." + "9" * 323 + "5")
    big = Context(prec=1000, rounding=ROUND_HALF_UP)
    exact_percent = big.divide(big.multiply(big.subtract(high, low), 100), low)  # terminates: low is 5E-324
    assert change.percent == exact_percent.quantize(Decimal("0.1"), context=big)
    assert change.percent.as_tuple().exponent == -1


def test_the_percent_is_undefined_after_a_zero():
    change = compare(exact("0"), exact("5B"))
    assert (change.absolute, change.percent, change.direction) == (amount("5B"), None, "raised")


def test_a_range_narrowing_to_an_exact_close():
    events = [
        report(reported="2026-01-10", size=between("10B", "20B")),
        report(reported="2026-01-15", size=between("12B", "18B")),
        report("round-closed", reported="2026-02-01", size=exact("15B")),
    ]
    points = line(events, "size").points
    assert directions(events, "size") == [None, "range narrowed", "now exact"]
    # highs are compared when both figures have one: 20 -> 18 -> 15
    assert points[1].change.absolute == amount("-2B") and points[1].change.percent == Decimal("-10.0")
    assert points[2].change.absolute == amount("-3B") and points[2].change.percent == Decimal("-16.7")


@pytest.mark.parametrize(
    ("before", "after", "word", "absolute"),
    [
        (up_to("10B"), up_to("15B"), "bound raised", "5B"),
        (up_to("15B"), up_to("10B"), "bound lowered", "-5B"),
        (at_least("10B"), at_least("12B"), "bound raised", "2B"),
        (more_than("10B"), more_than("8B"), "bound lowered", "-2B"),
        (less_than("10B"), less_than("9B"), "bound lowered", "-1B"),
        (nearly("10B"), nearly("12B"), "raised", "2B"),
        (about("10B"), about("9B"), "lowered", "-1B"),
        (between("10B", "15B"), between("8B", "20B"), "range widened", "5B"),
        (between("10B", "15B"), between("12B", "18B"), "raised", "3B"),
        (between("10B", "15B"), between("5B", "12B"), "lowered", "-3B"),
        (between("10B", "15B"), between("10B", "14B"), "range narrowed", "-1B"),
        (exact("10B"), between("10B", "12B"), "now a range", "2B"),
        (up_to("10B"), exact("8B"), "now exact", "-2B"),
        (more_than("10B"), exact("12B"), "now exact", "2B"),
        (about("10B"), exact("10B"), "now exact", "0"),
        (exact("10B"), about("10B"), "qualifier changed", "0"),
        (up_to("30B"), at_least("10B"), "qualifier changed", "-20B"),
        (exact("10B"), exact("10B"), "unchanged", "0"),
    ],
)
def test_each_change_has_one_direction_and_a_representative_difference(before, after, word, absolute):
    change = compare(before, after)
    assert change.direction == word
    assert change.absolute == amount(absolute)
    assert word in DIRECTIONS


def test_the_same_claim_in_other_words_is_restated():
    assert compare(exact("10B", text="$10 billion"), exact("10B", text="100亿美元")).direction == "restated"
    assert compare(exact("10B", text="$10 billion"), exact("10B", text="$10 billion")).direction == "unchanged"


def test_a_change_of_currency_has_no_amount_difference():
    change = compare(exact("10B"), exact("10B", currency="EUR"))
    assert change == Change(absolute=None, percent=None, direction="currency changed")


def test_an_amount_given_then_withheld_then_given_again():
    events = [
        report(reported="2026-01-10", parties={"nvidia": exact("30B")}),
        report(reported="2026-01-11", parties={"nvidia": None}),
        report(reported="2026-01-12", parties={"nvidia": None}),
        report(reported="2026-01-13", parties={"nvidia": exact("20B")}),
    ]
    assert directions(events, "nvidia") == [None, "amount undisclosed", "unchanged", "amount disclosed"]
    assert all(p.change is None or p.change.absolute is None for p in line(events, "nvidia").points)


def test_a_retracted_point_stays_marked_and_later_points_compare_with_the_last_standing_one():
    first = report(reported="2026-01-10", size=exact("10B"))
    wrong = report(reported="2026-01-12", size=exact("50B"))
    later = report(reported="2026-01-14", size=exact("12B"))
    events = [first, wrong, later, retract(wrong)]

    points = line(events, "size").points

    assert [p.retracted for p in points] == [False, True, False]
    assert points[1].change.direction == "raised"
    assert points[2].change == Change(absolute=amount("2B"), percent=Decimal("20.0"), direction="raised")


def test_the_first_standing_point_after_retracted_ones_is_a_first_report():
    wrong = report(reported="2026-01-10", size=exact("50B"))
    right = report(reported="2026-01-12", size=exact("10B"))
    events = [wrong, right, retract(wrong)]
    assert directions(events, "size") == [None, "first report"]
    assert line(events, "size").current.event_id == right.event_id


def test_timelines_come_figures_first_in_conventional_order_then_parties_alphabetically():
    events = [
        report(
            figures={"zeta": exact("1B"), "pre-money": exact("2B"), "alpha": exact("3B")},
            valuation=exact("4B"),
            size=exact("5B"),
            target=exact("6B"),
            parties={"sbi": None, "amazon+microsoft": exact("1B"), "nvidia": exact("2B")},
        )
    ]
    lines = timelines(events)
    assert [t.name for t in lines] == [
        "size", "target", "valuation", "pre-money", "alpha", "zeta", "amazon+microsoft", "nvidia", "sbi"
    ]
    assert [(t.figure, t.party, t.parties) for t in lines[5:7]] == [
        ("zeta", None, None),
        (None, "amazon+microsoft", ("Amazon", "Microsoft")),
    ]


def test_every_direction_produced_belongs_to_the_documented_vocabulary():
    figures = [
        None, exact("10B"), exact("12B"), about("12B"), nearly("12B"), up_to("15B"), up_to("14B"),
        at_least("9B"), more_than("9B"), less_than("20B"), between("10B", "20B"), between("11B", "19B"),
        exact("10B", currency="EUR"), exact("10B", text="ten billion"),
    ]
    for before in figures:
        for after in figures:
            assert compare(before, after).direction in DIRECTIONS


def test_the_history_json_lists_events_oldest_reported_first_with_retractions_marked():
    late = report(reported="2026-01-20", size=exact("12B"), parties={"nvidia": None})
    early = report(reported="2026-01-05", size=between("8B", "10B"))
    withdrawn = retract(early, reported="2026-01-25")
    events = [late, early, withdrawn]

    data = history_json("openai-2026", events, timelines(events))

    orjson.dumps(data)
    assert [e["event_id"] for e in data["events"]] == [str(early.event_id), str(late.event_id), str(withdrawn.event_id)]
    assert data["events"][0]["retracted"] is True
    assert data["events"][0]["retracted_by"] == str(withdrawn.event_id)
    assert data["events"][1]["retracted"] is False and data["events"][1]["retracted_by"] is None
    size, nvidia = data["figures"]
    assert (size["figure"], size["party"], size["parties"]) == ("size", None, None)
    assert (nvidia["figure"], nvidia["party"], nvidia["parties"]) == (None, "nvidia", ["Nvidia"])
    first, second = size["points"]
    assert first["retracted"] is True and first["change"] is None
    assert first["value"]["low"] == 8_000_000_000
    assert second["change"] == {"absolute": None, "percent": None, "direction": "first report"}
    assert second["reported"] == "2026-01-20"
    assert nvidia["points"][0]["value"] is None


def test_the_history_json_writes_percents_as_strings_and_amounts_as_numbers():
    events = [report(reported="2026-01-10", size=exact("10B")), report(reported="2026-01-11", size=exact("12.5B"))]
    point = history_json("openai-2026", events, timelines(events))["figures"][0]["points"][1]
    assert point["change"] == {"absolute": 2_500_000_000, "percent": "25.0", "direction": "raised"}
