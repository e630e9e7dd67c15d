"""Problems in a deal's record that an analyst should look at, as data.

Codes:
  commitments-exceed-size  the certain sum of current commitments is above the
                           current size's upper bound (same currency only);
  close-outside-range      a figure of a round-closed report is certainly outside
                           a bound given earlier for the same figure (range,
                           at_most, at_least, more_than, less_than);
  reported-after-close     a report is dated after the earliest non-retracted close.

Each warning carries the ids of the events involved. Only non-retracted
reports are considered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from events.amounts import Qualifier, format_amount, format_figure
from projections.records import in_reported_order

if TYPE_CHECKING:
    from events.figures import Figure
    from events.reports import Report
    from projections.state import Current

#: Qualifiers whose bounds a close can break.
BOUNDED = {Qualifier.RANGE, Qualifier.AT_MOST, Qualifier.AT_LEAST, Qualifier.MORE_THAN, Qualifier.LESS_THAN}


@dataclass(frozen=True)
class DealWarning:
    """One problem: a stable `code`, a one-line `message`, the events involved."""

    code: str
    message: str
    event_ids: tuple[UUID, ...]


def find_warnings(
    figures: Mapping[str, Current],
    commitments: Mapping[str, Current],
    standing: Sequence[Report],
) -> list[DealWarning]:
    """All warnings for a deal; `figures`/`commitments` are the current values (state.Current)."""
    found = []
    found += commitments_exceed_size(figures.get("size"), list(commitments.values()))
    found += close_outside_range(standing)
    found += reported_after_close(standing)
    return found


def counted_commitments(commitments: Sequence[Current]) -> list[Current]:
    """The commitments to add up, counting each party once.

    Groups are taken largest first (then by key), skipping a group that shares
    a member with one already taken; then every single party not in a taken
    group. A taken group stands for its members even without an amount.
    """
    groups = sorted((c for c in commitments if "+" in c.party), key=lambda c: (-c.party.count("+"), c.party))
    covered: set[str] = set()
    counted = []
    for group in groups:
        members = set(group.party.split("+"))
        if members & covered:
            continue
        covered |= members
        counted.append(group)
    counted += [c for c in commitments if "+" not in c.party and c.party not in covered]
    return counted


def commitments_exceed_size(size: Current | None, commitments: Sequence[Current]) -> list[DealWarning]:
    """(a) The certain sum of commitments (lower bounds in the size's currency) above size.high."""
    if size is None or size.value is None or size.value.high is None:
        return []
    limit: Figure = size.value
    parts = [
        c
        for c in counted_commitments(commitments)
        if c.value is not None and c.value.currency == limit.currency and c.value.low is not None
    ]
    total = sum((c.value.low for c in parts), Decimal(0))
    if total <= limit.high:  # type: ignore[operator]
        return []
    listed = ", ".join(f"{' + '.join(c.parties or (c.party,))} {format_figure(c.value)}" for c in parts)
    message = (
        f"commitments add up to at least {format_amount(limit.currency, total)} ({listed}), "
        f"above the size {format_figure(limit)}"
    )
    ids = _unique([size.event_id, *(c.event_id for c in parts)])
    return [DealWarning("commitments-exceed-size", message, ids)]


def outside(close: Figure, earlier: Figure) -> str | None:
    """How a closing figure certainly breaks an earlier bound ('above', 'below'), or None."""
    if close.currency != earlier.currency or earlier.qualifier not in BOUNDED:
        return None
    q = earlier.qualifier
    if earlier.high is not None and close.low is not None:
        if close.low > earlier.high or (q is Qualifier.LESS_THAN and close.low >= earlier.high):
            return "above"
    if earlier.low is not None and close.high is not None:
        if close.high < earlier.low or (q is Qualifier.MORE_THAN and close.high <= earlier.low):
            return "at or below" if q is Qualifier.MORE_THAN else "below"
    return None


def close_outside_range(standing: Sequence[Report]) -> list[DealWarning]:
    """(b) Each figure of a round-closed report against bounds reported earlier for it."""
    ordered = in_reported_order(standing)
    found = []
    for position, close in enumerate(ordered):
        if close.kind != "round-closed":
            continue
        for earlier in ordered[:position]:
            for name, figure in close.figures.items():
                bound = earlier.figures.get(name)
                where = outside(figure, bound) if bound is not None else None
                if where is None:
                    continue
                message = (
                    f"closed {name} {format_figure(figure)} ({close.source.name}, {close.reported_day}) "
                    f"is {where} the {name} {format_figure(bound)} reported earlier "  # type: ignore[arg-type]
                    f"({earlier.source.name}, {earlier.reported_day})"
                )
                found.append(DealWarning("close-outside-range", message, (earlier.event_id, close.event_id)))
    return found


def reported_after_close(standing: Sequence[Report]) -> list[DealWarning]:
    """(c) Reports dated after the earliest non-retracted close."""
    ordered = in_reported_order(standing)
    closes = [r for r in ordered if r.kind == "round-closed"]
    if not closes:
        return []
    close = closes[0]
    found = []
    for report in ordered:
        if report.reported_day > close.reported_day:
            message = (
                f"{report.kind} report of {report.reported_day} ({report.source.name}) is dated after "
                f"the close reported on {close.reported_day} ({close.source.name})"
            )
            found.append(DealWarning("reported-after-close", message, (close.event_id, report.event_id)))
    return found


def _unique(ids: Iterable[UUID]) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(ids))
