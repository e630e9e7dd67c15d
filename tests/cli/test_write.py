"""The write commands end to end, on SQLite and PostgreSQL: append, import, export, retract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import cli
from tests.conftest import EXAMPLE, Backend, with_stderr_on_a_terminal

KINDS = ["talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended"]


def run(backend: Backend, *args: str, input: str | None = None):  # noqa: A002
    return CliRunner().invoke(cli, ["--db", backend.db, *args], input=input)


def append(backend: Backend, *args: str):
    return run(backend, "append", *args)


def history(backend: Backend, deal: str) -> dict:
    result = run(backend, "history", deal, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_appends_and_reads_back(backend: Backend, kind: str) -> None:
    result = append(
        backend, "openai-2026", kind, "--source", "The Information", "--reported", "2026-01-28",
        "--figure", "size=up to $100B", "--party", "Nvidia=至多300亿美元", "--quote", "英伟达正洽谈",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    event_id = result.stdout.strip()
    [event] = history(backend, "openai-2026")["events"]
    assert event["event_id"] == event_id
    assert event["kind"] == kind
    assert event["reported"] == "2026-01-28"
    assert event["source"]["name"] == "The Information"
    assert event["quote"] == "英伟达正洽谈"
    assert event["figures"]["size"] == {
        "currency": "USD", "qualifier": "at_most", "low": None, "high": 100_000_000_000, "text": "up to $100B",
    }  # fmt: skip
    [commitment] = event["commitments"]
    assert commitment["parties"] == [{"id": "nvidia", "name": "Nvidia"}]
    assert commitment["amount"]["high"] == 30_000_000_000
    assert event["retracted"] is False


def test_a_fresh_application_on_the_same_database_sees_the_same_events(backend: Backend) -> None:
    from ledger.application import DealLedger
    from ledger.storage import locate

    append(backend, "xai-2026", "talks-opened", "--source", "Reuters", "--reported", "2026-01-02", "--figure", "target=$15B")
    append(backend, "xai-2026", "round-closed", "--source", "xAI", "--reported", "2026-01-06", "--figure", "size=$20B")
    app = DealLedger(env=locate(backend.db).settings())
    events = app.deal_events("xai-2026")
    assert [e.kind for e in events] == ["talks-opened", "round-closed"]
    assert [e.originator_version for e in events] == [1, 2]
    assert events[1].figures["size"].low == 20_000_000_000


def test_dry_run_prints_the_parsed_event_and_writes_nothing(backend: Backend) -> None:
    append(backend, "openai-2026", "talks-opened", "--source", "A", "--reported", "2026-01-20")
    before = backend.count_events()
    result = append(
        backend, "openai-2026", "amount-revised", "--source", "B", "--reported", "2026-01-28",
        "--party", "amazon=远超100亿美元", "--dry-run", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    assert event["version"] == 2
    assert event["commitments"][0]["amount"]["qualifier"] == "more_than"
    assert event["commitments"][0]["amount"]["low"] == 10_000_000_000
    assert backend.count_events() == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["OpenAI 2026", "talks-opened", "--source", "X", "--reported", "2026-01-28"], 2, "is not a slug"),
        (["openai-2026", "talks-started", "--source", "X", "--reported", "2026-01-28"], 2, "talks-started"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure", "size=a lot"], 2, "a lot"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure", "size=¥30亿"], 2, "ISO"),
        # 元 alone in traditional characters: NT$, HK$ or yuan?
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure", "size=50億元"], 2,
         "may be TWD, HKD or CNY"),
        (["openai-2026", "talks-opened", "--reported", "2026-01-28"], 2, "--source"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2999-01-01"], 1, "in the future"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "28/01/2026"], 2, "reported"),
        # a string of digits is not seconds since 1970
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "1700000000"], 2,
         "reported: '1700000000' is not a date like 2026-01-28"),
        (["openai-2026", "amount-revised", "--source", "X", "--reported", "2026-01-28"], 1, "at least one figure"),
        (["openai-2026", "talks-opened", "--source", " ", "--reported", "2026-01-28"], 2, "source.name"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--party", "英伟达=$1B"], 2, "id:name"),
        # amounts a JSON number would not keep exactly: too large, or too many digits with a fraction
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure", "size=$20,000,000 trillion"], 2,
         "is too large to keep exactly"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure",
          "size=$100,000,000,000,000,000,000"], 2, "100000000000000000000 is too large to keep exactly"),
        (["openai-2026", "talks-opened", "--source", "X", "--reported", "2026-01-28", "--figure",
          "size=$12345678901234567.5"], 2, "has too many digits to keep exactly with a fraction"),
    ],
)
def test_a_refused_append_exits_non_zero_with_one_line_and_writes_nothing(
    backend: Backend, args: list[str], code: int, message: str
) -> None:
    append(backend, "openai-2026", "talks-opened", "--source", "A", "--reported", "2026-01-20")
    before = backend.count_events()
    result = append(backend, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert backend.count_events() == before


def test_a_figure_in_traditional_characters_is_stored_as_written_and_read_as_its_claim(backend: Backend) -> None:
    result = append(
        backend, "openai-2026", "talks-opened", "--source", "經濟日報", "--reported", "2026-01-28",
        "--figure", "valuation=最高達8300億美元", "--figure", "size=50億元", "--currency", "TWD",
        "--party", "nvidia:輝達=約300億美元",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [event] = history(backend, "openai-2026")["events"]
    assert event["figures"]["valuation"] == {
        "currency": "USD", "qualifier": "at_most", "low": None, "high": 830_000_000_000, "text": "最高達8300億美元",
    }  # fmt: skip
    assert event["figures"]["size"]["currency"] == "TWD" and event["figures"]["size"]["low"] == 5_000_000_000
    [commitment] = event["commitments"]
    assert commitment["amount"]["qualifier"] == "about" and commitment["amount"]["text"] == "約300億美元"


def test_a_compact_iso_date_is_recorded_as_that_day(backend: Backend) -> None:
    result = append(backend, "openai-2026", "talks-opened", "--source", "X", "--reported", "20260128")
    assert result.exit_code == 0, result.output
    [event] = history(backend, "openai-2026")["events"]
    assert event["reported"] == "2026-01-28"


def test_the_same_report_twice_is_refused(backend: Backend) -> None:
    args = ["openai-2026", "talks-opened", "--source", "A", "--reported", "2026-01-20", "--figure", "size=$1B"]
    assert append(backend, *args).exit_code == 0
    result = append(backend, *args)
    assert result.exit_code == 1
    assert "already recorded" in result.stderr
    assert backend.count_events() == 1


def test_import_of_the_example_file_records_every_line(backend: Backend) -> None:
    lines = [line for line in EXAMPLE.read_text().splitlines() if line.strip()]
    result = run(backend, "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert backend.count_events() == len(lines)
    again = run(backend, "import", str(EXAMPLE), "--json")
    assert json.loads(again.stdout) == {"recorded": 0, "skipped": len(lines), "flags": []}
    assert backend.count_events() == len(lines)


def test_a_malformed_line_in_the_middle_of_an_import_writes_nothing(backend: Backend, tmp_path: Path) -> None:
    good = EXAMPLE.read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*good[:3], '{"deal": "x", "kind": ', *good[3:]]) + "\n")
    result = run(backend, "import", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: line 4: not valid JSON")
    assert backend.count_events() == 0


def test_an_import_line_with_a_bad_field_names_line_and_field(backend: Backend, tmp_path: Path) -> None:
    line = {"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": {"name": "S"},
            "parties": {"nvidia": "maybe thirty"}}  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE.read_text() + json.dumps(line) + "\n")
    result = run(backend, "import", str(bad))
    assert result.exit_code == 2
    number = len(EXAMPLE.read_text().splitlines()) + 1
    assert f"Error: line {number}: field 'parties[0].amount': cannot read amount 'maybe thirty'" in result.stderr
    assert backend.count_events() == 0


@pytest.mark.parametrize(
    ("repeat", "field"),
    [
        ('"figures": {"size": "$1B", "size": "$2B"}', "figures.size"),
        ('"parties": [{"party": "x", "amount": "$1B", "party": "y"}]', "parties[0].party"),
        # an escaped quote in the line: the repeat is found by reading the line again
        ('"quote": "he said \\"yes\\"", "quote": "no"', "quote"),
    ],
)
def test_an_import_line_repeating_a_key_is_refused_and_nothing_is_written(
    backend: Backend, tmp_path: Path, repeat: str, field: str
) -> None:
    """JSON parsers keep the last of repeated keys silently: an import must not lose the first."""
    line = '{"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": "S", ' + repeat + "}"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE.read_text() + line + "\n")
    result = run(backend, "import", str(bad))
    number = len(EXAMPLE.read_text().splitlines()) + 1
    assert result.exit_code == 2
    assert result.stderr == f"Error: line {number}: field '{field}': given twice; say each thing once in a line\n"
    assert backend.count_events() == 0


def test_a_report_with_more_figures_than_an_event_holds_is_refused_and_nothing_is_written(
    backend: Backend, tmp_path: Path
) -> None:
    """Such a report was once stored, and then every export and verify of the ledger failed on it."""
    line = {"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": "S",
            "figures": {f"f{n}": f"${n + 1}B" for n in range(101)}}  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE.read_text() + json.dumps(line) + "\n")
    result = run(backend, "import", str(bad))
    number = len(EXAMPLE.read_text().splitlines()) + 1
    assert result.exit_code == 2
    assert result.stderr == f"Error: line {number}: field 'figures': at most 100 figures in one report, not 101\n"
    assert backend.count_events() == 0
    many = [part for n in range(201) for part in ("--party", f"p{n}=${n + 1}M")]
    result = append(backend, "d", "talks-opened", "--source", "S", "--reported", "2026-01-01", *many)
    assert result.exit_code == 2
    assert result.stderr == "Error: parties: at most 200 commitments in one report, not 201\n"
    assert backend.count_events() == 0


def test_a_report_at_the_limits_is_stored_exported_and_verified(backend: Backend, tmp_path: Path) -> None:
    line = {"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": "S",
            "figures": {f"f{n}": f"${n + 1}B" for n in range(100)},
            "parties": {f"p{n}": f"${n + 1}M" for n in range(200)}}  # fmt: skip
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(line) + "\n")
    assert run(backend, "import", str(good)).exit_code == 0
    exported = run(backend, "export")
    assert exported.exit_code == 0, exported.stderr
    [event] = [json.loads(raw) for raw in exported.stdout.splitlines()]
    assert (len(event["figures"]), len(event["commitments"])) == (100, 200)
    verified = run(backend, "verify")
    assert verified.exit_code == 0, verified.output


def test_an_import_line_with_escapes_and_no_repeated_key_is_recorded(backend: Backend, tmp_path: Path) -> None:
    line = {"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": "S",
            "quote": 'he said "yes" \\ then {"a": 1, "a": 2}', "figures": {"size": "$1B"}}  # fmt: skip
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(line) + "\n")
    assert run(backend, "import", str(good)).exit_code == 0
    assert history(backend, "d")["events"][0]["quote"] == line["quote"]


def test_a_refused_report_late_in_an_import_rolls_back_the_whole_import(backend: Backend, tmp_path: Path) -> None:
    future = {"deal": "d", "kind": "talks-opened", "reported": "2999-01-01", "source": {"name": "S"}}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLE.read_text() + json.dumps(future) + "\n")
    result = run(backend, "import", str(bad))
    assert result.exit_code == 1
    assert "in the future" in result.stderr
    assert backend.count_events() == 0


def test_export_then_import_into_an_empty_ledger_gives_the_same_history(backend: Backend, tmp_path: Path) -> None:
    assert run(backend, "import", str(EXAMPLE)).exit_code == 0
    [event] = [e for e in history(backend, "openai-2026")["events"] if e["kind"] == "term-sheet-reviewed"][:1]
    assert run(backend, "retract", event["event_id"][:8], "--reason", "test retraction").exit_code == 0
    exported = run(backend, "export").stdout
    copy = Backend("sqlite", str(tmp_path / "copy.db"))
    result = run(copy, "import", "-", input=exported)
    assert result.exit_code == 0, result.output
    for deal in ("openai-2026", "xai-series-e-2026", "tesla-xai-2026"):
        assert history(copy, deal) == history(backend, deal)


def test_export_prints_each_event_as_its_validated_model_does(backend: Backend) -> None:
    """Export reads light records (as history does); they print exactly as the events themselves."""
    import orjson

    from events.reports import event_json
    from ledger.application import DealLedger
    from ledger.storage import locate

    assert run(backend, "import", str(EXAMPLE)).exit_code == 0
    [event] = [e for e in history(backend, "openai-2026")["events"] if e["kind"] == "talks-opened"][:1]
    assert run(backend, "retract", event["event_id"][:8], "--reason", "misread").exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    try:
        expected = b"".join(orjson.dumps(event_json(e)) + b"\n" for e in app.all_events())
        one_deal = b"".join(orjson.dumps(event_json(e)) + b"\n" for e in app.deal_events("openai-2026"))
    finally:
        app.close()
    assert run(backend, "export").stdout_bytes == expected
    assert run(backend, "export", "openai-2026").stdout_bytes == one_deal


def test_an_export_to_a_file_shows_progress_on_the_terminal_and_writes_the_same_lines(
    sqlite_backend: Backend, tmp_path: Path
) -> None:
    assert run(sqlite_backend, "import", str(EXAMPLE)).exit_code == 0
    backup = tmp_path / "backup.jsonl"
    with backup.open("wb") as stdout:
        code, shown = with_stderr_on_a_terminal(["--db", sqlite_backend.db, "export"], stdout)
    assert code == 0, shown
    assert b"exporting events" in shown
    assert backup.read_bytes() == run(sqlite_backend, "export").stdout_bytes


def test_a_stored_report_todays_model_would_refuse_is_still_exported(backend: Backend) -> None:
    """What was recorded stays exportable: a report stored with 101 figures (before drafts were
    held to the limit) is exported as stored, not refused by the stricter model."""
    from datetime import datetime, timezone
    from uuid import uuid4

    from events.parsing import parse_figure
    from events.reports import Source, TalksOpened
    from ledger.application import DealLedger
    from ledger.domain import deal_id
    from ledger.storage import locate

    figures = {f"f{n}": parse_figure(f"${n + 1}B") for n in range(101)}
    stored = TalksOpened.trusted(
        originator_id=deal_id("d"), originator_version=1, timestamp=datetime.now(timezone.utc), event_id=uuid4(),
        deal="d", recorded_by=None, reported=datetime(2026, 1, 1).date(), source=Source(name="S"), quote=None,
        note=None, figures=figures, commitments=(),
    )  # fmt: skip
    app = DealLedger(env=locate(backend.db).settings())
    try:
        app._save_events([stored])
    finally:
        app.close()
    exported = run(backend, "export")
    assert exported.exit_code == 0, exported.stderr
    [event] = [json.loads(raw) for raw in exported.stdout.splitlines()]
    assert len(event["figures"]) == 101 and event["figures"]["f100"]["high"] == 101_000_000_000


def test_retract_marks_the_report_and_refuses_a_second_retraction(backend: Backend) -> None:
    first = append(backend, "d-1", "talks-opened", "--source", "A", "--reported", "2026-01-20", "--figure", "size=$5B")
    event_id = first.stdout.strip()
    result = run(backend, "retract", event_id, "--reason", "wrong deal", "--source", "A")
    assert result.exit_code == 0, result.output
    data = history(backend, "d-1")
    assert [e["retracted"] for e in data["events"] if e["kind"] == "talks-opened"] == [True]
    again = run(backend, "retract", event_id, "--reason", "again")
    assert again.exit_code == 1
    assert "already retracted" in again.stderr
    assert backend.count_events() == 2


def test_retracting_an_unknown_event_is_refused_and_writes_nothing(backend: Backend) -> None:
    append(backend, "d-1", "talks-opened", "--source", "A", "--reported", "2026-01-20")
    result = run(backend, "retract", "00000000-0000-0000-0000-000000000000", "--reason", "x")
    assert result.exit_code == 1
    assert "no event" in result.stderr
    assert backend.count_events() == 1


@pytest.mark.parametrize("given", ["635a", "zzzzzzzz", "635a4a16-x"])
def test_retracting_by_something_that_is_not_an_event_id_is_an_input_error(backend: Backend, given: str) -> None:
    append(backend, "d-1", "talks-opened", "--source", "A", "--reported", "2026-01-20")
    result = run(backend, "retract", given, "--reason", "x")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {given!r} is not an event id (give at least its first 8 characters)\n"
    assert backend.count_events() == 1


def test_export_of_something_that_is_not_a_slug_is_an_input_error(backend: Backend) -> None:
    result = run(backend, "export", "OpenAI 2026")
    assert result.exit_code == 2
    assert result.stderr == "Error: 'OpenAI 2026' is not a slug (lowercase letters, digits and hyphens, 1-64 characters)\n"


def test_a_report_dated_after_the_close_is_accepted_and_flagged(backend: Backend) -> None:
    append(backend, "d-1", "round-closed", "--source", "A", "--reported", "2026-01-06", "--figure", "size=$20B")
    late = append(backend, "d-1", "amount-revised", "--source", "B", "--reported", "2026-01-20", "--figure", "size=$21B")
    assert late.exit_code == 0
    assert "reported after the deal closed on 2026-01-06" in late.stderr
    assert backend.count_events() == 2


def test_an_import_prints_a_few_late_report_warnings_and_counts_the_rest(sqlite_backend: Backend, tmp_path: Path) -> None:
    lines = [{"deal": "d", "kind": "round-closed", "reported": "2026-01-01", "source": {"name": "S"}}]
    lines += [
        {"deal": "d", "kind": "amount-revised", "reported": f"2026-01-{day:02d}", "source": {"name": "S"},
         "figures": {"size": f"${day}B"}}
        for day in range(2, 12)
    ]  # fmt: skip
    file = tmp_path / "late.jsonl"
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run(sqlite_backend, "import", str(file))
    assert result.exit_code == 0
    warnings = result.stderr.strip().splitlines()
    assert warnings[0] == "warning: line 2: reported after the deal closed on 2026-01-01"
    assert warnings[-1] == "warning: 5 more reports are dated after their deal closed"
    assert len(warnings) == 6


def test_an_import_line_recorded_in_the_future_is_refused(backend: Backend, tmp_path: Path) -> None:
    line = {"deal": "d", "kind": "talks-opened", "reported": "2026-01-01", "source": {"name": "S"},
            "recorded": "2999-01-01T00:00:00+00:00"}  # fmt: skip
    file = tmp_path / "future.jsonl"
    file.write_text(json.dumps(line) + "\n")
    result = run(backend, "import", str(file))
    assert result.exit_code == 1
    assert "record time 2999-01-01T00:00:00+00:00 is in the future" in result.stderr
    assert backend.count_events() == 0


def test_another_programs_sqlite_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """Opening it as a ledger added the ledger's tables to it, even for `deals`."""
    import sqlite3
    import subprocess
    import sys
    from contextlib import closing

    other = tmp_path / "notes.db"
    with closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('mine')")
    before = other.read_bytes()
    lines = tmp_path / "one.jsonl"
    lines.write_text(json.dumps({"deal": "a", "kind": "talks-opened", "reported": "2026-01-28", "source": "S",
                                 "figures": {"size": "$1B"}}) + "\n")  # fmt: skip
    expected = f"Error: {other} is a SQLite database, but not a ledger (its tables: notes); give a new file or a ledger\n"
    for args in (["deals"], ["history", "a"], ["init"], ["verify"], ["import", str(lines)],
                 ["append", "a", "talks-opened", "--source", "S", "--reported", "2026-01-28", "--figure", "size=$1B"]):  # fmt: skip
        result = CliRunner().invoke(cli, ["--db", str(other), *args])
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", expected), args
    done = subprocess.run([sys.executable, "-m", "ledger", "--db", str(other), "deals"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (1, expected)
    assert other.read_bytes() == before

    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file is a new ledger
    result = CliRunner().invoke(cli, ["--db", str(empty), "import", str(lines)])
    assert result.exit_code == 0, result.output


def test_a_byte_order_mark_at_the_start_of_an_import_file_is_not_part_of_its_first_line(backend: Backend, tmp_path: Path) -> None:
    """Editors on Windows save UTF-8 with one; it was refused as 'line 1: not valid JSON'."""
    line = {"deal": "openai-2026", "kind": "talks-opened", "reported": "2026-01-28", "source": "The Information",
            "figures": {"size": "至多1000亿美元"}}  # fmt: skip
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps(line, ensure_ascii=False).encode() + b"\n")
    result = run(backend, "import", str(marked))
    assert result.exit_code == 0, result.output
    assert [e["figures"]["size"]["text"] for e in history(backend, "openai-2026")["events"]] == ["至多1000亿美元"]

    elsewhere = tmp_path / "elsewhere.jsonl"
    second = {**line, "deal": "xai-2026"}
    elsewhere.write_bytes(json.dumps(second).encode() + b"\n\xef\xbb\xbf" + json.dumps(second).encode() + b"\n")
    before = backend.count_events()
    refused = run(backend, "import", str(elsewhere))
    assert refused.exit_code == 2 and refused.stderr.startswith("Error: line 2: not valid JSON"), refused.output
    assert backend.count_events() == before


@pytest.mark.parametrize(
    ("encoding", "message"),
    [("utf-16", "Error: line 1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8\n"),
     ("gb18030", "Error: line 1: not UTF-8 text (byte 0xd6 at byte 125 of the line): save the file as UTF-8, "
                 "e.g. iconv -f GB18030 -t UTF-8 (or -f BIG5 for traditional Chinese)\n")],
)
def test_an_import_file_not_saved_as_utf8_is_refused_saying_so_and_nothing_is_written(
    backend: Backend, tmp_path: Path, encoding: str, message: str
) -> None:
    """Both were 'not valid JSON (str is not valid UTF-8: surrogates not allowed …)'."""
    line = {"deal": "openai-2026", "kind": "talks-opened", "reported": "2026-01-28", "source": "The Information",
            "figures": {"size": "至多1000亿美元"}}  # fmt: skip
    saved = tmp_path / f"{encoding}.jsonl"
    saved.write_bytes((json.dumps(line, ensure_ascii=False) + "\n").encode(encoding))
    append(backend, "xai-2026", "talks-opened", "--source", "A", "--reported", "2026-01-20")
    before = backend.count_events()
    result = run(backend, "import", str(saved))
    assert result.exit_code == 2, result.output
    assert result.stderr == message
    assert backend.count_events() == before


def test_an_imported_retraction_is_recorded_by_whoever_imports_it_as_its_reports_are(
    backend: Backend, tmp_path: Path
) -> None:
    report = {"event_id": "0b5a4c1e-2d7f-4c55-9a51-3f1d2e6a7b80", "deal": "openai-2026", "kind": "talks-opened",
              "reported": "2026-01-28", "source": "The Information", "figures": {"size": "$100B"}}  # fmt: skip
    retraction = {"deal": "openai-2026", "kind": "retraction", "retracts": report["event_id"], "reason": "misread",
                  "reported": "2026-01-29"}
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(report) + "\n" + json.dumps(retraction) + "\n")
    result = CliRunner().invoke(cli, ["--db", backend.db, "import", str(lines)], env={"LEDGER_USER": "ana"})
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in run(backend, "export").stdout.splitlines()]
    assert [(e["kind"], e["recorded_by"]) for e in exported] == [("talks-opened", "ana"), ("retraction", "ana")]
