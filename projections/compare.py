"""Comparing a deal's state between two days (`diff`) and tracing each current value (`blame`).

`diff` folds the events visible as of each day (see `clocks.visible`) and lists
the figures and commitments whose current *claim* changed: it appeared, it
vanished (its reports were retracted), or it says something else. A later
report repeating the same claim (even in other words) is not a change. The
change uses the timeline's vocabulary (`timeline.DIRECTIONS`), plus
"first report" for a value that appeared and "no longer reported" for one that
vanished.

`blame` names, for every current value, the report that set it and the reports
it superseded: the earlier-reported points of the same figure or party, and
every retracted point of it (marked), in reported order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from projections.clocks import visible
from projections.records import deal_of, figure_sort_key
from projections.state import Current, DealState, deal_state
from projections.timeline import Change, Point, compare, label, timelines

if TYPE_CHECKING:
    from events.figures import Figure
    from events.reports import DomainEvent

APPEARED = "first report"
VANISHED = "no longer reported"


@dataclass(frozen=True)
class Difference:
    """One figure (`figure` set) or party key (`party` set) whose current claim changed.

    `before`/`after` are the current values on each day; `before_event` /
    `after_event` the reports that set them, None when there was no current
    value that day (a value of None with an event id: amount not given).
    """

    figure: str | None
    party: str | None
    parties: tuple[str, ...] | None
    before: Figure | None
    before_event: UUID | None
    after: Figure | None
    after_event: UUID | None
    change: Change

    @property
    def label(self) -> str:
        """The figure name, or the party names joined with ' + '."""
        return label(self.figure, self.party, self.parties)


@dataclass(frozen=True)
class Diff:
    """What changed in a deal's current values between two days."""

    deal: str
    from_day: date
    to_day: date
    status_before: str | None
    status_after: str | None
    entries: tuple[Difference, ...]

    @property
    def status_changed(self) -> bool:
        """True when the status differs between the two days."""
        return self.status_before != self.status_after


@dataclass(frozen=True)
class Blame:
    """A current value, the report that set it and the reports it superseded."""

    figure: str | None
    party: str | None
    parties: tuple[str, ...] | None
    current: Point
    superseded: tuple[Point, ...]

    @property
    def label(self) -> str:
        """The figure name, or the party names joined with ' + '."""
        return label(self.figure, self.party, self.parties)


def diff(
    events: Sequence[DomainEvent],
    from_day: date,
    to_day: date,
    *,
    known_at: datetime | None = None,
) -> Diff:
    """The changes in current values between `as_of=from_day` and `as_of=to_day`.

    `known_at`, when given, applies the ledger's clock to both sides. Raises
    ValueError when `from_day` is after `to_day`.
    """
    if from_day > to_day:
        raise ValueError(f"from {from_day} is after to {to_day}")
    slug = deal_of(events)
    before = deal_state(visible(events, as_of=from_day, known_at=known_at), deal=slug)
    after = deal_state(visible(events, as_of=to_day, known_at=known_at), deal=slug)
    return Diff(
        deal=slug,
        from_day=from_day,
        to_day=to_day,
        status_before=before.status,
        status_after=after.status,
        entries=tuple(_differences(before, after)),
    )


def _differences(before: DealState, after: DealState) -> list[Difference]:
    found = []
    for old_map, new_map in ((before.figures, after.figures), (before.commitments, after.commitments)):
        key = figure_sort_key if new_map is after.figures else None
        for name in sorted(set(old_map) | set(new_map), key=key):
            old, new = old_map.get(name), new_map.get(name)
            change = _change(old, new)
            if change is None:
                continue
            either = new or old
            assert either is not None
            found.append(
                Difference(
                    figure=either.figure,
                    party=either.party,
                    parties=either.parties,
                    before=None if old is None else old.value,
                    before_event=None if old is None else old.event_id,
                    after=None if new is None else new.value,
                    after_event=None if new is None else new.event_id,
                    change=change,
                )
            )
    return found


def _change(old: Current | None, new: Current | None) -> Change | None:
    if old is None and new is None:
        return None
    if old is None:
        return Change(absolute=None, percent=None, direction=APPEARED)
    if new is None:
        return Change(absolute=None, percent=None, direction=VANISHED)
    change = compare(old.value, new.value)
    return None if change.direction in ("unchanged", "restated") else change


def blame(events: Sequence[DomainEvent]) -> list[Blame]:
    """For each current figure and commitment (in timeline order), who set it and what it replaced."""
    found = []
    for line in timelines(events):
        current = line.current
        if current is None:
            continue
        position = line.points.index(current)
        superseded = tuple(
            point for index, point in enumerate(line.points) if point.retracted or index < position
        )
        found.append(Blame(line.figure, line.party, line.parties, current, superseded))
    return found
