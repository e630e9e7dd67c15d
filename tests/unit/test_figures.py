"""The Figure value object: its rules, immutability, JSON form and printed form.

No database is needed.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from pydantic import ValidationError

from events.amounts import LARGEST, FigureMethods, json_number, storage_problem
from events.figures import Figure, Qualifier, format_amount, format_figure

B, T = 10**9, 10**12


def figure(qualifier: str, low=None, high=None, currency: str = "USD", text: str | None = None) -> Figure:
    return Figure(currency=currency, qualifier=qualifier, low=low, high=high, text=text)


@pytest.mark.parametrize(
    "qualifier, low, high",
    [("exact", 5, 5), ("about", 5, 5), ("nearly", None, 5), ("at_most", None, 5), ("at_least", 5, None),
     ("more_than", 5, None), ("less_than", None, 5), ("range", 5, 6)],
)
def test_each_qualifier_accepts_exactly_the_bounds_it_sets(qualifier, low, high):
    made = figure(qualifier, low, high)
    assert (made.low, made.high) == (low, high)
    assert made.qualifier is Qualifier(qualifier)


@pytest.mark.parametrize(
    "qualifier, low, high, words",
    [
        ("at_most", 5, 5, "takes no low amount"),
        ("at_least", None, None, "needs a low amount"),
        ("nearly", None, None, "needs a high amount"),
        ("more_than", 5, 6, "takes no high amount"),
        ("exact", 5, 6, "low and high must be equal"),
        ("about", 5, None, "needs a high amount"),
        ("range", 6, 5, "must be below its high"),
        ("range", 5, 5, "must be below its high"),
        ("exact", -5, -5, "cannot be negative"),
        ("at_least", Decimal("NaN"), None, "finite"),
        ("at_least", math.inf, None, "finite"),
        ("at_least", True, None, "not a boolean"),
    ],
)
def test_bounds_that_do_not_fit_the_qualifier_are_refused(qualifier, low, high, words):
    with pytest.raises(ValidationError, match=words):
        figure(qualifier, low, high)


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", "US1", "ÜSD", ""])
def test_a_currency_must_be_an_iso_code(currency):
    with pytest.raises(ValidationError, match="ISO 4217"):
        figure("exact", 5, 5, currency=currency)


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "up to\u2028$30B"])
def test_the_words_must_be_plain_text(text):
    with pytest.raises(ValidationError):
        figure("exact", 5, 5, text=text)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError, match="extra"):
        Figure(currency="USD", qualifier="exact", low=5, high=5, source="x")  # type: ignore[call-arg]


@pytest.mark.parametrize("field, value", [("low", 6), ("high", 6), ("currency", "EUR"), ("text", "x")])
def test_a_figure_cannot_be_changed_once_made(field, value):
    made = figure("exact", 5, 5)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(made, field, value)
    assert (made.low, made.high, made.currency, made.text) == (5, 5, "USD", None)


def test_a_float_amount_is_kept_as_the_decimal_it_prints_as():
    assert figure("exact", 0.1, 0.1).low == Decimal("0.1")


def test_the_json_form_has_integers_for_integral_amounts_and_floats_otherwise():
    made = figure("at_most", None, Decimal("3E+10"), text="至多300亿美元")
    assert made.to_json() == {
        "currency": "USD", "qualifier": "at_most", "low": None, "high": 30000000000, "text": "至多300亿美元",
    }
    assert isinstance(made.to_json()["high"], int)
    assert json.loads(made.model_dump_json())["high"] == 30000000000
    assert '"high":30000000000' in made.model_dump_json()
    assert figure("exact", Decimal("1.5"), Decimal("1.5")).to_json()["low"] == 1.5


def test_same_claim_ignores_the_words_and_how_the_number_is_written():
    assert figure("exact", Decimal("3E+10"), Decimal("3E+10"), text="$30B").same_claim(
        figure("exact", 30 * B, 30 * B, text="300亿美元")
    )
    assert not figure("exact", 5, 5).same_claim(figure("about", 5, 5))
    assert not figure("exact", 5, 5).same_claim(figure("exact", 5, 5, currency="EUR"))


@pytest.mark.parametrize(
    "made, printed",
    [
        (figure("at_most", None, 30 * B), "≤ $30B"),
        (figure("more_than", 10 * B, None), "> $10B"),
        (figure("about", Decimal("1.5E12"), Decimal("1.5E12")), "≈ $1.5T"),
        (figure("range", 10 * B, 20 * B), "$10–20B"),
        (figure("nearly", None, 100 * B), "nearly $100B"),
        (figure("exact", 300 * B, 300 * B, currency="CNY"), "CNY 300B"),
        (figure("at_least", 5 * 10**6, None, currency="EUR"), "≥ €5M"),
        (figure("less_than", None, 1500, currency="GBP"), "< £1.5K"),
        (figure("exact", Decimal("1.2E9"), Decimal("1.2E9"), currency="HKD"), "HK$1.2B"),
        (figure("exact", 500, 500, currency="CHF"), "CHF 500"),
        (figure("range", 500 * 10**6, 2 * B), "$500–2000M"),
        (figure("exact", 0, 0), "$0"),
    ],
)
def test_format_figure_prints_what_a_person_would_write(made, printed):
    assert format_figure(made) == printed
    assert str(made) == printed


class Printed(FigureMethods):
    """Amounts beyond what a Figure stores (see below): printing alone is tested."""

    __slots__ = ("currency", "qualifier", "low", "high", "text")

    def __init__(self, qualifier: str, low: Decimal, high: Decimal):
        self.currency, self.qualifier, self.low, self.high, self.text = "USD", Qualifier(qualifier), low, high, None


def test_printing_never_rounds_however_many_digits_an_amount_has():
    long = Decimal("1234567890123456789012345678901")
    assert format_figure(Printed("exact", long, long)) == "$1234567890123456789.012345678901T"
    assert format_figure(Printed("range", long, Decimal("1234567890123456789012345678902"))) == (
        "$1234567890123456789.012345678901–1234567890123456789.012345678902T"
    )
    assert format_amount("USD", Decimal("0.000001")) == "$0.000001"
    assert format_amount("USD", Decimal(30 * B), symbol=False) == "USD 30B"


@pytest.mark.parametrize(
    "amount, problem",
    [
        (LARGEST, None),
        (LARGEST + 1, "18446744073709551616 is too large to keep exactly (at most 18,446,744,073,709,551,615)"),
        (Decimal("1E+30"), "1000000000000000000000000000000 is too large to keep exactly"),
        (Decimal("0.1"), None),
        (Decimal("123456789012.345"), None),  # 15 significant digits
        (Decimal("0.000000000000001"), None),
        (Decimal("12345678901234567.5"), "12345678901234567.5 has too many digits to keep exactly with a fraction"),
        (Decimal("0.12345678901234567891"), "0.12345678901234567891 has too many digits"),
    ],
)
def test_an_amount_is_taken_only_if_its_json_number_keeps_it_exactly(amount, problem):
    """Stored amounts are JSON numbers: 64-bit integers, or floats whose shortest form is the amount."""
    found = storage_problem(amount)
    assert found == problem if problem is None else found.startswith(problem)
    if problem is None:
        made = figure("exact", amount, amount)
        assert Decimal(repr(json_number(made.low))) == amount
        assert Decimal(json.dumps(made.to_json()["low"])) == amount
    else:
        with pytest.raises(ValidationError, match="keep exactly"):
            figure("exact", amount, amount)


def test_a_ranges_midpoint_is_exact_whatever_the_spread_of_its_digits():
    low, high = Decimal("0.000000000000001"), LARGEST  # 35 significant digits between them
    assert figure("range", low, high).value == Decimal("9223372036854775807.5000000000000005")
