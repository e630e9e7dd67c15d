"""`Immutable.trusted` builds what pydantic builds from the same checked values.

It sets pydantic's own attributes directly (as `model_construct` does, without
its pass over the fields); a pydantic release that changed them would show here.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from uuid import uuid4

import pytest

from events.figures import Figure
from events.intake import read_report
from events.parsing import parse_figure
from events.reports import REPORT_KINDS
from ledger import domain

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("phrase", ["up to $30 billion", "至多300亿美元", "$10-20B", "近1000亿美元", "about €5bn"])
def test_a_figure_read_from_a_phrase_is_the_figure_pydantic_validates(phrase: str) -> None:
    figure = parse_figure(phrase)
    validated = Figure.model_validate(figure.model_dump())

    assert figure == validated
    assert figure.model_dump(mode="json") == validated.model_dump(mode="json")
    assert figure.model_fields_set == validated.model_fields_set
    assert hash(figure) == hash(validated)


@pytest.mark.parametrize("kind", sorted(REPORT_KINDS))
def test_a_report_decided_from_a_draft_is_the_event_pydantic_validates(kind: str) -> None:
    draft = read_report(
        {"deal": "openai-2026", "kind": kind, "reported": "2026-01-28", "source": {"name": "The Information"},
         "figures": {"size": "up to $100B"}, "parties": {"nvidia": "up to $30B", "softbank": None},
         "quote": "Nvidia is in talks to invest up to $30 billion", "event_id": str(uuid4())}
    )  # fmt: skip
    event = domain.record_report(None, draft, NOW)
    validated = type(event).model_validate(event.model_dump())

    assert event == validated
    assert event.model_dump(mode="json") == validated.model_dump(mode="json")
    assert event.model_dump_json() == validated.model_dump_json()
    assert event.reported_day == date(2026, 1, 28)
    with pytest.raises(Exception, match="frozen"):
        event.deal = "other"  # type: ignore[misc]
