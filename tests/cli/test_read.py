"""The read commands on the demo data, with the figures the reference article gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import cli
from tests.conftest import EXAMPLE, Backend

COMMANDS = [
    "append", "import", "export", "retract", "history", "show", "diff", "blame", "party", "deals", "rebuild",
    "demo", "init", "keygen", "verify", "checkpoint",
]  # fmt: skip


@pytest.fixture
def demo(backend: Backend) -> Backend:
    result = CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    return backend


def run_json(backend: Backend, *args: str):
    result = CliRunner().invoke(cli, ["--db", backend.db, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def points(history: dict, figure: str | None = None, party: str | None = None) -> list[dict]:
    [line] = [f for f in history["figures"] if f["figure"] == figure and f["party"] == party]
    return line["points"]


def test_xai_series_e_target_was_15b_and_it_closed_at_20b(demo: Backend) -> None:
    state = run_json(demo, "show", "xai-series-e-2026")
    assert state["status"] == "closed"
    assert state["figures"]["target"]["value"]["low"] == 15_000_000_000
    assert state["figures"]["size"]["value"] == {
        "currency": "USD", "qualifier": "exact", "low": 20_000_000_000, "high": 20_000_000_000, "text": "200亿美元",
    }  # fmt: skip
    assert state["figures"]["valuation"]["value"]["low"] == 230_000_000_000


def test_amazons_commitment_is_more_than_10b_with_the_possible_20b_noted(demo: Backend) -> None:
    history = run_json(demo, "history", "openai-2026", "--party", "amazon")
    amazon = points(history, party="amazon")
    assert amazon[-1]["value"]["qualifier"] == "more_than"
    assert amazon[-1]["value"]["low"] == 10_000_000_000
    notes = " ".join(e["note"] or "" for e in history["events"])
    assert "200亿美元" in notes or "20B" in notes or "20 billion" in notes


def test_openai_round_current_size_and_who_said_so(demo: Backend) -> None:
    state = run_json(demo, "show", "openai-2026")
    size = state["figures"]["size"]
    assert size["value"]["high"] == 100_000_000_000
    assert size["source"]
    nvidia = state["commitments"]["nvidia"]["value"]
    assert (nvidia["qualifier"], nvidia["high"]) == ("at_most", 30_000_000_000)
    group = state["commitments"]["amazon+microsoft+nvidia"]["value"]
    assert (group["qualifier"], group["high"]) == ("at_most", 60_000_000_000)
    assert state["figures"]["valuation"]["value"]["high"] == 830_000_000_000


def test_what_was_known_on_the_27th_differs_from_the_29th(demo: Backend) -> None:
    before = run_json(demo, "show", "openai-2026", "--as-of", "2026-01-27")
    after = run_json(demo, "show", "openai-2026", "--as-of", "2026-01-29")
    assert before["figures"] != after["figures"]
    assert "size" in after["figures"]
    changed = run_json(demo, "diff", "openai-2026", "--from", "2026-01-27", "--to", "2026-01-29")
    assert changed["entries"]


def test_known_at_a_moment_before_anything_was_recorded_shows_nothing(demo: Backend) -> None:
    state = run_json(demo, "show", "openai-2026", "--known-at", "2026-01-01T00:00:00Z")
    assert state["figures"] == {} and state["commitments"] == {}


def test_known_at_a_compact_iso_day_means_the_end_of_that_day_as_the_usual_form_does(demo: Backend) -> None:
    """It meant the day's first moment, before anything the demo recorded that day."""
    day = run_json(demo, "history", "openai-2026")["events"][0]["recorded"][:10]  # the demo records today
    whole = run_json(demo, "show", "openai-2026")
    assert run_json(demo, "show", "openai-2026", "--known-at", day) == whole
    assert run_json(demo, "show", "openai-2026", "--known-at", day.replace("-", "")) == whole


def test_show_for_people_before_the_first_report_says_so_without_placeholders(demo: Backend) -> None:
    result = CliRunner().invoke(cli, ["--db", demo.db, "show", "tesla-xai-2026", "--as-of", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["tesla-xai-2026: no standing report", "0 reports (0 retracted)"]
    one = CliRunner().invoke(cli, ["--db", demo.db, "show", "tesla-xai-2026"])
    assert "; 1 report (0 retracted) from 1 source\n" in one.stdout
    history = CliRunner().invoke(cli, ["--db", demo.db, "history", "tesla-xai-2026"])
    assert history.stdout.splitlines()[0] == "tesla-xai-2026: 1 event"


def test_diff_with_its_days_reversed_is_refused_as_input_in_one_line(demo: Backend) -> None:
    result = CliRunner().invoke(cli, ["--db", demo.db, "diff", "openai-2026", "--from", "2026-01-29", "--to", "2026-01-27"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --from 2026-01-29 is after --to 2026-01-27; give the earlier day first\n"


def test_history_of_a_figure_or_party_no_report_names_is_refused_with_the_names_there_are(demo: Backend) -> None:
    figure = CliRunner().invoke(cli, ["--db", demo.db, "history", "openai-2026", "--figure", "sise"])
    assert figure.exit_code == 1
    assert figure.stderr == "Error: no report of 'openai-2026' gives a figure 'sise' (its figures: size, valuation)\n"
    party = CliRunner().invoke(cli, ["--db", demo.db, "history", "openai-2026", "--party", "nvdia", "--json"])
    assert party.exit_code == 1 and party.stdout == ""
    assert "names a party 'nvdia' (its parties: amazon, microsoft, nvidia, softbank)" in party.stderr
    # named, but not yet reported on the day asked: an empty history, not an error
    early = run_json(demo, "history", "openai-2026", "--party", "nvidia", "--as-of", "2026-01-01")
    assert early["events"] == [] and early["figures"] == []


def test_deals_lists_every_deal_of_the_article(demo: Backend) -> None:
    rows = run_json(demo, "deals")
    assert {r["deal"] for r in rows} >= {"openai-2026", "xai-series-e-2026", "tesla-xai-2026"}
    closed = run_json(demo, "deals", "--status", "closed")
    assert "xai-series-e-2026" in {r["deal"] for r in closed}
    assert "openai-2026" not in {r["deal"] for r in closed}


def test_party_index_shows_nvidia_in_openai_and_xai(demo: Backend) -> None:
    data = run_json(demo, "party", "nvidia")
    assert {c["deal"] for c in data["commitments"]} >= {"openai-2026", "xai-series-e-2026"}


def test_a_party_lists_reports_of_one_day_and_one_import_in_the_order_history_does(backend: Backend, tmp_path: Path) -> None:
    """An import records its reports at one moment: of the same day, they are listed in the order
    their deal holds them, not by event id (the ids here run backwards)."""
    lines = tmp_path / "same-day.jsonl"
    lines.write_text("".join(
        json.dumps({"event_id": f"{9 - n:08x}-0000-4000-8000-000000000000", "deal": "tie-2026",
                    "kind": "talks-opened" if n == 0 else "amount-revised", "reported": "2026-01-28",
                    "source": {"name": source}, "parties": {"nvidia": amount}}) + "\n"
        for n, (source, amount) in enumerate([("A", "up to $30B"), ("B", "$20B"), ("C", "$25B"), ("D", "$26B")])
    ))  # fmt: skip
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(lines)]).exit_code == 0
    in_history = [e["source"]["name"] for e in run_json(backend, "history", "tie-2026")["events"]]
    assert in_history == ["A", "B", "C", "D"]
    commitments = run_json(backend, "party", "nvidia")["commitments"]
    assert [c["source"] for c in commitments] == in_history
    assert [c["current"] for c in commitments] == [False, False, False, True]


def test_rebuild_gives_the_same_read_models(demo: Backend) -> None:
    before = run_json(demo, "deals")
    counts = run_json(demo, "rebuild")
    assert counts["event_index"] == demo.count_events()
    assert run_json(demo, "deals") == before


def test_blame_names_the_report_behind_each_current_figure(demo: Backend) -> None:
    data = run_json(demo, "blame", "xai-series-e-2026")
    assert data


def test_history_of_an_unknown_deal_is_refused_in_one_line(demo: Backend) -> None:
    result = CliRunner().invoke(cli, ["--db", demo.db, "history", "opneai-2026"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: unknown deal 'opneai-2026'"


def test_tables_are_plain_when_piped(demo: Backend) -> None:
    result = CliRunner().invoke(cli, ["--db", demo.db, "history", "xai-series-e-2026"])
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout and "━" not in result.stdout
    assert "200亿美元" not in result.stdout and "$20B" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_demo_runs_without_touching_the_users_ledger(tmp_path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "NO_COLOR": "1"}
    env.pop("LEDGER_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "demo"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "openai-2026" in result.stdout and "xai-series-e-2026" in result.stdout
    assert not (tmp_path / "deal-ledger").exists()


def test_the_console_script_appends_to_the_default_database_with_no_flags(tmp_path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    env.pop("LEDGER_DB", None)
    ledger = [sys.executable, "-m", "ledger"]
    first = subprocess.run(
        [*ledger, "append", "openai-2026", "talks-opened", "--source", "The Information",
         "--reported", "2026-01-28", "--figure", "size=up to $100B", "--party", "nvidia=up to $30B"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "deal-ledger" / "ledger.db").exists()
    shown = subprocess.run([*ledger, "history", "openai-2026"], capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "≤ $100B" in shown.stdout and "≤ $30B" in shown.stdout


def test_diff_of_openai_between_the_27th_and_29th_lists_every_new_figure(demo: Backend) -> None:
    changed = run_json(demo, "diff", "openai-2026", "--from", "2026-01-27", "--to", "2026-01-29")
    assert changed["status"] == {"before": None, "after": "term-sheet"}
    after = {(e["figure"], e["party"]): e["after"]["value"] for e in changed["entries"]}
    assert after[("size", None)]["qualifier"] == "nearly"
    assert after[(None, "softbank")]["high"] == 30_000_000_000
    assert after[(None, "amazon+microsoft+nvidia")]["high"] == 60_000_000_000
    assert all(e["before"] is None for e in changed["entries"])


def test_blame_shows_the_size_set_by_the_information_superseding_two_reports(demo: Backend) -> None:
    blamed = run_json(demo, "blame", "openai-2026")
    [size] = [entry for entry in blamed["figures"] if entry["figure"] == "size"]
    assert size["current"]["source"] == "The Information"
    assert size["current"]["value"]["text"] == "近1000亿美元"
    superseded = [(p["value"]["qualifier"], p["value"]["high"]) for p in size["superseded"]]
    assert sorted(superseded) == [("at_most", 100_000_000_000), ("exact", 100_000_000_000)]


def test_a_retracted_report_drops_out_of_the_current_value_but_stays_in_history(demo: Backend) -> None:
    blamed = run_json(demo, "blame", "openai-2026")
    [size] = [entry for entry in blamed["figures"] if entry["figure"] == "size"]
    result = CliRunner().invoke(cli, ["--db", demo.db, "retract", size["current"]["event_id"], "--reason", "misquoted"])
    assert result.exit_code == 0, result.output
    state = run_json(demo, "show", "openai-2026")
    assert state["figures"]["size"]["value"]["text"] == "1000亿美元"  # the lead, recorded before it
    history = run_json(demo, "history", "openai-2026", "--figure", "size")
    flags = [(p["value"]["qualifier"], p["retracted"]) for p in points(history, figure="size")]
    assert ("nearly", True) in flags
    before = run_json(demo, "show", "openai-2026", "--known-at", size["current"]["recorded"])
    assert before["figures"]["size"]["value"]["qualifier"] == "nearly"


def test_history_of_xai_shows_the_target_and_the_close(demo: Backend) -> None:
    history = run_json(demo, "history", "xai-series-e-2026")
    assert points(history, figure="target")[0]["value"]["low"] == 15_000_000_000
    assert points(history, figure="size")[0]["value"]["low"] == 20_000_000_000
    assert {p["party"] for p in history["figures"] if p["party"]} >= {"nvidia", "cisco-investments", "qatar-investment-authority"}


def test_an_empty_db_is_refused_not_taken_for_the_default_ledger(tmp_path: Path) -> None:
    """`ledger --db "$UNSET" append …` in a script wrote to the default ledger."""
    home = tmp_path / "data"
    for args, env in ((["--db", ""], {}), (["--db", "  "], {}), ([], {"LEDGER_DB": " "})):
        result = CliRunner().invoke(
            cli, [*args, "append", "a", "talks-opened", "--source", "S", "--reported", "2026-01-28", "--figure", "size=$1B"],
            env={"XDG_DATA_HOME": str(home), **env},
        )  # fmt: skip
        assert result.exit_code == 2, (args, env, result.output)
        assert result.stderr.startswith("Error: Invalid value for '--db' (or LEDGER_DB): is empty"), result.stderr
    assert not home.exists()
