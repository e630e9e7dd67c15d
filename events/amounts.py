"""Amounts without pydantic: qualifiers, exact JSON numbers and how figures are written.

`Figure` (events.figures, validated) and `StoredFigure` (events.stored, read
back from the ledger) share `FigureMethods`, so both compare, print and turn
into JSON the same way. Importing this module costs no pydantic.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any


class Qualifier(StrEnum):
    """How a source qualified an amount; decides which of low/high is set."""

    EXACT = "exact"
    ABOUT = "about"
    NEARLY = "nearly"
    AT_MOST = "at_most"
    AT_LEAST = "at_least"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"
    RANGE = "range"


# qualifier -> (low is set, high is set)
BOUNDS: dict[Qualifier, tuple[bool, bool]] = {
    Qualifier.EXACT: (True, True),
    Qualifier.ABOUT: (True, True),
    Qualifier.NEARLY: (False, True),
    Qualifier.AT_MOST: (False, True),
    Qualifier.AT_LEAST: (True, False),
    Qualifier.MORE_THAN: (True, False),
    Qualifier.LESS_THAN: (False, True),
    Qualifier.RANGE: (True, True),
}

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
SCALES = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))
#: Shifting and printing amounts without rounding, however many digits they have.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
SIGNS = {
    Qualifier.ABOUT: "≈ ",
    Qualifier.NEARLY: "nearly ",
    Qualifier.AT_MOST: "≤ ",
    Qualifier.AT_LEAST: "≥ ",
    Qualifier.MORE_THAN: "> ",
    Qualifier.LESS_THAN: "< ",
}


class FigureMethods:
    """What every figure can do with its `currency`, `qualifier`, `low`, `high` and `text`."""

    __slots__ = ()

    if TYPE_CHECKING:
        currency: str
        qualifier: Qualifier
        low: Decimal | None
        high: Decimal | None
        text: str | None

    @property
    def value(self) -> Decimal:
        """One amount standing for the figure: the bound given, or a range's midpoint."""
        if self.low is not None and self.high is not None:
            return _EXACT.divide(_EXACT.add(self.low, self.high), 2)  # exact: plain arithmetic keeps 28 digits
        return self.low if self.low is not None else self.high  # type: ignore[return-value]

    def same_claim(self, other: FigureMethods) -> bool:
        """True when both figures say the same thing, whatever words were used."""
        return (self.currency, self.qualifier, self.low, self.high) == (
            other.currency,
            other.qualifier,
            other.low,
            other.high,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form used everywhere: amounts as numbers, integers when integral."""
        return {
            "currency": self.currency,
            "qualifier": self.qualifier.value,
            "low": json_number(self.low),
            "high": json_number(self.high),
            "text": self.text,
        }

    def __str__(self) -> str:
        return format_figure(self)


#: The largest whole amount a JSON number of the ledger holds exactly (64 bits, as orjson writes it).
LARGEST = Decimal(2**64 - 1)


def storage_problem(value: Decimal) -> str | None:
    """Why `json_number` cannot keep the amount exactly, or None.

    Whole amounts are JSON integers up to `LARGEST`; an amount with a fraction
    is a JSON float, exact only when its shortest form gives the amount back
    (always so with at most 15 significant digits). Anything else would be
    stored rounded, or not at all, so it is refused where it is read.
    """
    if value == value.to_integral_value():
        if value > LARGEST:
            return f"{_plain(value)} is too large to keep exactly (at most {LARGEST:,})"
        return None
    if Decimal(repr(float(value))) != value:
        return f"{_plain(value)} has too many digits to keep exactly with a fraction (15 significant digits always fit)"
    return None


def json_number(value: Decimal | None) -> int | float | None:
    """An exact JSON number for an amount: int when integral, else float (see `storage_problem`)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_amount(currency: str, amount: Decimal, *, symbol: bool = True) -> str:
    """'$30B', '€1.5M', 'CNY 300B': short scale, exact digits, no rounding."""
    number = _scaled(amount)
    return f"{SYMBOLS[currency]}{number}" if symbol and currency in SYMBOLS else f"{currency} {number}"


def _scaled(amount: Decimal) -> str:
    for factor, suffix in SCALES:
        if amount >= factor:
            return f"{_plain(_divided(amount, factor))}{suffix}"
    return _plain(amount)


def _divided(amount: Decimal, factor: Decimal) -> Decimal:
    """amount / factor for a power of ten, exactly (plain division rounds to 28 digits)."""
    return amount.scaleb(-factor.adjusted(), _EXACT)


def _plain(number: Decimal) -> str:
    return format(number.normalize(_EXACT), "f")


def format_figure(figure: FigureMethods) -> str:
    """A figure as a person would write it: '≤ $30B', '> $10B', '≈ $1.5T', '$10–20B'."""
    if figure.qualifier is Qualifier.RANGE:
        low, high = figure.low, figure.high
        for factor, suffix in SCALES:
            if low >= factor and high >= factor:  # type: ignore[operator]
                span = f"{_plain(_divided(low, factor))}–{_plain(_divided(high, factor))}{suffix}"  # type: ignore[arg-type]
                break
        else:
            span = f"{_plain(low)}–{_plain(high)}"  # type: ignore[arg-type]
        prefix = SYMBOLS.get(figure.currency)
        return f"{prefix}{span}" if prefix else f"{figure.currency} {span}"
    amount = figure.low if figure.low is not None else figure.high  # not .value: its mean rounds
    return SIGNS.get(figure.qualifier, "") + format_amount(figure.currency, amount)  # type: ignore[arg-type]
