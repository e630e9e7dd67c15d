"""Plain-dict JSON forms of the projections, ready for orjson.

Conventions: dates and times are ISO strings, ids strings, figures
`Figure.to_json()`. Amounts (`absolute`) are JSON numbers via `json_number`
(an int when integral). Percents are strings with one decimal place ("12.5",
"-20.0") so the rounding shown is the rounding made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from events.amounts import json_number
from events.stored import StoredRecord, record_json
from projections.records import in_reported_order, retractions

if TYPE_CHECKING:
    from events.reports import DomainEvent
    from projections.compare import Blame, Diff
    from projections.state import Current, DealState
    from projections.timeline import Change, Point, Timeline


def event_json(event: DomainEvent | StoredRecord) -> dict[str, Any]:
    """The JSON form of an event or of its record (`events.reports.event_json`)."""
    if isinstance(event, StoredRecord):
        return record_json(event)
    from events.reports import event_json as validated_json

    return validated_json(event)


def change_json(change: Change | None) -> dict[str, Any] | None:
    """{"absolute": number|null, "percent": "12.5"|null, "direction": str}, or None."""
    if change is None:
        return None
    return {
        "absolute": json_number(change.absolute),
        "percent": None if change.percent is None else str(change.percent),
        "direction": change.direction,
    }


def point_json(point: Point) -> dict[str, Any]:
    """One timeline point."""
    return {
        "reported": point.reported.isoformat(),
        "recorded": point.recorded.isoformat(),
        "source": point.source,
        "event_id": str(point.event_id),
        "kind": point.kind,
        "value": None if point.value is None else point.value.to_json(),
        "change": change_json(point.change),
        "retracted": point.retracted,
    }


def _subject(figure: str | None, party: str | None, parties: tuple[str, ...] | None) -> dict[str, Any]:
    return {"figure": figure, "party": party, "parties": None if parties is None else list(parties)}


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    """One timeline: its figure or party and its points."""
    return {
        **_subject(timeline.figure, timeline.party, timeline.parties),
        "points": [point_json(point) for point in timeline.points],
    }


def history_json(slug: str, events: Sequence[DomainEvent], timelines: Sequence[Timeline]) -> dict[str, Any]:
    """The deal's events (oldest reported first, each marked retracted/retracted_by) and timelines."""
    withdrawn = retractions(events)
    rows = []
    for event in in_reported_order(events):
        retraction = withdrawn.get(event.event_id)
        rows.append(
            {
                **event_json(event),
                "retracted": retraction is not None,
                "retracted_by": None if retraction is None else str(retraction.event_id),
            }
        )
    return {"deal": slug, "events": rows, "figures": [timeline_json(t) for t in timelines]}


def current_json(current: Current) -> dict[str, Any]:
    """A current value and the report that set it."""
    return {
        **_subject(current.figure, current.party, current.parties),
        "value": None if current.value is None else current.value.to_json(),
        "event_id": str(current.event_id),
        "reported": current.reported.isoformat(),
        "recorded": current.recorded.isoformat(),
        "source": current.source,
    }


def state_json(state: DealState) -> dict[str, Any]:
    """The deal's current state; `figures` and `commitments` keyed by name, in display order."""
    from projections.state import CURRENT_VALUE_RULE, STATUS_RULE

    return {
        "deal": state.deal,
        "status": state.status,
        "first_reported": None if state.first_reported is None else state.first_reported.isoformat(),
        "last_reported": None if state.last_reported is None else state.last_reported.isoformat(),
        "reports": state.reports,
        "retracted": state.retracted,
        "sources": state.sources,
        "figures": {name: current_json(c) for name, c in state.figures.items()},
        "commitments": {key: current_json(c) for key, c in state.commitments.items()},
        "warnings": [
            {"code": w.code, "message": w.message, "event_ids": [str(i) for i in w.event_ids]}
            for w in state.warnings
        ],
        "rules": {"current_value": CURRENT_VALUE_RULE, "status": STATUS_RULE},
    }


def _side(value: Any, event_id: Any) -> dict[str, Any] | None:
    if event_id is None:
        return None
    return {"value": None if value is None else value.to_json(), "event_id": str(event_id)}


def diff_json(slug: str, from_day: date, to_day: date, diff: Diff) -> dict[str, Any]:
    """What changed in `slug` between two days; `before`/`after` are {"value", "event_id"} or null.

    `slug`, `from_day` and `to_day` name what was asked (like `history_json`'s
    slug); they are expected to match the `Diff`.
    """
    return {
        "deal": slug,
        "from": from_day.isoformat(),
        "to": to_day.isoformat(),
        "status": {"before": diff.status_before, "after": diff.status_after},
        "entries": [
            {
                **_subject(d.figure, d.party, d.parties),
                "before": _side(d.before, d.before_event),
                "after": _side(d.after, d.after_event),
                "change": change_json(d.change),
            }
            for d in diff.entries
        ],
    }


def blame_json(slug: str, blames: Sequence[Blame]) -> dict[str, Any]:
    """Each current value with the report that set it and the points it superseded."""
    return {
        "deal": slug,
        "figures": [
            {
                **_subject(b.figure, b.party, b.parties),
                "current": point_json(b.current),
                "superseded": [point_json(p) for p in b.superseded],
            }
            for b in blames
        ],
    }
