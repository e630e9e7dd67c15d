"""What `read_report` refuses before validation: fields it does not know, named as given."""

from __future__ import annotations

import pytest

from datetime import date

from events.intake import Draft, IntakeError, read_report
from events.reports import CONTENT_FIELDS, MAX_COMMITMENTS, MAX_FIGURES, TalksOpened

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


@pytest.mark.parametrize("name", ["Big Size", "", "size!"])
def test_a_figure_name_that_is_not_a_slug_is_quoted_under_figures(name: str) -> None:
    """It was named as 'figures.Big Size.[key]', pydantic's place for a mapping's key."""
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "figures": {"size": "$1B", name: "$2B"}})
    assert str(refused.value) == f"figures: {name!r} is not a slug (lowercase letters, digits and hyphens, 1-64 characters)"


def test_the_fields_an_export_line_keeps_are_known() -> None:
    line = {**LINE, "event_id": "0b5a4c1e-2d7f-4c55-9a51-3f1d2e6a7b80", "recorded": "2026-01-28T00:00:00+00:00",
            "recorded_by": "ana", "version": 3, "parties": [{"party": "nvidia", "name": "NVIDIA", "amount": None}]}  # fmt: skip
    assert read_report(line).recorded_by == "ana"


def test_more_figures_than_an_event_holds_are_refused_before_any_is_read() -> None:
    figures = {f"f{n}": "no amount here" for n in range(MAX_FIGURES + 1)}
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "figures": figures})
    assert str(refused.value) == "figures: at most 100 figures in one report, not 101"


def test_more_commitments_than_an_event_holds_are_refused_in_either_form() -> None:
    listed = [{"party": f"p{n}", "amount": "$1M"} for n in range(MAX_COMMITMENTS + 1)]
    keyed = {f"p{n}": "$1M" for n in range(MAX_COMMITMENTS + 1)}
    for parties in (listed, keyed):
        with pytest.raises(IntakeError) as refused:
            read_report({**LINE, "parties": parties})
        assert str(refused.value) == "parties: at most 200 commitments in one report, not 201"


def test_a_draft_at_the_limits_is_accepted() -> None:
    figures = {f"f{n}": f"${n + 1}B" for n in range(MAX_FIGURES)}
    parties = {f"p{n}": f"${n + 1}M" for n in range(MAX_COMMITMENTS)}
    draft = read_report({**LINE, "figures": figures, "parties": parties})
    assert (len(draft.figures), len(draft.commitments)) == (MAX_FIGURES, MAX_COMMITMENTS)


@pytest.mark.parametrize("name", sorted(CONTENT_FIELDS) + ["recorded_by"])
def test_a_draft_checks_each_field_it_stores_as_its_event_does(name: str) -> None:
    """Import workers store a validated draft as it is (`report_state`), without building the
    event: a field the event checks more strictly would be stored and then be unreadable."""
    drafted, stored = Draft.model_fields[name], TalksOpened.model_fields[name]
    assert (drafted.annotation, drafted.metadata) == (stored.annotation, stored.metadata)


def test_a_compact_iso_date_is_that_day_not_seconds_since_1970() -> None:
    """pydantic alone read "20260128" as 20,260,128 seconds after 1970: 1970-08-23T11:48:48Z."""
    assert read_report({**LINE, "reported": "20260128"}).reported == date(2026, 1, 28)


@pytest.mark.parametrize("given", ["1700000000", "2026012", "2026-1-28", "Jan 28, 2026", "2026-01", "2026-02-30"])
def test_a_reported_day_that_is_not_iso_is_refused_naming_it_never_read_as_a_timestamp(given: str) -> None:
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "reported": given})
    assert str(refused.value) == (
        f"reported: {given!r} is not a date like 2026-01-28, or a time with its zone like 2026-01-28T09:00+08:00"
    )


@pytest.mark.parametrize("given", ["1700000000", "2026-01-28 noon"])
def test_a_record_time_that_is_not_iso_is_refused_naming_it(given: str) -> None:
    with pytest.raises(IntakeError) as refused:
        read_report({**LINE, "recorded": given})
    assert str(refused.value) == f"recorded: {given!r} is not a time with its zone like 2026-01-28T09:00:00+00:00"


def test_a_retraction_line_is_recorded_by_whoever_imports_it_unless_it_says_otherwise() -> None:
    """Reports took the importer's name and retractions none: the audit trail lost who retracted."""
    line = {"deal": "openai-2026", "kind": "retraction", "retracts": "0b5a4c1e-2d7f-4c55-9a51-3f1d2e6a7b80",
            "reason": "misread", "reported": "2026-01-29"}  # fmt: skip
    assert read_report(line, recorded_by="ana").recorded_by == "ana"
    assert read_report({**line, "recorded_by": "bo"}, recorded_by="ana").recorded_by == "bo"
    assert read_report({**line, "recorded_by": None}, recorded_by="ana").recorded_by is None  # as exported
