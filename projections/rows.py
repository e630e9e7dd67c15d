"""The rows a deal contributes to the materialised indexes, from its folds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from projections.records import reports_of, retractions
from projections.state import deal_state
from projections.timeline import current_row, subjects

if TYPE_CHECKING:
    from events.reports import DomainEvent

HEADLINE = ("size", "target", "valuation")


def deal_rows(events: Sequence[DomainEvent]) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The deal's `deal_index` row and its `party_index` rows."""
    withdrawn = retractions(events)
    found = subjects(events, withdrawn)
    state = deal_state(events, found=found)
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
        for report in reports_of(events)
        for commitment in report.commitments
        for party in commitment.parties
    }
    party_rows = []
    stamps: dict[Any, tuple[Any, ...]] = {}  # per report: (event id, reported, recorded, source, retracted)
    for subject in found:
        if subject.party is None:
            continue
        current = current_row(subject.rows, withdrawn)
        members = [(member, names.get(member, member)) for member in subject.party.split("+")]
        for row in subject.rows:
            report, value = row
            stamp = stamps.get(report.event_id)
            if stamp is None:
                stamp = stamps[report.event_id] = (
                    str(report.event_id), report.reported_day.isoformat(), report.timestamp.isoformat(),
                    report.source.name, int(report.event_id in withdrawn),
                )  # fmt: skip
            amount = orjson.dumps(value.to_json()).decode() if value else None
            is_current = int(row is current)
            for member, name in members:
                party_rows.append(
                    (member, state.deal, subject.party, name, stamp[0], stamp[1], stamp[2], stamp[3],
                     amount, stamp[4], is_current)
                )  # fmt: skip
    return deal_row, party_rows


def refold(events_of: Callable[[Any], Sequence[DomainEvent]], slug: str) -> Any:
    """The deal's rows (`deal_rows`) from its events, validated again (`events_of` its stream id
    gives them), or why they cannot be read, in one line (what `verify` reports). A missing key
    is raised."""
    from ledger.mapper import CipherError
    from ledger.streams import deal_id

    try:
        events = events_of(deal_id(slug))
        return deal_rows(events) if events else f"unknown deal {slug!r}"
    except CipherError:
        raise
    except Exception as error:  # noqa: BLE001 - a verify reports, it does not stop
        return (str(error).splitlines() or [type(error).__name__])[0]


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None
