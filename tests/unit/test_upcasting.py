"""Schema evolution: an event stored under an older class version is upcast when read."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, ClassVar
from uuid import uuid4

from eventsourcing.utils import get_topic

from events.reports import Report, TalksOpened
from ledger.mapper import OrjsonTranscoder, PydanticMapper


class TalksOpenedV2(Report):
    """As if TalksOpened had gained a required field `confidence` in version 2."""

    kind: ClassVar[str] = "talks-opened"
    class_version: ClassVar[int] = 2
    confidence: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["confidence"] = "unrated"


def stored_v1() -> Any:
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    event = TalksOpened(
        originator_id=uuid4(), originator_version=1, timestamp=datetime.now(timezone.utc), event_id=uuid4(),
        deal="openai-2026", reported="2026-01-28", source={"name": "The Information"},
    )  # fmt: skip
    stored = mapper.to_stored_event(event)
    # The same bytes, now resolved to the evolved class.
    return mapper, replace(stored, topic=get_topic(TalksOpenedV2))


def test_a_version_1_event_is_upcast_to_version_2_when_read() -> None:
    mapper, stored = stored_v1()
    assert b"class_version" not in stored.state
    event = mapper.to_domain_event(stored)
    assert isinstance(event, TalksOpenedV2)
    assert event.confidence == "unrated"
    assert event.source.name == "The Information"


def test_a_version_2_event_stores_its_class_version_and_reads_back_unchanged() -> None:
    mapper, stored = stored_v1()
    event = mapper.to_domain_event(stored)
    again = mapper.to_stored_event(event.model_copy(update={"confidence": "high"}))
    assert b'"class_version":2' in again.state
    assert mapper.to_domain_event(again).confidence == "high"
