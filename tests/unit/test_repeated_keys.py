"""`repeated_key`: a JSON line that repeats a key in any object is caught, and only such a line."""

from __future__ import annotations

import json

import orjson
from hypothesis import given
from hypothesis import strategies as st

from ledger.importer import repeated_key

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def check(raw: bytes) -> str | None:
    return repeated_key(raw, orjson.loads(raw))


@given(values)
def test_a_line_without_repeats_passes_whatever_its_strings_hold(value: object) -> None:
    for ascii_only in (True, False):  # escapes (\\uXXXX, \\", \\\\) and raw UTF-8
        assert check(json.dumps(value, ensure_ascii=ascii_only).encode()) is None


@given(st.dictionaries(text, values, min_size=1, max_size=4), st.data())
def test_a_repeated_key_is_named_with_its_path(obj: dict, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(obj)))
    body = json.dumps(obj)[1:-1]
    inner = "{" + body + ", " + json.dumps(key) + ": 1}"
    assert check(inner.encode()) == key
    assert check(('{"a": [0, ' + inner + "]}").encode()) == f"a[1].{key}"


def test_the_first_repeat_in_line_order_is_named() -> None:
    assert check(b'{"f": {"x": 1, "x": 2}, "f": 3}') == "f.x"
    assert check(b'{"s": "\\"", "s": "\\""}') == "s"
    assert check(b'{"": 1, "": 2}') == ""  # a repeated empty key is still a repeat
