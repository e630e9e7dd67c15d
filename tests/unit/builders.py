"""Hand-built events for the projection tests, with sensible defaults.

    report("talks-opened", reported="2026-01-28", size=exact("10B"),
           parties={"nvidia": up_to("30B")}, source="The Information",
           recorded="2026-01-29T10:00Z")

Amounts are written "10B", "1.5T", "500M" and become exact `Decimal`s. Without
`recorded`, each event is recorded one minute after the previous one built, so
building order is record order.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from events.figures import Figure, Qualifier
from events.reports import REPORT_KINDS, Commitment, Party, Report, ReportRetracted, Source

DEAL = "openai-2026"
NAMESPACE = UUID("00000000-0000-4000-8000-000000000001")
SCALE = {"T": Decimal(10) ** 12, "B": Decimal(10) ** 9, "M": Decimal(10) ** 6, "K": Decimal(10) ** 3}
_clock = itertools.count()
_versions = itertools.count(1)
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def amount(text: str | int) -> Decimal:
    """'10B' -> Decimal('10000000000'); plain numbers as they are."""
    text = str(text)
    if text[-1] in SCALE:
        return Decimal(text[:-1]) * SCALE[text[-1]]
    return Decimal(text)


def exact(value: str, currency: str = "USD", text: str | None = None) -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.EXACT, low=amount(value), high=amount(value), text=text)


def about(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.ABOUT, low=amount(value), high=amount(value))


def nearly(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.NEARLY, high=amount(value))


def up_to(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.AT_MOST, high=amount(value))


def less_than(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.LESS_THAN, high=amount(value))


def at_least(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.AT_LEAST, low=amount(value))


def more_than(value: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.MORE_THAN, low=amount(value))


def between(low: str, high: str, currency: str = "USD") -> Figure:
    return Figure(currency=currency, qualifier=Qualifier.RANGE, low=amount(low), high=amount(high))


def _recorded(recorded: str | datetime | None) -> datetime:
    if recorded is None:
        return START + timedelta(minutes=next(_clock))
    if isinstance(recorded, datetime):
        return recorded
    return datetime.fromisoformat(recorded)


def _reported(reported: str | date) -> date:
    if isinstance(reported, str):
        return datetime.fromisoformat(reported) if "T" in reported else date.fromisoformat(reported)
    return reported


def report(
    kind: str = "talks-opened",
    *,
    reported: str | date = "2026-01-28",
    recorded: str | datetime | None = None,
    source: str = "The Information",
    size: Figure | None = None,
    target: Figure | None = None,
    valuation: Figure | None = None,
    figures: dict[str, Figure] | None = None,
    parties: dict[str, Figure | None] | None = None,
    deal: str = DEAL,
) -> Report:
    """A report of `kind`; `parties` maps a key ('nvidia', 'amazon+microsoft') to its amount."""
    named = dict(figures or {})
    for name, figure in (("size", size), ("target", target), ("valuation", valuation)):
        if figure is not None:
            named[name] = figure
    commitments = tuple(
        Commitment(parties=tuple(Party(id=i, name=i.title()) for i in key.split("+")), amount=value)
        for key, value in (parties or {}).items()
    )
    return REPORT_KINDS[kind](
        originator_id=uuid5(NAMESPACE, deal),
        originator_version=next(_versions),
        timestamp=_recorded(recorded),
        event_id=uuid4(),
        deal=deal,
        reported=_reported(reported),
        source=Source(name=source),
        figures=named,
        commitments=commitments,
    )


def retract(
    target: Report,
    *,
    reported: str | date = "2026-02-01",
    recorded: str | datetime | None = None,
    reason: str = "misreported",
    source: str | None = None,
) -> ReportRetracted:
    """A retraction of `target`."""
    return ReportRetracted(
        originator_id=target.originator_id,
        originator_version=next(_versions),
        timestamp=_recorded(recorded),
        event_id=uuid4(),
        deal=target.deal,
        retracted=target.event_id,
        reason=reason,
        reported=_reported(reported),
        source=None if source is None else Source(name=source),
    )
