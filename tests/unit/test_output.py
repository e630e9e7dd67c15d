"""Plain tables (output piped, or NO_COLOR): columns aligned in terminal cells, no trailing spaces;
progress bars that wait to be needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.output import table
from tests.conftest import with_stderr_on_a_terminal


def test_a_plain_table_aligns_wide_characters_by_the_cells_they_take(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    table(["party", "amount"], [["软银", "≤ $30B"], ["nvidia", None], ["a", "$1B"]], title="softbank: 1 deal")
    assert capsys.readouterr().out.splitlines() == [
        "softbank: 1 deal",
        "party   amount",
        "软银    ≤ $30B",
        "nvidia",
        "a       $1B",
    ]


def test_a_plain_table_without_rows_prints_its_header(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    table(["deal", "status"], [])
    assert capsys.readouterr().out == "deal  status\n"


SLOW_OR_QUICK = """
import sys, time
from ledger.output import progress
with progress("folding deals", None, "deals", after=0.3) as advance:
    advance(5)
    time.sleep(float(sys.argv[1]))
    advance(7)
print("rich loaded" if "rich" in sys.modules else "rich not loaded")
"""


@pytest.mark.parametrize(("work", "bar"), [(0.0, False), (0.6, True)])
def test_a_bar_with_after_appears_only_once_the_work_has_taken_that_long(work: float, bar: bool, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("wb") as stdout:
        code, shown = with_stderr_on_a_terminal([str(work)], stdout, program=("-c", SLOW_OR_QUICK))
    assert code == 0, shown
    assert (b"folding deals" in shown) is bar
    assert out.read_text().strip() == ("rich loaded" if bar else "rich not loaded")
    if bar:  # it counts what was done before it appeared
        assert b"12 deals" in shown
