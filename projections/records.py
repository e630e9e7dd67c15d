"""Shared helpers for the folds: which events are reports, which are retracted, orders.

The folds take the pydantic events of `events.reports` or the light records
of `events.stored` alike: they read attributes and tell a retraction by its
`kind`, and import no pydantic themselves.

Two orders matter. *Record order* is the order the ledger stored the events in
(the order of the list every fold receives). *Reported order* is by the day a
source published, ties broken by record order; it decides what is current.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING
from uuid import UUID

from events.stored import RETRACTION

if TYPE_CHECKING:
    from events.reports import DomainEvent, Report, ReportRetracted

#: Deal-level figures shown first, in this order; any other name follows alphabetically.
FIGURE_ORDER = ("size", "target", "valuation", "pre-money")


def reports_of(events: Iterable[DomainEvent]) -> list[Report]:
    """The reports among the events, in record order."""
    return [event for event in events if event.kind != RETRACTION]  # type: ignore[misc]


def retractions(events: Iterable[DomainEvent]) -> dict[UUID, ReportRetracted]:
    """Retracted event id -> the first retraction (in record order) that withdrew it."""
    found: dict[UUID, ReportRetracted] = {}
    for event in events:
        if event.kind == RETRACTION:
            found.setdefault(event.retracted, event)  # type: ignore[attr-defined]
    return found


def in_reported_order(events: Sequence[DomainEvent]) -> list[DomainEvent]:
    """The events by reported day, ties kept in record order (the sort is stable)."""
    return sorted(events, key=_reported_day)


_reported_day = attrgetter("reported_day")


def reported_day_of(event: DomainEvent) -> date:
    """The reported day of a report or a retraction."""
    try:
        return event.reported_day  # type: ignore[attr-defined]
    except AttributeError:
        raise TypeError(f"a {type(event).__name__} has no reported day") from None


def figure_sort_key(name: str) -> tuple[int, str]:
    """Sort key for deal-level figure names: size, target, valuation, pre-money, then A-Z."""
    if name in FIGURE_ORDER:
        return (FIGURE_ORDER.index(name), "")
    return (len(FIGURE_ORDER), name)


def deal_of(events: Sequence[DomainEvent], deal: str | None = None) -> str:
    """The one deal slug the events belong to (or `deal` when there are none).

    Raises ValueError when the events mix deals, disagree with `deal`, or when
    there are no events and no slug was given.
    """
    slugs = {event.deal for event in events}
    if deal is not None:
        slugs.add(deal)
    if len(slugs) > 1:
        raise ValueError(f"events of several deals given to one fold: {', '.join(sorted(slugs))}")
    if not slugs:
        raise ValueError("no events and no deal slug: cannot tell which deal this is")
    return slugs.pop()
