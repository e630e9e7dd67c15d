"""The current state of a deal: a fold over its events, with the problems an analyst should see.

Current values follow `CURRENT_VALUE_RULE`. Status follows `STATUS_RULE`.
Counts: `reports` counts every report (retracted ones too), `retracted` the
retracted ones, `sources` the distinct source names of the non-retracted ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from projections.checks import DealWarning, find_warnings
from projections.records import deal_of, in_reported_order, reports_of, retractions
from projections.timeline import Subject, current_row, label, subjects

if TYPE_CHECKING:
    from events.figures import Figure
    from events.reports import DomainEvent, Report

CURRENT_VALUE_RULE = (
    "The current value of a figure or commitment is the one in the latest-reported "
    "report that has not been retracted; reports published the same day are "
    "ordered by when the ledger recorded them."
)
STATUS_RULE = (
    "Status is 'ended' when the latest-reported non-retracted report says the talks "
    "ended; otherwise the furthest stage any non-retracted report reached: "
    "closed, then term-sheet, then talks."
)
STAGES = {
    "talks-opened": "talks",
    "amount-revised": "talks",
    "term-sheet-reviewed": "term-sheet",
    "round-closed": "closed",
}
STAGE_RANK = {"talks": 0, "term-sheet": 1, "closed": 2}


@dataclass(frozen=True)
class Current:
    """The current value of one figure (`figure` set) or one party key (`party` set).

    `value` is None when the party takes part with no amount given. `reported`
    is the source's day, `recorded` when the ledger stored that report.
    """

    figure: str | None
    party: str | None
    parties: tuple[str, ...] | None
    value: Figure | None
    event_id: UUID
    reported: date
    recorded: datetime
    source: str

    @property
    def label(self) -> str:
        """The figure name, or the party names joined with ' + '."""
        return label(self.figure, self.party, self.parties)


@dataclass(frozen=True)
class DealState:
    """A deal as its non-retracted reports describe it now (or on the clocks applied).

    `figures` maps figure names (size, target, valuation, pre-money first) and
    `commitments` party keys (A-Z) to their current values; treat them as
    read-only. `status` and the days are None when no report stands.
    """

    deal: str
    status: str | None
    first_reported: date | None
    last_reported: date | None
    figures: dict[str, Current]
    commitments: dict[str, Current]
    sources: int
    reports: int
    retracted: int
    warnings: tuple[DealWarning, ...]


def deal_state(
    events: Sequence[DomainEvent], *, deal: str | None = None, found: list[Subject] | None = None
) -> DealState:
    """Folds a deal's events (in record order) into its current state.

    `deal` names the deal when `events` may be empty (e.g. a day before the
    first report); `found` is `timeline.subjects(events)` when the caller has
    it already. Raises ValueError when the events belong to several deals.
    """
    slug = deal_of(events, deal)
    withdrawn = retractions(events)
    every = reports_of(events)
    standing = [r for r in every if r.event_id not in withdrawn]
    figures: dict[str, Current] = {}
    commitments: dict[str, Current] = {}
    for subject in subjects(events, withdrawn) if found is None else found:
        row = current_row(subject.rows, withdrawn)
        if row is not None:
            current = _current(subject, *row)
            if subject.figure:
                figures[subject.figure] = current
            else:
                commitments[subject.party] = current  # type: ignore[index]
    days = [r.reported_day for r in standing]
    return DealState(
        deal=slug,
        status=status_of(standing),
        first_reported=min(days, default=None),
        last_reported=max(days, default=None),
        figures=figures,
        commitments=commitments,
        sources=len({r.source.name for r in standing}),
        reports=len(every),
        retracted=sum(1 for r in every if r.event_id in withdrawn),
        warnings=tuple(find_warnings(figures, commitments, standing)),
    )


def status_of(standing: Sequence[Report]) -> str | None:
    """The status from the non-retracted reports (record order), by `STATUS_RULE`."""
    ordered = in_reported_order(standing)
    if not ordered:
        return None
    if ordered[-1].kind == "talks-ended":
        return "ended"
    stages = [STAGES[r.kind] for r in ordered if r.kind in STAGES]
    return max(stages, key=STAGE_RANK.__getitem__, default=None)


def _current(subject: Subject, report: Report, value: Figure | None) -> Current:
    return Current(
        figure=subject.figure,
        party=subject.party,
        parties=subject.parties,
        value=value,
        event_id=report.event_id,
        reported=report.reported_day,
        recorded=report.timestamp,
        source=report.source.name,
    )
