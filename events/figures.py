"""The `Figure` value object: a reported amount with its qualifier, kept exact.

A figure is what a source *said*, not what is true: "up to $30 billion" is an
upper bound of 30,000,000,000 USD and is stored as exactly that, together with
the words used. Amounts are `Decimal`, never floats. Qualifiers, JSON numbers
and formatting live in `events.amounts` (no pydantic) and are re-exported here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import field_serializer, field_validator, model_validator

from events.amounts import (  # noqa: F401 - re-exported, the public API of this module
    _EXACT,
    BOUNDS,
    SCALES,
    SIGNS,
    SYMBOLS,
    FigureMethods,
    Qualifier,
    _divided,
    _plain,
    _scaled,
    format_amount,
    format_figure,
    json_number,
    storage_problem,
)
from events.base import Immutable, PlainText


class FigureError(ValueError):
    """A reported amount that cannot be read with certainty."""


class Figure(FigureMethods, Immutable):
    """A reported amount.

    Attributes:
      currency: ISO 4217 code, e.g. "USD".
      qualifier: how the source qualified the amount (see `Qualifier`).
      low: the lower bound, or None when the source gave none.
      high: the upper bound, or None when the source gave none.
      text: the phrase as the source wrote it, e.g. "至多300亿美元".
    """

    currency: str
    qualifier: Qualifier
    low: Decimal | None = None
    high: Decimal | None = None
    text: PlainText | None = None

    @field_validator("currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
            raise ValueError(f"currency must be an ISO 4217 code like 'USD', not {value!r}")
        return value

    @field_validator("low", "high", mode="before")
    @classmethod
    def _no_floats_or_bools(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("an amount must be a number, not a boolean")
        if isinstance(value, float):
            return Decimal(repr(value))
        return value

    @field_validator("low", "high")
    @classmethod
    def _finite_and_not_negative(cls, value: Decimal | None) -> Decimal | None:
        if value is None:
            return None
        if not value.is_finite():
            raise ValueError(f"an amount must be a finite number, not {value}")
        if value < 0:
            raise ValueError(f"an amount cannot be negative ({value})")
        problem = storage_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _bounds_match_qualifier(cls, value: Any, handler: Any) -> Figure:
        if isinstance(value, Figure):
            return value  # a figure given where one is expected was checked when it was made
        figure: Figure = handler(value)
        has_low, has_high = BOUNDS[figure.qualifier]
        q = figure.qualifier.value
        if has_low != (figure.low is not None):
            raise ValueError(f"a '{q}' figure {'needs a' if has_low else 'takes no'} low amount")
        if has_high != (figure.high is not None):
            raise ValueError(f"a '{q}' figure {'needs a' if has_high else 'takes no'} high amount")
        if figure.qualifier in (Qualifier.EXACT, Qualifier.ABOUT) and figure.low != figure.high:
            raise ValueError(f"an '{q}' figure has one amount: low and high must be equal")
        if figure.qualifier is Qualifier.RANGE and figure.low >= figure.high:  # type: ignore[operator]
            raise ValueError(f"a range's low ({figure.low}) must be below its high ({figure.high})")
        return figure

    @field_serializer("low", "high", when_used="json")
    def _as_json_number(self, value: Decimal | None) -> int | float | None:
        return json_number(value)
