"""The rows a deal contributes to the materialised indexes, from its folds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from events.reports import DomainEvent, Report
from projections.state import deal_state
from projections.timeline import timelines

HEADLINE = ("size", "target", "valuation")


def deal_rows(events: Sequence[DomainEvent]) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The deal's `deal_index` row and its `party_index` rows."""
    state = deal_state(events)
    headline = {
        name: state.figures[name].value.to_json()  # type: ignore[union-attr]
        for name in HEADLINE
        if name in state.figures and state.figures[name].value is not None
    }
    deal_row = (
        state.deal,
        state.status or "retracted",
        _iso(state.first_reported),
        _iso(state.last_reported),
        max(e.timestamp for e in events).isoformat(),
        state.reports,
        state.retracted,
        state.sources,
        len(state.warnings),
        orjson.dumps(headline).decode(),
    )
    names = {
        party.id: party.name
        for event in events
        if isinstance(event, Report)
        for commitment in event.commitments
        for party in commitment.parties
    }
    party_rows = []
    for line in timelines(events):
        if line.party is None:
            continue
        current = line.current
        for point in line.points:
            amount = orjson.dumps(point.value.to_json()).decode() if point.value else None
            for member in line.party.split("+"):
                party_rows.append(
                    (
                        member,
                        state.deal,
                        line.party,
                        names.get(member, member),
                        str(point.event_id),
                        point.reported.isoformat(),
                        point.recorded.isoformat(),
                        point.source,
                        amount,
                        int(point.retracted),
                        int(point is current),
                    )
                )
    return deal_row, party_rows


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
