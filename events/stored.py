"""Events as the read side gets them back from the ledger: light records, no pydantic.

Every stored event was validated by the models of `events.reports` when it was
written, and the hash chain guards its bytes since, so reading it back needs
no second validation: `decode` turns the stored JSON straight into slotted
records with the same attributes the folds use (`kind`, `event_id`,
`reported_day`, `figures`, `commitments`, ...).

`decode` accepts only the exact shape today's models write (every field, in
their order, nested ones too). Anything else (an older class version, a topic
it does not know, a field added or removed) gives None, and the caller reads
that event through pydantic and its upcasters instead, then makes its record
with `record_of`. Records are read-only by convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.amounts import FigureMethods, Qualifier

RETRACTION = "retraction"
#: The kind of each event class, by the topic it is stored under.
KINDS = {
    "events.reports:TalksOpened": "talks-opened",
    "events.reports:AmountRevised": "amount-revised",
    "events.reports:TermSheetReviewed": "term-sheet-reviewed",
    "events.reports:RoundClosed": "round-closed",
    "events.reports:TalksEnded": "talks-ended",
    "events.reports:ReportRetracted": RETRACTION,
}
#: The stored fields of each model, in the order the models write them (tests check them).
REPORT_FIELDS = (
    "timestamp", "event_id", "deal", "recorded_by", "reported", "source", "quote", "note", "figures", "commitments",
)  # fmt: skip
RETRACTION_FIELDS = ("timestamp", "event_id", "deal", "recorded_by", "retracted", "reason", "reported", "source")
SOURCE_FIELDS = ("name", "url", "title", "language", "kind")
FIGURE_FIELDS = ("currency", "qualifier", "low", "high", "text")
COMMITMENT_FIELDS = ("parties", "amount")
PARTY_FIELDS = ("id", "name")

_QUALIFIERS = {q.value: q for q in Qualifier}


class Unexpected(ValueError):
    """Stored JSON that is not in the shape today's models write."""


@dataclass(slots=True)
class StoredFigure(FigureMethods):
    """A reported amount as stored (see `events.figures.Figure`)."""

    currency: str
    qualifier: Qualifier
    low: Decimal | None
    high: Decimal | None
    text: str | None


@dataclass(slots=True)
class StoredSource:
    """Who published a report (see `events.reports.Source`); `kind` is its plain value."""

    name: str
    url: str | None
    title: str | None
    language: str | None
    kind: str


@dataclass(slots=True)
class StoredParty:
    """An investor or company: its slug and its name as reported."""

    id: str
    name: str


@dataclass(slots=True)
class StoredCommitment:
    """What one party, or several together, were reported to put in; `key` as `Commitment.key`."""

    parties: tuple[StoredParty, ...]
    amount: StoredFigure | None
    key: str

    @property
    def display(self) -> str:
        return " + ".join(p.name for p in self.parties)


@dataclass(slots=True, eq=False)
class StoredRecord:
    """What every event has; `state` is its JSON as stored (for `record_json`)."""

    kind: str
    originator_id: Any
    originator_version: int
    timestamp: datetime
    event_id: UUID
    deal: str
    recorded_by: str | None
    reported: date
    reported_day: date
    source: StoredSource | None
    state: dict[str, Any]


@dataclass(slots=True, eq=False)
class StoredReport(StoredRecord):
    """A source's report about a deal (see `events.reports.Report`)."""

    quote: str | None
    note: str | None
    figures: dict[str, StoredFigure]
    commitments: tuple[StoredCommitment, ...]


@dataclass(slots=True, eq=False)
class StoredRetraction(StoredRecord):
    """An earlier report withdrawn (see `events.reports.ReportRetracted`)."""

    retracted: UUID
    reason: str


def decode(state: dict[str, Any], topic: str, originator_id: Any, version: int) -> StoredRecord | None:
    """The record of a stored event, or None when its JSON is not in today's exact shape."""
    kind = KINDS.get(topic)
    if kind is None:
        return None
    try:
        return _record(state, kind, originator_id, version, strict=True)
    except (Unexpected, KeyError, TypeError, ValueError, AttributeError):
        return None


def record_of(event: Any) -> StoredRecord:
    """The record of an event validated by pydantic (`events.reports`), with any extra fields."""
    state = dict(event.json_state)
    del state["originator_id"], state["originator_version"]
    return _record(state, event.kind, event.originator_id, event.originator_version, strict=False)


def record_json(record: StoredRecord) -> dict[str, Any]:
    """The JSON form of a record, exactly as `events.reports.event_json` gives it for the event."""
    body = dict(record.state)
    del body["timestamp"]
    event_id, deal = body.pop("event_id"), body.pop("deal")
    if record.kind == RETRACTION:
        body["retracts"] = body.pop("retracted")  # "retracted" is the flag every event gets in histories
    return {
        "event_id": event_id,
        "deal": deal,
        "kind": record.kind,
        "version": record.originator_version,
        "recorded": record.timestamp.isoformat(),
        **body,
    }


def figure_from_json(data: dict[str, Any]) -> StoredFigure:
    """A figure from its JSON form (`Figure.to_json()`), as the read models keep it."""
    return _figure(data, strict=False)


def _record(state: dict[str, Any], kind: str, originator_id: Any, version: int, *, strict: bool) -> StoredRecord:
    is_retraction = kind == RETRACTION
    if strict and tuple(state) != (RETRACTION_FIELDS if is_retraction else REPORT_FIELDS):
        raise Unexpected(kind)
    timestamp = datetime.fromisoformat(state["timestamp"])
    reported, day = _reported(state["reported"])
    source = state["source"]
    common = (
        kind, originator_id, version, _aware(timestamp), UUID(state["event_id"]), state["deal"],
        state["recorded_by"], reported, day, None if source is None else _source(source, strict), state,
    )  # fmt: skip
    if is_retraction:
        return StoredRetraction(*common, UUID(state["retracted"]), state["reason"])
    figures = {name: _figure(figure, strict) for name, figure in state["figures"].items()}
    commitments = tuple(_commitment(c, strict) for c in state["commitments"])
    return StoredReport(*common, state["quote"], state["note"], figures, commitments)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise Unexpected("a record time without a timezone")
    return moment


def _reported(value: str) -> tuple[date, date]:
    if len(value) == 10:
        day = date.fromisoformat(value)
        return day, day
    moment = _aware(datetime.fromisoformat(value))
    return moment, moment.date()


def _source(data: dict[str, Any], strict: bool) -> StoredSource:
    if strict and tuple(data) != SOURCE_FIELDS:
        raise Unexpected("source")
    return StoredSource(data["name"], data["url"], data["title"], data["language"], data["kind"])


def _figure(data: dict[str, Any], strict: bool) -> StoredFigure:
    if strict and tuple(data) != FIGURE_FIELDS:
        raise Unexpected("figure")
    return StoredFigure(
        data["currency"], _QUALIFIERS[data["qualifier"]], _amount(data["low"]), _amount(data["high"]), data["text"]
    )


def _amount(value: Any) -> Decimal | None:
    """A stored JSON number as the exact Decimal the model reads from it."""
    if value is None:
        return None
    if type(value) is int:
        return Decimal(value)
    if type(value) is float:
        return Decimal(repr(value))
    raise Unexpected(f"an amount of type {type(value).__name__}")


def _commitment(data: dict[str, Any], strict: bool) -> StoredCommitment:
    if strict and tuple(data) != COMMITMENT_FIELDS:
        raise Unexpected("commitment")
    parties = tuple(_party(p, strict) for p in data["parties"])
    amount = data["amount"]
    key = "+".join(sorted(p.id for p in parties))
    return StoredCommitment(parties, None if amount is None else _figure(amount, strict), key)


def _party(data: dict[str, Any], strict: bool) -> StoredParty:
    if strict and tuple(data) != PARTY_FIELDS:
        raise Unexpected("party")
    return StoredParty(data["id"], data["name"])
