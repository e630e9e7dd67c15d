"""Value objects (sources, parties, commitments) and the past-tense report events.

Every event is immutable. A report is never changed or deleted; a wrong one is
retracted by a later `ReportRetracted` that names it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from functools import cache, cached_property
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator, model_validator

from events.base import Immutable, Slug, check_line, check_plain_text
from events.figures import Figure, json_number
from events.stored import CONTENT_FIELDS, content_hash  # noqa: F401 - CONTENT_FIELDS is re-exported

LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+")
SURROGATE = re.compile(r"[\ud800-\udfff]")


#: Conventional deal-level figure names; any other slug is allowed too.
FIGURE_NAMES = {
    "size": "amount raised in the round",
    "target": "amount sought",
    "valuation": "post-money valuation",
    "pre-money": "pre-money valuation",
}


def _check_url(value: str) -> str:
    if not URL.fullmatch(value):
        raise ValueError(f"{value[:80]!r} is not an http(s) URL")
    return value


def _check_language(value: str) -> str:
    if not LANGUAGE.fullmatch(value):
        raise ValueError(f"{value[:20]!r} is not a language tag like 'en' or 'zh-CN'")
    return value


def _check_unicode(value: str) -> str:
    """Refuses lone surrogates (e.g. undecodable bytes in a command line): they cannot be stored."""
    match = SURROGATE.search(value)
    if match:
        raise ValueError(f"contains U+{ord(match.group()):04X}, which is not valid Unicode text")
    return value


#: What `check_line`, `check_plain_text` or `_check_unicode` may refuse in a text that is not blank.
SUSPECT_IN_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
SUSPECT_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\ud800-\udfff]")


def _check_name(value: str) -> str:
    """A one-line name or title in valid Unicode: `check_line` and `_check_unicode` in one call
    (a report has several names; each validator pydantic calls costs a round trip into Python)."""
    if SUSPECT_IN_LINE.search(value) or not value.strip():
        _check_unicode(check_line(value))
    return value


def _check_text(value: str) -> str:
    """Plain text (newlines and tabs allowed) in valid Unicode, as `_check_name`."""
    if SUSPECT_IN_TEXT.search(value) or not value.strip():
        _check_unicode(check_plain_text(value))
    return value


# The length is checked first, by pydantic's core (after a Python validator it would be one more).
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_check_name)]
Title = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_check_name)]
LongText = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_check_text)]
Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_check_url)]
Language = Annotated[str, AfterValidator(_check_language)]


class SourceKind(StrEnum):
    """What kind of publication a source is."""

    PRESS = "press"
    COMPANY = "company"
    FILING = "filing"


class Source(Immutable):
    """Who published a report.

    Attributes:
      name: the publication or body, as it names itself ("The Information").
      url, title: where and under what headline, when known.
      language: the language the report was written in ("en", "zh").
      kind: press report, company statement or regulatory filing.
    """

    name: Name
    url: Url | None = None
    title: Title | None = None
    language: Language | None = None
    kind: SourceKind = SourceKind.PRESS


class Party(Immutable):
    """An investor or company: a slug for identity, the name as reported for display."""

    id: Slug
    name: Name


class Commitment(Immutable):
    """What one party, or several together, were reported to put in.

    `amount` is None when a party is reported to take part without a figure.
    """

    parties: tuple[Party, ...] = Field(min_length=1, max_length=50)
    amount: Figure | None = None

    @field_validator("parties")
    @classmethod
    def _distinct(cls, parties: tuple[Party, ...]) -> tuple[Party, ...]:
        ids = [p.id for p in parties]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a party is named twice in {'+'.join(ids)!r}")
        return parties

    @property
    def key(self) -> str:
        """The party, or the group of parties, as one stable key: 'amazon+microsoft'.

        Computed each time (one party: its id): Python 3.11's cached_property takes a lock,
        which cost more than this, once for every commitment an import validates."""
        parties = self.parties
        return parties[0].id if len(parties) == 1 else "+".join(sorted(p.id for p in parties))

    @property
    def display(self) -> str:
        return " + ".join(p.name for p in self.parties)


#: The most figures and commitments one report holds: more than any article gives, and a bound on an event's size.
MAX_FIGURES = 100
MAX_COMMITMENTS = 200
#: A report's figures and commitments, as drafts and events both hold them: a draft that passed
#: is stored as it is (`report_state`), so what its event would refuse it must refuse too.
Figures = Annotated[dict[Slug, Figure], Field(max_length=MAX_FIGURES)]
Commitments = Annotated[tuple[Commitment, ...], Field(max_length=MAX_COMMITMENTS)]


def check_commitments(commitments: tuple[Commitment, ...]) -> None:
    """A report gives at most one figure per party or group of parties."""
    keys = [c.key for c in commitments]
    if len(set(keys)) != len(keys):
        raise ValueError("a party (or group) has two commitments in one report")


def check_aware(value: datetime) -> datetime:
    """A record time must say its timezone."""
    if value.tzinfo is None:
        raise ValueError("the record time must carry a timezone")
    return value


class DomainEvent(Immutable):
    """What every stored event has: its stream, place in it, record time and id.

    `timestamp` is when the ledger recorded the event (UTC), not when the
    source published it.
    """

    kind: ClassVar[str]
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int = Field(ge=1)
    timestamp: datetime
    event_id: UUID
    deal: Slug
    recorded_by: Name | None = None

    @cached_property
    def json_state(self) -> dict[str, Any]:
        """The event's JSON form as stored (computed once: the event is immutable)."""
        return self.model_dump(mode="json")

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return check_aware(value)


def refuse_number(value: Any) -> Any:
    """A date or time given as a number would be read as seconds since 1970: refuse it."""
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is a number, not a date like 2026-01-28 or an ISO time")
    return value


#: What `read_iso` asks for, for a day or a time, and for a time alone.
DAY_OR_TIME = "a date like 2026-01-28, or a time with its zone like 2026-01-28T09:00+08:00"
TIME = "a time with its zone like 2026-01-28T09:00:00+00:00"


def read_iso(value: Any, *, day: bool) -> Any:
    """A date (if `day`) or a time given as text, read as ISO 8601 and nothing else: "2026-01-28",
    "20260128", "2026-01-28T09:00+08:00". pydantic alone also reads a string of digits as
    seconds since 1970 ("20260128" became 1970-08-23T11:48:48Z) and words its refusals for
    a union of types ("reported.datetime: … input is too short")."""
    refuse_number(value)
    if not isinstance(value, str):
        return value
    if day:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not {DAY_OR_TIME if day else TIME}") from None


def _read_reported(value: Any) -> Any:
    return read_iso(value, day=True)


def _check_reported(value: date) -> date:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("a reported time must carry a timezone, e.g. 2026-01-28T09:00+08:00")
    return value


Reported = Annotated[
    datetime | date, BeforeValidator(_read_reported), AfterValidator(_check_reported)
]


def reported_day(value: date) -> date:
    """The calendar day of a reported date or time."""
    return value.date() if isinstance(value, datetime) else value


class Report(DomainEvent):
    """A source's report about a deal.

    Attributes:
      reported: the day (or moment) the source published it.
      source: who published it.
      quote: the source's words, verbatim, in the original language.
      note: the recorder's remark (e.g. why a date was assumed).
      figures: deal-level figures by name ("size", "valuation", ...).
      commitments: figures reported for parties, alone or together.
    """

    reported: Reported
    source: Source
    quote: LongText | None = None
    note: LongText | None = None
    figures: Figures = Field(default_factory=dict)
    commitments: Commitments = ()

    @model_validator(mode="after")
    def _one_figure_per_party(self) -> Report:
        check_commitments(self.commitments)
        return self

    @property
    def reported_day(self) -> date:
        return reported_day(self.reported)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of what the source said, so the same report is recognised again (`events.stored.content_hash`)."""
        return content_hash(self.kind, self.json_state)


class TalksOpened(Report):
    """A source reported that talks about the deal are under way."""

    kind: ClassVar[str] = "talks-opened"


class AmountRevised(Report):
    """A source reported new amounts for a deal already in talks."""

    kind: ClassVar[str] = "amount-revised"


class TermSheetReviewed(Report):
    """A source reported that the parties are reviewing a term sheet."""

    kind: ClassVar[str] = "term-sheet-reviewed"


class RoundClosed(Report):
    """A source reported that the round closed (or the deal was completed)."""

    kind: ClassVar[str] = "round-closed"


class TalksEnded(Report):
    """A source reported that the talks were called off or collapsed."""

    kind: ClassVar[str] = "talks-ended"


class ReportRetracted(DomainEvent):
    """An earlier report of the deal is withdrawn; it stays in the record, marked.

    Attributes:
      retracted: the event id of the report withdrawn.
      reason: why, in the recorder's words.
      reported: when the correction was published or decided.
      source: who published the correction, when someone did.
    """

    kind: ClassVar[str] = "retraction"

    retracted: UUID
    reason: LongText
    reported: Reported
    source: Source | None = None

    @property
    def reported_day(self) -> date:
        return reported_day(self.reported)


def report_state(draft: Any, event_id: UUID, timestamp: datetime) -> dict[str, Any]:
    """The JSON a validated report draft (`events.intake.Draft`) is stored as once it is the event
    `event_id` recorded at `timestamp`: `Report.json_state` without the stream and version,
    built directly from the draft's checked values. An import's workers make one per line;
    building the event model and dumping it was ~37 µs of a report's ~200. Tests hold it to
    the model's own, byte for byte; times are written by pydantic's own serializer.
    """
    state = {
        "timestamp": _time_json(timestamp),
        "event_id": str(event_id),
        "deal": draft.deal,
        "recorded_by": draft.recorded_by,
        "reported": _time_json(draft.reported) if isinstance(draft.reported, datetime) else draft.reported.isoformat(),
        "source": _source_json(draft.source),
        "quote": draft.quote,
        "note": draft.note,
        "figures": {name: _figure_json(figure) for name, figure in draft.figures.items()},
        "commitments": [
            {
                "parties": [{"id": party.id, "name": party.name} for party in commitment.parties],
                "amount": None if commitment.amount is None else _figure_json(commitment.amount),
            }
            for commitment in draft.commitments
        ],
    }
    version = REPORT_KINDS[draft.kind].class_version
    if version > 1:  # as `ledger.mapper.PydanticMapper.plain_state` writes it
        state["class_version"] = version
    return state


def _time_json(moment: datetime) -> str:
    return _times().dump_python(moment, mode="json")  # type: ignore[no-any-return]


@cache
def _times() -> Any:
    """pydantic's writer of times, made when first needed (the read side never needs it)."""
    from pydantic import TypeAdapter

    return TypeAdapter(datetime)


def _source_json(source: Source) -> dict[str, Any]:
    return {"name": source.name, "url": source.url, "title": source.title, "language": source.language,
            "kind": source.kind.value}  # fmt: skip


def _figure_json(figure: Figure) -> dict[str, Any]:
    return {"currency": figure.currency, "qualifier": figure.qualifier.value, "low": json_number(figure.low),
            "high": json_number(figure.high), "text": figure.text}  # fmt: skip


REPORT_KINDS: dict[str, type[Report]] = {
    cls.kind: cls for cls in (TalksOpened, AmountRevised, TermSheetReviewed, RoundClosed, TalksEnded)
}
EVENT_CLASSES: dict[str, type[DomainEvent]] = {**REPORT_KINDS, ReportRetracted.kind: ReportRetracted}


def event_json(event: DomainEvent) -> dict[str, Any]:
    """The JSON form of an event, as `--json` and `export` print it."""
    body = event.model_dump(mode="json", exclude={"originator_id", "originator_version", "timestamp"})
    if isinstance(event, ReportRetracted):
        body["retracts"] = body.pop("retracted")  # "retracted" is the flag every event gets in histories
    return {
        "event_id": body.pop("event_id"),
        "deal": body.pop("deal"),
        "kind": event.kind,
        "version": event.originator_version,
        "recorded": event.timestamp.isoformat(),
        **body,
    }
