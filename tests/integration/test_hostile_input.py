"""Hostile text, JSON and arguments through every command: stored exactly, or refused in one line.

Each input is either recorded and read back exactly (`history --json` shows
the same quote, note and source name), or refused with exit code 1 or 2 and
exactly one line on stderr, never a traceback, and the number of stored
events is unchanged. Inputs: unicode of every category (right-to-left marks,
NUL and other controls, line separators, lone surrogates), 1 MB strings,
NaN/Infinity in JSON, 10,000-deep nesting, SQL-looking slugs, option-looking
arguments. Each test prints how many inputs it tried.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.cli import cli
from tests.conftest import EXAMPLE, Backend

EXAMPLES = 60
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
KINDS = ["talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended"]
MB = 1_000_000
SQL = [
    "x'; DROP TABLE stored_events;--",
    "'; DROP TABLE dealledger_events; --",
    "x\"; DELETE FROM deal_index; --",
    "1' OR '1'='1",
    "openai-2026' --",
    "%' OR 1=1 --",
]
SPECIAL = [
    "\u202e", "\u200f", "\u200e", "\u2066", "\u202eevil\u202c", "\u0627\u0644\u0645\u0627\u0644",  # bidi
    "\x00", "a\x00b", "\x1b[31mred", "\x7f", "\r", "\n", "\r\n", "\t", "\x0b", "\x0c", "\x85",
    "\u2028", "\u2029", "\ufeff", "\u200b", "\ufffd", "\U0010ffff", "e\u0301", "😀", "👩‍👩‍👧",
    "\ud800", "\udfff", "a\udcffb", "\udcc3\udca9",  # lone surrogates (what argv with undecodable bytes becomes)
    "NaN", "Infinity", "-Infinity", "1e309", "-0", "null", "true", "[]", "{}",
    "%s%s%n", "{0}{1}", "$(id)", "`id`", "../../etc/passwd", "<script>alert(1)</script>",
    "--help", "-", "--", "--db", "--json", "-x", "--reported=2026-01-01",
    " ", "   ", "", "a" * 300, "é" * 5000,
    *SQL,
]  # fmt: skip
BIG = ["a" * MB, "英" * MB]  # 1 MB (and 3 MB of UTF-8)
VALID_PHRASES = ["up to $30B", "至多300亿美元", "超过200亿美元", "近1000亿美元", "$10B-$20B", "约5亿美元", "about €5bn"]

#: Tricky but storable: the ledger must keep these exactly.
STORABLE = [
    "\u202eevil\u202c", "\u200fשלום\u200e", "\u0627\u0644\u0645\u0627\u0644", "\ufeffBOM", "zero\u200bwidth", "e\u0301",
    "😀👩‍👩‍👧", "\U0010ffff", "英伟达正洽谈投资至多300亿美元", "%s%s%n", "{0}{1}", "$(id)", "`id`", "<b>x</b>", "--help", "-x",
    "\\", "'", '"', "é" * 150, *SQL,
]  # fmt: skip
any_text = st.text(st.characters(exclude_categories=()), max_size=30)  # every category, surrogates included
pieces = st.lists(st.one_of(st.sampled_from(SPECIAL), any_text), min_size=1, max_size=4).map("".join)
hostile = st.one_of(any_text, st.sampled_from(SPECIAL + BIG), pieces)
printable = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60).filter(
    str.strip
)
storable = st.one_of(
    printable,
    st.sampled_from(STORABLE),
    st.lists(st.one_of(st.sampled_from(STORABLE), printable), min_size=2, max_size=4).map(" ".join),
)
slug = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
#: Mostly storable, sometimes hostile: enough inputs get through to check they are stored exactly.
maybe = st.one_of(storable, storable, hostile)
good_day = st.sampled_from(["2026-01-02", "2025-12-31", "2026-01-28T09:00+08:00"])
day = st.one_of(good_day, good_day, hostile)


def run(backend: Backend, *args: str, input: bytes | str | None = None) -> Result:  # noqa: A002
    return CliRunner().invoke(cli, ["--db", backend.db, *args], input=input)


def check_refusal_or_success(result: Result) -> None:
    """Exit 0, or 1/2 with exactly one line on stderr; never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr[:300])
    if result.exit_code:
        assert result.stderr.startswith("Error: "), result.stderr[:300]
        assert result.stderr.endswith("\n") and "\n" not in result.stderr[:-1], result.stderr[:300]


def event_by_id(backend: Backend, deal: str, event_id: str) -> dict[str, Any]:
    result = run(backend, "history", deal, "--json")
    assert result.exit_code == 0, result.stderr
    [event] = [e for e in json.loads(result.stdout)["events"] if e["event_id"] == event_id]
    return event


@pytest.fixture
def seeded(backend: Backend) -> Backend:
    assert run(backend, "import", str(EXAMPLE)).exit_code == 0
    return backend


def report(tried: collections.Counter, name: str, backend: Backend) -> None:
    print(f"\n[{backend.name}] {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(tried.items())))


@pytest.mark.slow
def test_hostile_append_arguments(seeded: Backend) -> None:
    backend = seeded
    tried: collections.Counter[str] = collections.Counter()

    # A storable report, and half the time one of its arguments replaced by a hostile one.
    report_fields = st.fixed_dictionaries(
        {
            "deal": slug,
            "kind": st.sampled_from(KINDS),
            "source": storable,
            "reported": good_day,
            "quote": st.one_of(st.none(), storable, st.just("q" * 20_000)),
            "note": st.one_of(st.none(), storable),
            "figure": st.sampled_from(VALID_PHRASES),
            "party_id": st.one_of(st.none(), slug),
            "party_name": storable,
        }
    )
    spoil = st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["deal", "kind", "source", "reported", "quote", "note", "figure", "party_id", "party_name"]), hostile),
        st.tuples(st.just("deal"), st.sampled_from(SQL)),
    )  # fmt: skip

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(fields=report_fields, spoiled=spoil)
    def append(fields: dict[str, Any], spoiled: tuple[str, str] | None) -> None:
        if spoiled:
            fields = {**fields, spoiled[0]: spoiled[1]}
            fields["party_id"] = fields["party_id"] or ("nvidia" if spoiled[0] == "party_name" else None)
        deal, kind, source, quote, note = (fields[k] for k in ("deal", "kind", "source", "quote", "note"))
        args = ["append", deal, kind, "--source", source, "--reported", fields["reported"]]
        args += ["--quote", quote] if quote is not None else []
        args += ["--note", note] if note is not None else []
        args += ["--figure", f"size={fields['figure']}"]
        if fields["party_id"] is not None:
            args += ["--party", f"{fields['party_id']}:{fields['party_name']}=up to $1B"]
        before = backend.count_events()
        result = run(backend, *args)
        check_refusal_or_success(result)
        helped = result.exit_code == 0 and result.stdout.startswith("Usage:")  # an argument was --help / -h
        tried["exit 0 (help)" if helped else f"exit {result.exit_code}"] += 1
        if result.exit_code or helped:
            assert backend.count_events() == before
            return
        assert backend.count_events() == before + 1
        event = event_by_id(backend, deal, result.stdout.strip())
        assert (event["kind"], event["source"]["name"]) == (kind, source)
        assert (event.get("quote"), event.get("note")) == (quote, note)

    append()
    report(tried, "append arguments tried", backend)
    assert sum(tried.values()) >= EXAMPLES


def report_lines() -> st.SearchStrategy[dict[str, Any]]:
    """Report-shaped import lines: mostly storable values, or hostile ones in every field."""
    json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile)
    storable_line = st.fixed_dictionaries(
        {
            "deal": slug,
            "kind": st.sampled_from(KINDS),
            "reported": good_day,
            "source": st.one_of(storable, st.fixed_dictionaries({"name": storable}, optional={"title": storable})),
            "figures": st.fixed_dictionaries({"size": st.sampled_from(VALID_PHRASES)}),
        },
        optional={
            "quote": maybe,
            "note": maybe,
            "parties": st.dictionaries(slug, st.sampled_from(VALID_PHRASES), max_size=2),
            "currency": st.just("USD"),
        },
    )
    hostile_line = st.fixed_dictionaries(
        {
            "deal": st.one_of(slug, hostile, st.sampled_from(SQL)),
            "kind": st.one_of(st.sampled_from([*KINDS, "retraction"]), hostile),
            "reported": st.one_of(day, st.integers(), st.floats()),
            "source": st.one_of(maybe, st.fixed_dictionaries({"name": maybe}, optional={"url": hostile, "title": maybe})),
        },
        optional={
            "quote": st.one_of(maybe, json_scalar),
            "note": maybe,
            "figures": st.dictionaries(st.one_of(st.just("size"), hostile), st.one_of(st.sampled_from(VALID_PHRASES), json_scalar), max_size=2),
            "parties": st.dictionaries(st.one_of(slug, hostile), st.one_of(st.sampled_from(VALID_PHRASES), json_scalar), max_size=2),
            "event_id": hostile,
            "recorded": st.one_of(hostile, st.integers()),
            "currency": hostile,
            "unknown-field": hostile,
        },
    )  # fmt: skip
    return st.one_of(storable_line, storable_line, hostile_line)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(hostile, children, max_size=4)),
    max_leaves=12,
)
NESTED = b"[" * 10_000 + b"]" * 10_000
RAW_LINES = [
    b'{"a": NaN}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "figures": {"size": NaN}}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": Infinity}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "parties": {"x": -Infinity}}',
    NESTED,
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": ' + NESTED + b"}",
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": "' + b"a" * MB + b'"}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": "\\ud800"}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": "\xed\xa0\x80"}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": "\xff\xfe"}',
    b'{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "quote": "a\\u0000b"}',
    b'\xef\xbb\xbf{"deal": "d-1", "kind": "talks-opened", "reported": "2026-01-02", "source": "S"}',
    b'{"deal": "d-1", "deal": "d-2", "kind": "talks-opened", "reported": "2026-01-02", "source": "S"}',
    b"\x00", b"\xff\xfe\xfd", b"null", b"[]", b'"just a string"', b"1e999", b"{", b"}",
]  # fmt: skip


def encode(value: Any, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.mark.slow
def test_hostile_import_lines(seeded: Backend) -> None:
    backend = seeded
    tried: collections.Counter[str] = collections.Counter()
    line = st.one_of(
        st.tuples(report_lines(), st.booleans()),
        st.tuples(report_lines(), st.booleans()),
        st.tuples(json_values, st.booleans()),
        st.sampled_from(RAW_LINES),
    )

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines=st.lists(line, min_size=1, max_size=3))
    def import_(lines: list[Any]) -> None:
        data = b"\n".join(item if isinstance(item, bytes) else encode(*item) for item in lines) + b"\n"
        before = backend.count_events()
        result = run(backend, "import", "-", "--json", input=data)
        check_refusal_or_success(result)
        tried[f"exit {result.exit_code}"] += 1
        tried["lines"] += len(lines)
        if result.exit_code:
            assert backend.count_events() == before
            return
        counts = json.loads(result.stdout)
        assert counts["recorded"] + counts["skipped"] == sum(1 for raw in data.split(b"\n") if raw.strip())
        assert backend.count_events() == before + counts["recorded"]
        for item in lines:
            value = item if isinstance(item, bytes) else item[0]
            if not isinstance(value, dict) or value.get("kind") == "retraction":
                continue
            source = value["source"]["name"] if isinstance(value["source"], dict) else value["source"]
            history = run(backend, "history", value["deal"], "--json")
            assert history.exit_code == 0, history.stderr
            assert any(
                e["source"]["name"] == source and e.get("quote") == value.get("quote") and e.get("note") == value.get("note")
                for e in json.loads(history.stdout)["events"]
            ), value

    import_()
    report(tried, "import files tried", backend)
    assert tried["exit 0"] + tried["exit 1"] + tried["exit 2"] >= EXAMPLES


def test_every_fixed_hostile_import_line_is_refused_in_one_line(seeded: Backend) -> None:
    """NaN/Infinity (orjson refuses them), deep nesting, 1 MB, bad UTF-8, duplicate keys: one line each."""
    backend = seeded
    before = backend.count_events()
    codes = collections.Counter()
    for raw in RAW_LINES:
        result = run(backend, "import", "-", input=raw + b"\n")
        check_refusal_or_success(result)
        codes[result.exit_code] += 1
        if result.exit_code == 0:  # the BOM line is a readable report
            before += 1
        assert backend.count_events() == before, raw[:80]
    repeated = run(backend, "import", "-", input=RAW_LINES[13] + b"\n")
    assert repeated.exit_code == 2 and repeated.stderr == "Error: line 1: field 'deal': given twice; say each thing once in a line\n"
    nan = run(backend, "import", "-", input=b'{"a": NaN}\n')
    assert nan.exit_code == 2 and nan.stderr.startswith("Error: line 1: not valid JSON")
    deep = run(backend, "import", "-", input=NESTED + b"\n")
    assert deep.exit_code == 2 and "line 1" in deep.stderr
    print(f"\n[{backend.name}] {len(RAW_LINES)} fixed import lines: exit codes {dict(codes)}")


def read_commands(event_ids: list[str]) -> st.SearchStrategy[list[str]]:
    x, y = hostile, st.one_of(hostile, day)
    deal = st.one_of(st.sampled_from(["openai-2026", "xai-series-e-2026"]), hostile, st.sampled_from(SQL))
    real_id = st.sampled_from(event_ids)
    return st.one_of(
        st.tuples(st.just("history"), deal).map(list),
        st.tuples(st.just("history"), deal, st.just("--json")).map(list),
        st.tuples(st.just("history"), deal, st.just("--figure"), x).map(list),
        st.tuples(st.just("history"), deal, st.just("--party"), x, st.just("--json")).map(list),
        st.tuples(st.just("history"), deal, st.just("--as-of"), y).map(list),
        st.tuples(st.just("history"), deal, st.just("--known-at"), y).map(list),
        st.tuples(st.just("show"), deal).map(list),
        st.tuples(st.just("show"), deal, st.just("--as-of"), y, st.just("--json")).map(list),
        st.tuples(st.just("show"), deal, st.just("--known-at"), y).map(list),
        st.tuples(st.just("diff"), deal, st.just("--from"), y, st.just("--to"), y).map(list),
        st.tuples(st.just("diff"), deal, st.just("--from"), y, st.just("--to"), y, st.just("--json")).map(list),
        st.tuples(st.just("blame"), deal).map(list),
        st.tuples(st.just("blame"), deal, st.just("--json")).map(list),
        st.tuples(st.just("party"), st.one_of(x, st.just("nvidia"))).map(list),
        st.tuples(st.just("party"), x, st.just("--json")).map(list),
        st.tuples(st.just("deals"), st.just("--status"), x).map(list),
        st.tuples(st.just("deals"), st.just("--status"), x, st.just("--json")).map(list),
        st.tuples(st.just("export"), deal).map(list),
        st.tuples(st.just("export"), st.just("--since"), y).map(list),
        st.tuples(st.just("retract"), x, st.just("--reason"), maybe).map(list),
        st.tuples(st.just("retract"), real_id, st.just("--reason"), maybe).map(list),
        st.tuples(st.just("retract"), real_id.map(lambda i: i[:8]), st.just("--reason"), maybe, st.just("--source"), maybe, st.just("--reported"), y).map(list),
    )  # fmt: skip


#: Options that take a value: a "--json" right after one is that value ("retract X --reason --json").
VALUED = {"--figure", "--party", "--as-of", "--known-at", "--from", "--to", "--status", "--reason", "--source",
          "--reported", "--since"}  # fmt: skip


def asks_for_json(args: list[str]) -> bool:
    return any(arg == "--json" and args[i - 1] not in VALUED for i, arg in enumerate(args) if i)


@pytest.mark.slow
def test_hostile_arguments_to_every_read_command_and_retract(seeded: Backend) -> None:
    backend = seeded
    exported = run(backend, "export").stdout
    events = [json.loads(line) for line in exported.splitlines()]
    event_ids = [e["event_id"] for e in events if e["kind"] != "retraction"]
    deal_of = {e["event_id"]: e["deal"] for e in events}
    tried: collections.Counter[str] = collections.Counter()

    @settings(max_examples=2 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(args=read_commands(event_ids))
    def read(args: list[str]) -> None:
        before = backend.count_events()
        result = run(backend, *args)
        check_refusal_or_success(result)
        helped = result.exit_code == 0 and result.stdout.startswith("Usage:")
        tried[f"{args[0]} exit {result.exit_code}{' (help)' if helped else ''}"] += 1
        if helped:
            assert backend.count_events() == before
            return
        if result.exit_code == 0 and asks_for_json(args) and args[0] != "export":
            json.loads(result.stdout)
        if args[0] == "retract" and result.exit_code == 0:
            assert backend.count_events() == before + 1
            retracted = next(i for i in event_ids if i.startswith(args[1].strip().lower()))
            retraction = event_by_id(backend, deal_of[retracted], result.stdout.strip())
            assert retraction["reason"] == args[3]
            withdrawn = event_by_id(backend, deal_of[retracted], retracted)
            assert (withdrawn["retracted"], withdrawn["retracted_by"]) == (True, retraction["event_id"])
            return
        assert backend.count_events() == before

    read()
    report(tried, "read and retract commands tried", backend)
    assert sum(tried.values()) >= 2 * EXAMPLES


@pytest.mark.parametrize(
    "args",
    [
        [b"history", b"\xff\xfe"],
        [b"show", b"openai-2026", b"--as-of", b"2026-01-\xff"],
        [b"party", b"nv\xc3idia"],
        [b"history", b"openai-2026", b"--figure", b"\xff"],
        [b"append", b"d-1", b"talks-opened", b"--source", b"\xc3\x28", b"--reported", b"2026-01-02"],
        [b"append", b"d-1", b"talks-opened", b"--source", b"S", b"--reported", b"2026-01-02", b"--quote", b"caf\xe9"],
        [b"retract", b"\xff" * 9, b"--reason", b"\xfe"],
    ],
)
def test_command_line_bytes_that_are_not_utf8(seeded: Backend, args: list[bytes]) -> None:
    """A real process: undecodable argv bytes arrive as lone surrogates; one line, nothing written."""
    before = seeded.count_events()
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "--db", seeded.db.encode(), *args], capture_output=True, timeout=120
    )
    stderr = result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr + result.stdout
    assert result.returncode in (0, 1, 2), stderr
    if result.returncode:
        assert stderr.startswith("Error: ") and stderr.endswith("\n") and "\n" not in stderr[:-1], stderr
    assert seeded.count_events() == before


def test_an_import_cannot_reuse_an_event_id_of_another_deal(seeded: Backend) -> None:
    exported = [json.loads(line) for line in run(seeded, "export").stdout.splitlines()]
    taken = exported[0]["event_id"]
    line = {"deal": "other-deal", "kind": "talks-opened", "reported": "2026-01-02", "source": "S", "event_id": taken}
    before = seeded.count_events()
    result = run(seeded, "import", "-", input=json.dumps(line) + "\n")
    assert result.exit_code == 1
    assert f"event id {taken} is already used by deal" in result.stderr
    assert seeded.count_events() == before
