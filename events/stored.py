"""Events as the read side gets them back from the ledger: light records, no pydantic.

Every stored event was validated by the models of `events.reports` when it was
written, and the hash chain guards its bytes since, so reading it back needs
no second validation: `decode` turns the stored JSON straight into slotted
records with the attributes the folds use (`kind`, `event_id`, `reported_day`,
`figures`, `commitments`, ...). Event ids are kept as their canonical text
(what every output prints), amounts become exact Decimals when first used.

`decode` accepts only the exact shape today's models write (every field in
their order, nested ones too, amounts as the models write them). Anything
else (an older class version, a topic it does not know, a field added or
removed) gives None, and the caller reads that event through pydantic and its
upcasters instead, then makes its record with `record_of`. Records are
read-only by convention.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from events.amounts import FigureMethods, Qualifier

RETRACTION = "retraction"
#: What a report's content hash covers: what the source said, not when or by whom it was recorded.
CONTENT_FIELDS = ("deal", "reported", "source", "quote", "note", "figures", "commitments")
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
_UNREAD: Any = object()
#: Amounts of these types are as the models write them; a float must be fractional (`_written`).
_PLAIN = frozenset({int, type(None)})
_new_report = object.__new__
_moment = datetime.fromisoformat
_day = date.fromisoformat


class Unexpected(ValueError):
    """Stored JSON that is not in the shape today's models write."""


class StoredFigure(FigureMethods):
    """A reported amount as stored (see `events.figures.Figure`); `data` is its JSON form."""

    __slots__ = ("currency", "qualifier", "text", "data", "_low", "_high")

    def __init__(self, data: dict[str, Any], qualifier: Qualifier):
        self.data = data
        self.currency: str = data["currency"]
        self.qualifier = qualifier
        self.text: str | None = data["text"]
        self._low = self._high = _UNREAD

    @property
    def low(self) -> Decimal | None:  # type: ignore[override]
        if self._low is _UNREAD:
            self._low = _amount(self.data["low"])
        return self._low

    @property
    def high(self) -> Decimal | None:  # type: ignore[override]
        if self._high is _UNREAD:
            self._high = _amount(self.data["high"])
        return self._high

    def to_json(self) -> dict[str, Any]:
        """The JSON form (as `Figure.to_json`): the stored one, already in that exact form."""
        return dict(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FigureMethods):
            return NotImplemented
        return self.same_claim(other) and self.text == other.text

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StoredFigure({self.data!r})"


class StoredSource:
    """Who published a report (see `events.reports.Source`); `kind` is its plain value."""

    __slots__ = ("name", "url", "title", "language", "kind")

    def __init__(self, name: str, url: str | None, title: str | None, language: str | None, kind: str):
        self.name, self.url, self.title, self.language, self.kind = name, url, title, language, kind


class StoredParty:
    """An investor or company: its slug and its name as reported."""

    __slots__ = ("id", "name")

    def __init__(self, id: str, name: str):  # noqa: A002 - the model's field name
        self.id, self.name = id, name


class StoredCommitment:
    """What one party, or several together, were reported to put in; `key` as `Commitment.key`."""

    __slots__ = ("parties", "amount", "key")

    def __init__(self, parties: tuple[StoredParty, ...], amount: StoredFigure | None, key: str):
        self.parties, self.amount, self.key = parties, amount, key

    @property
    def display(self) -> str:
        return " + ".join(p.name for p in self.parties)


class StoredRecord:
    """What every event has; `state` is its JSON as stored (for `record_json`)."""

    __slots__ = (
        "kind", "originator_id", "originator_version", "timestamp", "event_id", "deal", "recorded_by",
        "reported", "reported_day", "source", "state",
    )  # fmt: skip

    def __init__(self, kind: str, originator_id: Any, version: int, state: dict[str, Any]):
        self.kind = kind
        self.originator_id = originator_id
        self.originator_version = version
        self.state = state
        moment = datetime.fromisoformat(state["timestamp"])
        if moment.tzinfo is None:
            raise Unexpected("a record time without a timezone")
        self.timestamp: datetime = moment
        self.event_id: str = state["event_id"]
        self.deal: str = state["deal"]
        self.recorded_by: str | None = state["recorded_by"]
        self.reported, self.reported_day = _reported(state["reported"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind}, {self.deal}, {self.event_id})"


class StoredReport(StoredRecord):
    """A source's report about a deal (see `events.reports.Report`)."""

    __slots__ = ("quote", "note", "figures", "commitments")

    source: StoredSource
    figures: dict[str, StoredFigure]
    commitments: tuple[StoredCommitment, ...]

    @property
    def content_hash(self) -> str:
        """As `events.reports.Report.content_hash` (computed, not kept: only the write side's rules ask)."""
        return content_hash(self.kind, self.state)


def content_hash(kind: str, state: dict[str, Any]) -> str:
    """SHA-256 of what a report's source said (its stored JSON's content fields and its kind).

    The same report recorded twice has the same hash, so an import run twice adds nothing.
    """
    import hashlib

    import orjson

    content = {name: state[name] for name in CONTENT_FIELDS}
    content["kind"] = kind
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


class StoredRetraction(StoredRecord):
    """An earlier report withdrawn (see `events.reports.ReportRetracted`); `retracted` is its id."""

    __slots__ = ("retracted", "reason")

    source: StoredSource | None


def decode(state: dict[str, Any], topic: str, originator_id: Any, version: int) -> StoredRecord | None:
    """The record of a stored event, or None when its JSON is not in today's exact shape."""
    kind = KINDS.get(topic)
    if kind is None:
        return None
    try:
        if kind == RETRACTION:
            return _record(state, kind, originator_id, version, strict=True)
        return _report_as_written(state, kind, originator_id, version)
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
    return StoredFigure(data, _QUALIFIERS[data["qualifier"]])


def _record(state: dict[str, Any], kind: str, originator_id: Any, version: int, *, strict: bool) -> StoredRecord:
    if kind == RETRACTION:
        if strict and tuple(state) != RETRACTION_FIELDS:
            raise Unexpected(kind)
        retraction = StoredRetraction(kind, originator_id, version, state)
        source = state["source"]
        retraction.source = None if source is None else _source(source, strict)
        retraction.retracted = state["retracted"]
        retraction.reason = state["reason"]
        return retraction
    if strict and tuple(state) != REPORT_FIELDS:
        raise Unexpected(kind)
    report = StoredReport(kind, originator_id, version, state)
    report.source = _source(state["source"], strict)
    report.quote, report.note = state["quote"], state["note"]
    report.figures = {name: _figure(figure, strict) for name, figure in state["figures"].items()}
    report.commitments = tuple([_commitment(c, strict) for c in state["commitments"]])
    return report


def _report_as_written(state: dict[str, Any], kind: str, originator_id: Any, version: int) -> StoredReport | None:
    """`_record(..., strict=True)` for a report, in one function: a rebuild reads a million of them."""
    if tuple(state) != REPORT_FIELDS:
        return None
    report = _new_report(StoredReport)
    report.kind, report.originator_id, report.originator_version, report.state = kind, originator_id, version, state
    report.timestamp = moment = _moment(state["timestamp"])
    if moment.tzinfo is None:
        return None
    report.event_id, report.deal, report.recorded_by = state["event_id"], state["deal"], state["recorded_by"]
    reported = state["reported"]
    if len(reported) == 10:
        report.reported = report.reported_day = _day(reported)
    else:
        report.reported, report.reported_day = _reported(reported)
    source = state["source"]
    if tuple(source) != SOURCE_FIELDS:
        return None
    report.source = StoredSource(source["name"], source["url"], source["title"], source["language"], source["kind"])
    report.quote, report.note = state["quote"], state["note"]
    figures = {}
    for name, data in state["figures"].items():
        low, high = data["low"], data["high"]
        if tuple(data) != FIGURE_FIELDS or not (
            (type(low) in _PLAIN or _written(low)) and (type(high) in _PLAIN or _written(high))
        ):
            return None
        figures[name] = StoredFigure(data, _QUALIFIERS[data["qualifier"]])
    report.figures = figures
    commitments = []
    for commitment in state["commitments"]:
        if tuple(commitment) != COMMITMENT_FIELDS:
            return None
        parties = []
        for party in commitment["parties"]:
            if tuple(party) != PARTY_FIELDS:
                return None
            parties.append(StoredParty(party["id"], party["name"]))
        amount = commitment["amount"]
        if amount is not None:
            low, high = amount["low"], amount["high"]
            if tuple(amount) != FIGURE_FIELDS or not (
                (type(low) in _PLAIN or _written(low)) and (type(high) in _PLAIN or _written(high))
            ):
                return None
            amount = StoredFigure(amount, _QUALIFIERS[amount["qualifier"]])
        key = parties[0].id if len(parties) == 1 else "+".join(sorted([p.id for p in parties]))
        commitments.append(StoredCommitment(tuple(parties), amount, key))
    report.commitments = tuple(commitments)
    return report


def _reported(value: str) -> tuple[date, date]:
    if len(value) == 10:
        day = date.fromisoformat(value)
        return day, day
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise Unexpected("a reported time without a timezone")
    return moment, moment.date()


def _source(data: dict[str, Any], strict: bool) -> StoredSource:
    if strict and tuple(data) != SOURCE_FIELDS:
        raise Unexpected("source")
    return StoredSource(data["name"], data["url"], data["title"], data["language"], data["kind"])


def _figure(data: dict[str, Any], strict: bool) -> StoredFigure:
    if strict and (tuple(data) != FIGURE_FIELDS or not (_written(data["low"]) and _written(data["high"]))):
        raise Unexpected("figure")
    return StoredFigure(data, _QUALIFIERS[data["qualifier"]])


def _written(value: Any) -> bool:
    """True for an amount as the models write it (`json_number`): None, an int, or a fractional float."""
    kind = type(value)
    return value is None or kind is int or (kind is float and not value.is_integer())


def _amount(value: Any) -> Decimal | None:
    """A stored JSON number as the exact Decimal the model reads from it."""
    if value is None:
        return None
    if type(value) is float:
        return Decimal(repr(value))
    return Decimal(value)


def _commitment(data: dict[str, Any], strict: bool) -> StoredCommitment:
    if strict and tuple(data) != COMMITMENT_FIELDS:
        raise Unexpected("commitment")
    parties = []
    for party in data["parties"]:
        if strict and tuple(party) != PARTY_FIELDS:
            raise Unexpected("party")
        parties.append(StoredParty(party["id"], party["name"]))
    amount = data["amount"]
    key = parties[0].id if len(parties) == 1 else "+".join(sorted([p.id for p in parties]))
    return StoredCommitment(tuple(parties), None if amount is None else _figure(amount, strict), key)
