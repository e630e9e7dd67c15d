"""Plain tables (output piped, or NO_COLOR): columns aligned in terminal cells, no trailing spaces."""

from __future__ import annotations

import pytest

from ledger.output import table


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
