"""What `read_report` refuses before validation: fields it does not know, named as given."""

from __future__ import annotations

import pytest

from events.intake import IntakeError, read_report

LINE = {"deal": "openai-2026", "kind": "talks-opened", "reported": "2026-01-28", "source": "The Information"}


def test_an_unknown_field_of_a_line_is_named_first_in_order() -> None:
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "zeta": 1, "amount": "$1B"})
    assert str(refused.value) == "amount: unknown field"


def test_an_unknown_field_of_a_commitment_is_named_with_its_place() -> None:
    parties = [{"party": "nvidia", "amount": "up to $30B"}, {"party": "softbank", "ammount": "$1B", "role": "x"}]
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "parties": parties})
    assert str(refused.value) == "parties[1].ammount: unknown field"


def test_the_fields_an_export_line_keeps_are_known() -> None:
    line = {**LINE, "event_id": "0b5a4c1e-2d7f-4c55-9a51-3f1d2e6a7b80", "recorded": "2026-01-28T00:00:00+00:00",
            "recorded_by": "ana", "version": 3, "parties": [{"party": "nvidia", "name": "NVIDIA", "amount": None}]}  # fmt: skip
    assert read_report(line).recorded_by == "ana"
