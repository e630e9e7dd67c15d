"""Stored records: the read side's light events print and fold exactly like the validated ones."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from eventsourcing.utils import get_topic

from events.reports import EVENT_CLASSES, Commitment, Figure, Party, Report, ReportRetracted, Source, event_json
from events.stored import (
    COMMITMENT_FIELDS,
    FIGURE_FIELDS,
    KINDS,
    PARTY_FIELDS,
    REPORT_FIELDS,
    RETRACTION_FIELDS,
    SOURCE_FIELDS,
    StoredRecord,
    decode,
    figure_from_json,
    record_json,
)
from ledger.mapper import OrjsonTranscoder, PydanticMapper
from projections.compare import blame, diff
from projections.render import blame_json, diff_json, history_json, state_json
from projections.rows import deal_rows
from projections.state import deal_state
from projections.timeline import timelines
from tests.unit.builders import about, at_least, between, exact, less_than, more_than, nearly, report, retract, up_to

MAPPER = PydanticMapper(transcoder=OrjsonTranscoder())


def stored_fields(model: type) -> tuple[str, ...]:
    return tuple(name for name in model.model_fields if name not in ("originator_id", "originator_version"))


def as_record(event: object) -> StoredRecord:
    """The event stored, then read back the way read commands read it."""
    stored = MAPPER.to_stored_event(event)
    record = decode(orjson.loads(stored.state), stored.topic, stored.originator_id, stored.originator_version)
    assert record is not None, "today's events are read without pydantic"
    return record


def a_deal() -> list:
    """Every kind of report, qualifier and retraction, with groups, fractions and a backdated report."""
    first = report(reported="2026-01-20", size=up_to("30B"), parties={"nvidia": up_to("30B"), "amazon+microsoft": None})
    events = [
        first,
        report("amount-revised", reported="2026-01-22", size=between("20B", "25.5B"), valuation=about("1.5T"),
               parties={"nvidia": nearly("12.25B"), "softbank": at_least("5B")}),
        report("term-sheet-reviewed", reported="2026-01-21", target=more_than("10B"), figures={"pre-money": less_than("700B")}),
        retract(first, reported="2026-01-25"),
        report("round-closed", reported="2026-01-30", size=exact("27B", text="$27 billion"),
               parties={"nvidia": exact("0.5")}),
        report("talks-ended", reported="2026-02-02", size=exact("27B", "EUR")),
    ]  # fmt: skip
    return events


def test_the_decoder_knows_every_field_of_every_model_in_order() -> None:
    assert REPORT_FIELDS == stored_fields(Report)
    assert RETRACTION_FIELDS == stored_fields(ReportRetracted)
    assert SOURCE_FIELDS == tuple(Source.model_fields)
    assert FIGURE_FIELDS == tuple(Figure.model_fields)
    assert COMMITMENT_FIELDS == tuple(Commitment.model_fields)
    assert PARTY_FIELDS == tuple(Party.model_fields)
    assert KINDS == {get_topic(cls): kind for kind, cls in EVENT_CLASSES.items()}


def test_a_record_prints_exactly_as_its_event() -> None:
    for event in a_deal():
        assert orjson.dumps(record_json(as_record(event))) == orjson.dumps(event_json(event))


def test_records_fold_into_exactly_the_same_projections() -> None:
    events = a_deal()
    records = [as_record(event) for event in events]
    slug = events[0].deal
    same = [
        lambda e: history_json(slug, e, timelines(e)),
        lambda e: state_json(deal_state(e)),
        lambda e: blame_json(slug, blame(e)),
        lambda e: diff_json(slug, events[0].reported_day, events[-1].reported_day,
                            diff(e, events[0].reported_day, events[-1].reported_day)),
        deal_rows,
    ]  # fmt: skip
    for projection in same:
        assert orjson.dumps(projection(records)) == orjson.dumps(projection(events))


def test_a_figure_from_the_read_models_is_the_figure_it_was() -> None:
    figure = between("1.25B", "2B")
    again = figure_from_json(figure.to_json())
    assert (again.low, again.high, again.qualifier, str(again)) == (figure.low, figure.high, figure.qualifier, str(figure))
    assert again == figure and again.to_json() == figure.to_json()
    assert again.value == Decimal("1625000000")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(extra=1),
        lambda s: s.update(class_version=2),
        lambda s: s.pop("note"),
        lambda s: s["source"].update(kind=None) or s["source"].pop("url"),
        lambda s: s["figures"]["size"].update(low=30e9),
        lambda s: s["figures"]["size"].update(high="30000000000"),
        lambda s: s["commitments"][0]["parties"][0].update(extra="x"),
        lambda s: s.update(timestamp="2026-01-28T10:00:00"),
    ],
)
def test_anything_not_in_todays_shape_is_left_to_pydantic(change) -> None:
    stored = MAPPER.to_stored_event(report(size=up_to("30B"), parties={"nvidia": up_to("30B")}))
    state = orjson.loads(stored.state)
    change(state)
    assert decode(state, stored.topic, stored.originator_id, 1) is None


def test_an_unknown_topic_is_left_to_pydantic() -> None:
    stored = MAPPER.to_stored_event(report())
    assert decode(orjson.loads(stored.state), "tests.elsewhere:TalksOpened", stored.originator_id, 1) is None


def test_the_mapper_reads_an_event_in_an_older_shape_through_pydantic() -> None:
    event = report(size=up_to("30B"))
    stored = MAPPER.to_stored_event(event)
    state = orjson.loads(stored.state)
    state["figures"]["size"]["high"] = 30e9  # as a float: not how today's models write it
    record = MAPPER.record(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))
    assert record_json(record) == event_json(event)


def test_records_give_the_write_side_the_deal_state_its_events_give() -> None:
    from ledger.domain import project_deal

    events = a_deal()
    from_events, from_records = project_deal(None, events), project_deal(None, [as_record(e) for e in events])
    assert from_records == from_events
    assert from_records.retracted and from_records.closings and len(from_records.content) == 5
    for event in events:
        if isinstance(event, Report):
            assert as_record(event).content_hash == event.content_hash


def test_a_record_read_through_pydantic_keeps_its_content_hash() -> None:
    event = report(size=up_to("30B"), parties={"nvidia": up_to("30B")})
    stored = MAPPER.to_stored_event(event)
    state = orjson.loads(stored.state)
    state["figures"]["size"]["high"] = 30e9  # an older shape: the record comes from the validated model
    record = MAPPER.record(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))
    assert record.content_hash == event.content_hash
