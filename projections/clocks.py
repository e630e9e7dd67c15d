"""The two clocks of the ledger: what had been *reported* by a day, what was *known* at a moment.

`as_of` is the world's clock: a report counts from the day its source published
it, and a retraction counts from the day the correction was published. So a
report published on 10 January but recorded in March is visible `as_of`
10 January (a backfill).

`known_at` is the ledger's clock: an event counts from the moment the ledger
recorded it (its `timestamp`). A retraction recorded later never changes what
an earlier `known_at` shows, because it is not visible then.

Both clocks can be combined: "what had been reported by 10 January, as far as
the ledger knew on 1 February".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from projections.records import reported_day_of

if TYPE_CHECKING:
    from events.reports import DomainEvent


def visible(
    events: Iterable[DomainEvent],
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> list[DomainEvent]:
    """The events visible on the given clocks, kept in record order.

    Args:
      events: a deal's events in record order.
      as_of: keep events (reports and retractions alike) whose reported day
        is on or before this day. A datetime is read as its calendar day.
      known_at: keep events the ledger had recorded at or before this moment;
        must carry a timezone.

    Raises ValueError when `known_at` has no timezone.
    """
    if known_at is not None and known_at.tzinfo is None:
        raise ValueError("known_at must carry a timezone, e.g. 2026-02-01T12:00Z")
    day = (as_of.date() if isinstance(as_of, datetime) else as_of) if as_of is not None else None
    kept = []
    for event in events:
        if known_at is not None and event.timestamp > known_at:
            continue
        if day is not None and reported_day_of(event) > day:
            continue
        kept.append(event)
    return kept
