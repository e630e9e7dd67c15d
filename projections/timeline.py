"""Timelines: every reported value of each figure and each party's commitment, in reported order.

A timeline has one point per report that gave the figure (or named the party),
ordered by reported day, ties by record order. A retracted report stays in its
timeline as a point marked `retracted`; it is never compared against.

Change of a point: against the previous *non-retracted* point of the same
timeline. The very first point of a timeline has no change (None).

`absolute` is the difference of representative amounts, `after - before`:
  - the `high` bounds when both figures have one,
  - else the `low` bounds when both have one,
  - else each figure's `value` (its bound, or a range's midpoint).
It is None when either side has no figure or the currencies differ.
`percent` is `absolute / before * 100`, rounded half-up to one decimal place;
None when `absolute` is None or the before amount is 0.

`direction` is one of `DIRECTIONS`, decided by the first rule that applies:
  1. "first report"      every earlier point of the timeline is retracted;
  2. "unchanged"         both points give no amount, or the same claim in the same words;
  3. "amount undisclosed" a figure before, none now (the party takes part, amount not given);
  4. "amount disclosed"  no figure before, a figure now;
  5. "currency changed"  the currencies differ;
  6. "restated"          same currency, qualifier and bounds, different words;
  7. same qualifier:
     - exact, about, nearly: "raised" / "lowered" by the amount;
     - at_most, at_least, more_than, less_than: "bound raised" / "bound lowered";
     - range: "range narrowed" (new range inside the old), "range widened"
       (old inside the new), else "raised" / "lowered" (both ends moved that way);
  8. different qualifier: "now exact" (became exact), "now a range" (became a
     range), else "qualifier changed".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from events.amounts import Qualifier
from projections.records import figure_sort_key, in_reported_order, reports_of, retractions
from projections.values import Value

if TYPE_CHECKING:
    from events.figures import Figure
    from events.reports import DomainEvent, Report

DIRECTIONS = (
    "first report",
    "unchanged",
    "amount undisclosed",
    "amount disclosed",
    "currency changed",
    "restated",
    "raised",
    "lowered",
    "bound raised",
    "bound lowered",
    "range narrowed",
    "range widened",
    "now exact",
    "now a range",
    "qualifier changed",
)

POINT_ESTIMATES = {Qualifier.EXACT, Qualifier.ABOUT, Qualifier.NEARLY}
ONE_DECIMAL = Decimal("0.1")
#: Change arithmetic without the default 28-digit rounding. A stored amount is below 10^20
#: (`events.amounts.LARGEST`) and, with a fraction, a float's shortest form (nothing below
#: 5E-324), so two amounts span at most ~345 digits: differences are exact, and a
#: percentage (up to ~10^346) still has its decimal place when it is rounded to it.
WIDE = Context(prec=400, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN)


_set = object.__setattr__


class Change(Value):
    """How a value differs from the previous non-retracted one (see the module docstring)."""

    __slots__ = ("absolute", "percent", "direction")
    absolute: Decimal | None
    percent: Decimal | None
    direction: str

    def __init__(self, absolute: Decimal | None, percent: Decimal | None, direction: str):
        _set(self, "absolute", absolute)
        _set(self, "percent", percent)
        _set(self, "direction", direction)


class Point(Value):
    """One report's value for a figure or a party.

    `reported` is the source's day, `recorded` when the ledger stored the
    report, `value` None when the party takes part with no amount given;
    `event_id` is the report's id (its text when read from stored records).
    """

    __slots__ = ("reported", "recorded", "source", "event_id", "kind", "value", "change", "retracted")
    reported: date
    recorded: datetime
    source: str
    event_id: UUID | str
    kind: str
    value: Figure | None
    change: Change | None
    retracted: bool

    def __init__(
        self, reported: date, recorded: datetime, source: str, event_id: UUID | str, kind: str,
        value: Figure | None, change: Change | None, retracted: bool,
    ):  # fmt: skip
        _set(self, "reported", reported)
        _set(self, "recorded", recorded)
        _set(self, "source", source)
        _set(self, "event_id", event_id)
        _set(self, "kind", kind)
        _set(self, "value", value)
        _set(self, "change", change)
        _set(self, "retracted", retracted)


class Timeline(Value):
    """The points of one deal-level figure (`figure` set) or one party key (`party` set).

    `parties` holds the display names of the party or group, as the latest
    non-retracted report spelled them; None for a deal-level figure.
    """

    __slots__ = ("figure", "party", "parties", "points")
    figure: str | None
    party: str | None
    parties: tuple[str, ...] | None
    points: tuple[Point, ...]

    def __init__(self, figure: str | None, party: str | None, parties: tuple[str, ...] | None, points: tuple[Point, ...]):
        _set(self, "figure", figure)
        _set(self, "party", party)
        _set(self, "parties", parties)
        _set(self, "points", points)

    @property
    def name(self) -> str:
        """The figure name or the party key."""
        return self.figure if self.figure is not None else self.party  # type: ignore[return-value]

    @property
    def label(self) -> str:
        """The figure name, or the party names joined with ' + '."""
        return label(self.figure, self.party, self.parties)

    @property
    def current(self) -> Point | None:
        """The current value: the latest reported non-retracted point, if any."""
        standing = [point for point in self.points if not point.retracted]
        return standing[-1] if standing else None


def label(figure: str | None, party: str | None, parties: tuple[str, ...] | None) -> str:
    """How a figure or party is named to a person: 'size', 'Amazon + Microsoft', '软银 [softbank]'.

    The party id is added in brackets when the names as reported do not spell
    it, so a reader knows what to type for `ledger party`.
    """
    if figure is not None:
        return figure
    if not parties:
        return party or ""
    names = " + ".join(parties)
    spelled = "+".join(sorted(name.lower().replace(" ", "-") for name in parties))
    return names if spelled == party else f"{names} [{party}]"


def representative(before: Figure, after: Figure) -> tuple[Decimal, Decimal]:
    """The two amounts compared for a change: highs if both have one, else lows, else values."""
    if before.high is not None and after.high is not None:
        return before.high, after.high
    if before.low is not None and after.low is not None:
        return before.low, after.low
    return before.value, after.value


def compare(before: Figure | None, after: Figure | None) -> Change:
    """The change from one value to the next (either may be None: amount not given)."""
    absolute = percent = None
    if before is not None and after is not None and before.currency == after.currency:
        old, new = representative(before, after)
        absolute = WIDE.subtract(new, old)
        if old != 0:
            percent = WIDE.multiply(WIDE.divide(absolute, old), 100).quantize(ONE_DECIMAL, context=WIDE)
    return Change(absolute=absolute, percent=percent, direction=direction(before, after))


def direction(before: Figure | None, after: Figure | None) -> str:
    """The word(s) of `DIRECTIONS` for a change (rules 2-8 of the module docstring)."""
    if before is None or after is None:
        if before is None and after is None:
            return "unchanged"
        return "amount undisclosed" if after is None else "amount disclosed"
    if before.currency != after.currency:
        return "currency changed"
    if before.same_claim(after):
        return "unchanged" if before.text == after.text else "restated"
    if before.qualifier is after.qualifier:
        return _same_qualifier(before, after)
    if after.qualifier is Qualifier.EXACT:
        return "now exact"
    if after.qualifier is Qualifier.RANGE:
        return "now a range"
    return "qualifier changed"


def _same_qualifier(before: Figure, after: Figure) -> str:
    if before.qualifier is Qualifier.RANGE:
        low, high, new_low, new_high = before.low, before.high, after.low, after.high
        if new_low >= low and new_high <= high:  # type: ignore[operator]
            return "range narrowed"
        if new_low <= low and new_high >= high:  # type: ignore[operator]
            return "range widened"
        return "raised" if new_low > low else "lowered"  # type: ignore[operator]
    up = after.value > before.value
    if before.qualifier in POINT_ESTIMATES:
        return "raised" if up else "lowered"
    return "bound raised" if up else "bound lowered"


class Subject:
    """A figure or party key and every report that gave it, in reported order: the points before changes.

    `rows` are (report, value) pairs; `parties` as in `Timeline`. Read-only by convention.
    """

    __slots__ = ("figure", "party", "parties", "rows")

    def __init__(
        self, figure: str | None, party: str | None, parties: tuple[str, ...] | None,
        rows: list[tuple[Report, Figure | None]],
    ):  # fmt: skip
        self.figure, self.party, self.parties, self.rows = figure, party, parties, rows


def subjects(events: Sequence[DomainEvent], withdrawn: Mapping[UUID, Any] | None = None) -> list[Subject]:
    """The figures and party keys of `timelines`, in its order, without computing changes.

    `withdrawn` is `retractions(events)` when the caller has it already.
    """
    if withdrawn is None:
        withdrawn = retractions(events)
    figures: dict[str, list[tuple[Report, Figure | None]]] = {}
    parties: dict[str, list[tuple[Report, Figure | None, Any]]] = {}
    for report in in_reported_order(reports_of(events)):
        for name, figure in report.figures.items():
            figures.setdefault(name, []).append((report, figure))
        for commitment in report.commitments:
            parties.setdefault(commitment.key, []).append((report, commitment.amount, commitment.parties))
    result = [Subject(name, None, None, figures[name]) for name in sorted(figures, key=figure_sort_key)]
    for key in sorted(parties):
        rows = parties[key]
        standing = [row for row in rows if row[0].event_id not in withdrawn] or rows
        names = tuple(party.name for party in standing[-1][2])
        result.append(Subject(None, key, names, [(r, f) for r, f, _ in rows]))
    return result


def current_row(rows: list[tuple[Report, Figure | None]], withdrawn: Mapping[UUID, Any]) -> tuple[Report, Figure | None] | None:
    """The row of the current value (as `Timeline.current`): the latest reported non-retracted one."""
    for row in reversed(rows):
        if row[0].event_id not in withdrawn:
            return row
    return None


def timelines(events: Sequence[DomainEvent]) -> list[Timeline]:
    """One timeline per deal-level figure and per party key, points in reported order.

    Order: size, target, valuation, pre-money, other figures A-Z, then party
    keys A-Z.
    """
    withdrawn = retractions(events)
    return [
        Timeline(subject.figure, subject.party, subject.parties, _points(subject.rows, withdrawn))
        for subject in subjects(events, withdrawn)
    ]


def _points(rows: list[tuple[Report, Figure | None]], withdrawn: Mapping[UUID, Any]) -> tuple[Point, ...]:
    points: list[Point] = []
    previous: Figure | None = None
    have_previous = False
    for index, (report, value) in enumerate(rows):
        retracted = report.event_id in withdrawn
        if index == 0:
            change = None
        elif not have_previous:
            change = Change(absolute=None, percent=None, direction="first report")
        else:
            change = compare(previous, value)
        points.append(
            Point(
                reported=report.reported_day,
                recorded=report.timestamp,
                source=report.source.name,
                event_id=report.event_id,
                kind=report.kind,
                value=value,
                change=change,
                retracted=retracted,
            )
        )
        if not retracted:
            previous, have_previous = value, True
    return tuple(points)
