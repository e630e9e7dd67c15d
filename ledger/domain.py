"""The deal aggregate: what a new report must be checked against, and the decisions.

A deal is one stream of events keyed by a stable uuid5 of its slug. Its state
here is only what the rules need (versions, which reports exist, which are
retracted, when it closed); the read side builds everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from events.intake import Draft
from events.reports import REPORT_KINDS, DomainEvent, Report, ReportRetracted, RoundClosed, Source
from events.stored import RETRACTION, StoredRecord
from ledger.errors import DomainError, EventNotFoundError
from ledger.preparing import Prepared
from ledger.streams import NAMESPACE, deal_id  # noqa: F401 - a deal's stream id, part of this module's API

#: The latest calendar day anywhere on Earth is UTC+14.
EARLIEST_TIMEZONE = timedelta(hours=14)


@dataclass
class Deal:
    """What the rules need to know about a deal's recorded events."""

    id: UUID
    slug: str
    version: int = 0
    kinds: dict[UUID, str] = field(default_factory=dict)
    retracted: set[UUID] = field(default_factory=set)
    closings: dict[UUID, date] = field(default_factory=dict)
    content: dict[str, UUID] = field(default_factory=dict)

    @property
    def closed_on(self) -> date | None:
        """The earliest reported close that has not been retracted (`closings` holds only those)."""
        return min(self.closings.values(), default=None)


def apply(event: DomainEvent | StoredRecord, deal: Deal) -> None:
    """Folds one event into the deal's state: a model just decided, or a stored event's light record."""
    event_id = _uuid(event.event_id)
    deal.kinds[event_id] = event.kind
    if event.kind == RETRACTION:
        retracted = _uuid(event.retracted)  # type: ignore[union-attr]
        deal.retracted.add(retracted)
        deal.closings.pop(retracted, None)
        return
    deal.content[event.content_hash] = event_id  # type: ignore[union-attr]
    if event.kind == RoundClosed.kind:
        deal.closings[event_id] = event.reported_day  # type: ignore[union-attr]


def _uuid(value: UUID | str) -> UUID:
    """An event id as the rules keep it (a record holds it as text)."""
    return value if isinstance(value, UUID) else UUID(value)


def project_deal(deal: Deal | None, events: Iterable[DomainEvent | StoredRecord]) -> Deal | None:
    """The deal's state after the given events (the repository's projector)."""
    for event in events:
        if deal is None:
            deal = Deal(id=event.originator_id, slug=event.deal)
        apply(event, deal)
        deal.version = event.originator_version
    return deal


def check_not_in_future(reported: date, now: datetime) -> None:
    """A source cannot have published after now."""
    if isinstance(reported, datetime):
        if reported > now + timedelta(minutes=5):
            raise DomainError(f"reported time {reported.isoformat()} is in the future")
    elif reported > (now + EARLIEST_TIMEZONE).date():
        raise DomainError(f"reported date {reported.isoformat()} is in the future")


def check_record_time(recorded: datetime | None, now: datetime) -> None:
    """A record time carried over from another ledger cannot be later than now."""
    if recorded is not None and recorded > now + timedelta(minutes=5):
        raise DomainError(f"record time {recorded.isoformat()} is in the future")


def check_has_figure(draft: Draft) -> None:
    """An amount-revised report must revise some amount."""
    if draft.kind == "amount-revised" and not (
        draft.figures or any(c.amount for c in draft.commitments)
    ):
        raise DomainError("an amount-revised report needs at least one figure (--figure or --party)")


def check_retractable(deal: Deal, event_id: UUID) -> None:
    """Only an existing, not yet retracted report of the deal can be retracted."""
    kind = deal.kinds.get(event_id)
    if kind is None:
        raise EventNotFoundError(f"deal {deal.slug!r} has no event {event_id}")
    if kind not in REPORT_KINDS:
        raise DomainError(f"event {event_id} is a retraction; only reports can be retracted")
    if event_id in deal.retracted:
        raise DomainError(f"event {event_id} of deal {deal.slug!r} is already retracted")


def next_place(deal: Deal | None, slug: str) -> tuple[UUID, int]:
    """The stream and version of the deal's next event."""
    return (deal.id, deal.version + 1) if deal else (deal_id(slug), 1)


def is_duplicate(deal: Deal | None, event: Report | Prepared) -> UUID | None:
    """The id of an identical report already in the deal, if there is one."""
    return deal.content.get(event.content_hash) if deal else None


def check_report(draft: Draft, now: datetime) -> None:
    """The rules a new report meets whatever its deal holds."""
    check_not_in_future(draft.reported, now)
    check_record_time(draft.recorded, now)
    check_has_figure(draft)


def record_report(deal: Deal | None, draft: Draft, now: datetime) -> Report:
    """Decides the event for a new report of the deal."""
    check_report(draft, now)
    # Every field was validated in the draft; the rest is ours: no second validation.
    originator_id, version = next_place(deal, draft.deal)
    return REPORT_KINDS[draft.kind].trusted(
        originator_id=originator_id,
        originator_version=version,
        timestamp=draft.recorded or now,
        event_id=draft.event_id or uuid4(),
        **draft.event_fields(),
    )


def retract_report(
    deal: Deal,
    event_id: UUID,
    reason: str,
    reported: date,
    source: Source | None,
    recorded_by: str | None,
    now: datetime,
) -> ReportRetracted:
    """Decides the retraction of one of the deal's reports."""
    check_retractable(deal, event_id)
    check_not_in_future(reported, now)
    return ReportRetracted(
        originator_id=deal.id,
        originator_version=deal.version + 1,
        timestamp=now,
        event_id=uuid4(),
        deal=deal.slug,
        retracted=event_id,
        reason=reason,
        reported=reported,
        source=source,
        recorded_by=recorded_by,
    )


def after_close(deal: Deal | None, draft: Draft | Prepared) -> date | None:
    """The closing day, when the report is dated after the deal closed."""
    if deal and deal.closed_on and draft.reported_day > deal.closed_on:
        return deal.closed_on
    return None
