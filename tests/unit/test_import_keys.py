"""The import's keys: held in memory up to a bound, then in a scratch file; the bitmap that spares a
query for a report never seen."""

from uuid import uuid4

import pytest

from ledger import domain
from ledger.import_keys import ImportKeys, Seen


def deal_with_events(slug: str, count: int) -> domain.Deal:
    deal = domain.Deal(id=domain.deal_id(slug), slug=slug)
    for n in range(count):
        event_id = uuid4()
        deal.kinds[event_id] = "talks-opened"
        deal.content[f"{slug}-{n}"] = event_id
    return deal


@pytest.mark.parametrize(("in_memory", "opens_the_file"), [(10, True), (1000, False)])
def test_keys_past_the_bound_go_to_the_scratch_file_and_are_found_there(in_memory: int, opens_the_file: bool) -> None:
    keys = ImportKeys(in_memory)
    try:
        deals = [keys.adopt(deal_with_events(f"deal-{n}", 4)) for n in range(5)]
        keys.flush()
        assert (keys.db is not None) == opens_the_file
        assert (len(keys.ids), len(keys.contents)) == ((0, 0) if opens_the_file else (20, 20))
        first = deals[0]
        assert first.content.get("deal-0-3") is not None
        assert first.content.get("deal-1-3") is None  # another deal's report
        assert first.content.get("deal-0-4") is None  # never recorded
        found = first.content.get("deal-0-2")
        assert first.kinds.get(found) == "talks-opened"
        assert deals[1].kinds.get(found) is None
    finally:
        keys.close()


def test_a_pair_written_is_always_found():
    seen = Seen()
    pairs = [(f"deal-{n % 7}", f"{n:064x}") for n in range(5000)]
    seen.update(pairs)
    assert all(pair in seen for pair in pairs)


def test_pairs_never_written_are_mostly_not_found():
    seen = Seen()
    seen.update((f"deal-{n}", "a" * 64) for n in range(10_000))
    absent = [(f"deal-{n}", "b" * 64) for n in range(10_000)]
    # 10,000 bits set of 2**26: a false "maybe" is rare (expected ~1.5 here).
    assert sum(pair in seen for pair in absent) < 20
