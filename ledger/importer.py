"""Reading a JSON Lines import a line at a time; the first unreadable line stops it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

import orjson

from events.intake import Draft, IntakeError, RetractionDraft, read_report


def iter_lines(
    file: IO[bytes],
    *,
    currency: str | None = None,
    recorded_by: str | None = None,
    advance: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, Draft | RetractionDraft]]:
    """(label, draft) for each line of a JSON Lines file, read as it streams.

    Blank lines are skipped. The first unreadable line raises `IntakeError`
    naming its line number and field.
    """
    for number, raw in enumerate(file, start=1):
        if advance:
            advance(len(raw))
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise IntakeError(f"line {number}", f"not valid JSON ({error})") from None
        try:
            draft = read_report(line, default_currency=currency, recorded_by=recorded_by)
        except IntakeError as error:
            where = f"line {number}" + (f": field '{error.field}'" if error.field else "")
            raise IntakeError(where, error.message) from None
        yield f"line {number}", draft


def read_lines(
    file: IO[bytes],
    *,
    currency: str | None = None,
    recorded_by: str | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[list[Draft | RetractionDraft], list[str]]:
    """The drafts of a JSON Lines file and a label ("line 12") for each.

    Blank lines are skipped. The first unreadable line raises `IntakeError`
    naming its line number and field.
    """
    read = list(iter_lines(file, currency=currency, recorded_by=recorded_by, advance=advance))
    return [draft for _, draft in read], [label for label, _ in read]
