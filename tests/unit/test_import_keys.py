"""The import's scratch keys: the bitmap that spares a query for a report never seen."""

from ledger.import_keys import Seen


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
