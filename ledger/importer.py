"""Reading a JSON Lines import a line at a time; the first unreadable line stops it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from events.intake import Draft, IntakeError, RetractionDraft, read_report


def iter_lines(
    file: IO[bytes],
    *,
    currency: str | None = None,
    recorded_by: str | None = None,
    advance: Callable[[int], None] | None = None,
    start: int = 1,
) -> Iterator[tuple[str, Draft | RetractionDraft]]:
    """(label, draft) for each line of a JSON Lines file, read as it streams.

    Blank lines are skipped. The first unreadable line raises `IntakeError`
    naming its line number (counted from `start`) and field.
    """
    for number, raw in enumerate(file, start=start):
        if advance:
            advance(len(raw))
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise IntakeError(f"line {number}", unreadable(raw, error)) from None
        repeated = repeated_key(raw, line)
        if repeated is not None:
            raise IntakeError(f"line {number}: field '{repeated}'", "given twice; say each thing once in a line")
        try:
            draft = read_report(line, default_currency=currency, recorded_by=recorded_by)
        except IntakeError as error:
            where = f"line {number}" + (f": field '{error.field}'" if error.field else "")
            raise IntakeError(where, error.message) from None
        yield f"line {number}", draft


#: How a file saved as UTF-16 begins (little- or big-endian byte order mark).
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def unreadable(raw: bytes, error: Exception) -> str:
    """Why a line is not JSON, in the reader's terms when the cause is the file's encoding: a
    UTF-16 file, or Chinese text saved as GBK/GB18030 or Big5 (orjson calls both "str is not
    valid UTF-8: surrogates not allowed")."""
    if raw.startswith(UTF16_BOMS):
        return "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return (f"not UTF-8 text (byte {raw[bad.start]:#04x} at byte {bad.start + 1} of the line): save the file "
                "as UTF-8, e.g. iconv -f GB18030 -t UTF-8 (or -f BIG5 for traditional Chinese)")
    return f"not valid JSON ({error})"


def repeated_key(raw: bytes, line: Any) -> str | None:
    """The first key an object of the JSON text `raw` (parsed: `line`) repeats, as a path; else None.

    A JSON parser keeps the last of repeated keys without a word, so a line
    giving two "size" figures would lose one. Cheap check first: in a line
    without backslashes every quote mark opens or closes a string, so its
    quote marks are twice its keys and string values, unless parsing dropped
    a repeated key. Only a line that fails the check, or has escapes, is read
    again keeping every key, to name the one repeated.
    """
    if b"\\" not in raw and raw.count(b'"') == 2 * _strings(line):
        return None
    try:
        return _first_repeat(json.loads(raw, object_pairs_hook=_Pairs), "")
    except (ValueError, RecursionError):  # orjson read it; what it read stands
        return None


class _Pairs(list):  # type: ignore[type-arg]
    """An object's (key, value) pairs in order, repeats included."""


def _strings(value: Any) -> int:
    """How many strings, keys included, a parsed JSON value holds (it runs on every line of
    an import: loops, and a call only per object or array)."""
    kind = type(value)
    if kind is str:
        return 1
    if kind is dict:
        count, items = len(value), value.values()
    elif kind is list:
        count, items = 0, value
    else:
        return 0
    for item in items:
        kind = type(item)
        if kind is str:
            count += 1
        elif kind is dict or kind is list:
            count += _strings(item)
    return count


def _first_repeat(value: Any, path: str) -> str | None:
    """The path of the first key repeated within `value` (read with `_Pairs`), or None."""
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, item in value:
            where = f"{path}.{key}" if path else key
            if key in seen:
                return where
            seen.add(key)
            found = _first_repeat(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_repeat(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


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
