"""Reading what a person or a file gives us into validated report drafts.

A draft is a report without its place in the ledger (no stream, version, id or
record time yet). Import lines, CLI options and API callers all come through
here, so every entry point refuses the same things with the same words.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache, partial
from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator, ValidationError, model_validator

from events.base import Immutable, Slug
from events.figures import Figure, FigureError
from events.parsing import parse_figure, read_figure
from events.reports import (
    MAX_COMMITMENTS,
    MAX_FIGURES,
    REPORT_KINDS,
    Commitments,
    Figures,
    ReportRetracted,
    LongText,
    Name,
    Reported,
    Source,
    check_aware,
    check_commitments,
    read_iso,
    reported_day,
)

REPORT_FIELDS = {
    "deal", "kind", "reported", "source", "figures", "parties", "commitments", "quote", "note", "currency",
}
#: A retraction line names the report it withdraws as "retracts" ("retracted" is read too).
RETRACTION_FIELDS = {"deal", "kind", "reported", "source", "retracts", "retracted", "reason"}
#: Fields an `export` line carries that an import keeps when moving a ledger.
KEPT_FIELDS = {"event_id", "recorded", "recorded_by", "version"}
LINE_FIELDS = frozenset(REPORT_FIELDS | KEPT_FIELDS)
#: A commitment as an import line writes it.
COMMITMENT_FIELDS = frozenset({"party", "name", "amount"})


class IntakeError(ValueError):
    """Input that cannot become a report; names the field that was wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class Unplaced(Immutable):
    """What every draft has: its deal, who records it, and (moving a ledger) its id and record time."""

    kind: str
    deal: Slug
    reported: Reported
    recorded_by: Name | None = None
    event_id: UUID | None = None
    recorded: Annotated[datetime | None, BeforeValidator(partial(read_iso, day=False))] = None

    @model_validator(mode="after")
    def _aware_record_time(self) -> Unplaced:
        if self.recorded is not None:
            check_aware(self.recorded)
        return self


class Draft(Unplaced):
    """A validated report that has not been recorded yet."""

    source: Source
    quote: LongText | None = None
    note: LongText | None = None
    figures: Figures = {}
    commitments: Commitments = ()

    @model_validator(mode="after")
    def _one_figure_per_party(self) -> Draft:
        check_commitments(self.commitments)
        return self

    @property
    def reported_day(self) -> date:
        return reported_day(self.reported)

    def event_fields(self) -> dict[str, Any]:
        """The fields the report event is built from."""
        names = ("deal", "reported", "source", "quote", "note", "figures", "commitments", "recorded_by")
        return {name: getattr(self, name) for name in names}


class RetractionDraft(Unplaced):
    """A validated retraction that has not been recorded yet."""

    kind: str = ReportRetracted.kind
    retracted: UUID
    reason: LongText
    source: Source | None = None


def one_line(error: ValidationError) -> IntakeError:
    """The first problem pydantic found, as one line naming the field."""
    first = error.errors(include_url=False)[0]
    loc = list(first["loc"])
    if loc[-1:] == ["[key]"]:  # a mapping's key (a figure's name): the message quotes it
        loc = loc[:-2]
    if loc[:1] == ["commitments"] and len(loc) >= 2:
        # A commitment is written as {"party", "name", "amount"} under "parties".
        member = {"id": "party", "name": "name"}.get(str(loc[4]) if len(loc) > 4 else "", "party")
        loc = ["parties", loc[1], "amount" if loc[2:3] == ["amount"] else member]
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    field = field.lstrip(".")
    message = first["msg"].removeprefix("Value error, ")
    return IntakeError(field, message)


def read_report(
    line: Any,
    *,
    default_currency: str | None = None,
    recorded_by: str | None = None,
    keep_ids: bool = True,
) -> Draft | RetractionDraft:
    """A report draft from its JSON form (an import line) or the same dict from the CLI."""
    if not isinstance(line, dict):
        raise IntakeError("", f"a report must be a JSON object, not {type(line).__name__}")
    if line.get("kind") == ReportRetracted.kind:
        return read_retraction(line, keep_ids=keep_ids, recorded_by=recorded_by)
    if not line.keys() <= LINE_FIELDS:
        raise IntakeError(sorted(line.keys() - LINE_FIELDS)[0], "unknown field")
    kind = line.get("kind")
    if kind not in REPORT_KINDS:
        raise IntakeError("kind", f"{_quoted(kind)} is not one of {', '.join(REPORT_KINDS)}")
    currency = line.get("currency", default_currency)
    if currency is not None and not isinstance(currency, str):
        raise IntakeError("currency", "must be an ISO 4217 code like 'USD'")
    source = line.get("source")
    if isinstance(source, str):
        source = {"name": source}
    fields: dict[str, Any] = {
        "kind": kind,
        "deal": line.get("deal"),
        "reported": line.get("reported"),
        "source": source,
        "quote": line.get("quote"),
        "note": line.get("note"),
        "figures": _read_figures(line.get("figures"), currency),
        "commitments": _read_parties(_parties_of(line), currency),
        "recorded_by": line.get("recorded_by", recorded_by),
    }
    if keep_ids:
        fields["event_id"] = line.get("event_id")
        fields["recorded"] = line.get("recorded")
    try:
        draft = Draft.model_validate(fields)
    except ValidationError as error:
        raise one_line(error) from None
    return draft


def read_retraction(line: dict[str, Any], *, keep_ids: bool = True, recorded_by: str | None = None) -> RetractionDraft:
    """A retraction draft from its JSON form (as `export` writes it); `recorded_by` is who records
    it when the line does not say (as for a report)."""
    unknown = sorted(set(line) - RETRACTION_FIELDS - KEPT_FIELDS)
    if unknown:
        raise IntakeError(unknown[0], "unknown field")
    fields = {name: line[name] for name in RETRACTION_FIELDS - {"kind", "retracts"} | {"recorded_by"} if name in line}
    fields.setdefault("recorded_by", recorded_by)
    if "retracts" in line:
        if "retracted" in line:
            raise IntakeError("retracts", "give either 'retracts' or 'retracted', not both")
        fields["retracted"] = line["retracts"]
    if keep_ids:
        fields |= {name: line[name] for name in ("event_id", "recorded") if name in line}
    if isinstance(fields.get("source"), str):
        fields["source"] = {"name": fields["source"]}
    try:
        return RetractionDraft.model_validate(fields)
    except ValidationError as error:
        raise one_line(error) from None


def _quoted(value: Any) -> str:
    return repr(value)[:80]


def _parties_of(line: dict[str, Any]) -> Any:
    """Parties as written for import, or as `export` writes them ("commitments")."""
    if "commitments" not in line:
        return line.get("parties")
    if "parties" in line:
        raise IntakeError("commitments", "give either 'parties' or 'commitments', not both")
    commitments = line["commitments"]
    if not isinstance(commitments, list):
        raise IntakeError("commitments", "must be a list")
    entries = []
    for i, item in enumerate(commitments):
        members = item.get("parties") if isinstance(item, dict) else None
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            raise IntakeError(f"commitments[{i}]", "needs 'parties': a list of {id, name}")
        entries.append(
            {
                "party": [m.get("id") for m in members],
                "name": [m.get("name") for m in members],
                "amount": item.get("amount"),
            }
        )
    return entries


@lru_cache(maxsize=16_384)
def _phrase(text: str, currency: str | None) -> Figure:
    """A parsed phrase; figures are immutable, and archives repeat phrases a lot."""
    return parse_figure(text, currency)


def _figure(amount: Any, currency: str | None) -> Figure:
    return _phrase(amount, currency) if isinstance(amount, str) else read_figure(amount, currency)


def _read_figures(figures: Any, currency: str | None) -> dict[str, Figure]:
    if figures is None:
        return {}
    if not isinstance(figures, dict):
        raise IntakeError("figures", "must be an object of NAME: AMOUNT")
    if len(figures) > MAX_FIGURES:  # refused before reading a phrase
        raise IntakeError("figures", f"at most {MAX_FIGURES} figures in one report, not {len(figures)}")
    read = {}
    for name, amount in figures.items():
        try:
            read[name] = _figure(amount, currency)
        except FigureError as error:
            raise IntakeError(f"figures.{name}", str(error)) from None
    return read


def _read_parties(parties: Any, currency: str | None) -> list[dict[str, Any]]:
    """Parties as {"nvidia": AMOUNT} or [{"party": ID or [IDs], "name": ..., "amount": ...}]."""
    if parties is None:
        return []
    if isinstance(parties, dict):
        entries = [{"party": key.split("+"), "amount": amount} for key, amount in parties.items()]
    elif isinstance(parties, list):
        entries = parties
    else:
        raise IntakeError("parties", "must be an object of PARTY: AMOUNT or a list of commitments")
    if len(entries) > MAX_COMMITMENTS:
        raise IntakeError("parties", f"at most {MAX_COMMITMENTS} commitments in one report, not {len(entries)}")
    return [_read_commitment(entry, f"parties[{i}]", currency) for i, entry in enumerate(entries)]


def _read_commitment(entry: Any, where: str, currency: str | None) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise IntakeError(where, "a commitment must be an object with 'party' and 'amount'")
    if not entry.keys() <= COMMITMENT_FIELDS:
        raise IntakeError(f"{where}.{sorted(entry.keys() - COMMITMENT_FIELDS)[0]}", "unknown field")
    ids = entry.get("party")
    ids = [ids] if isinstance(ids, str) else ids
    names = entry.get("name", ids)
    names = [names] if isinstance(names, str) else names
    if not isinstance(ids, list) or not ids or not isinstance(names, list) or len(names) != len(ids):
        raise IntakeError(f"{where}.party", "give one party id (or a list) and as many names")
    amount = entry.get("amount")
    try:
        figure = None if amount is None else _figure(amount, currency)
    except FigureError as error:
        raise IntakeError(f"{where}.amount", str(error)) from None
    # Validated with the whole draft, in one pass; `one_line` names the field as given here.
    return {"parties": [{"id": i, "name": n} for i, n in zip(ids, names, strict=True)], "amount": figure}
