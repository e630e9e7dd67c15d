"""A catch-up's rows, a batch of deals at a time.

Each deal's events are read, decoded and folded once into its `deal_index`
row, its `party_index` rows and one `event_index` row per event; the batch is
written with one statement per table (see `projections.index.IndexWriter`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

#: Deals whose rows are written to the read models at a time.
DEALS_PER_WRITE = 500

Batch = tuple[dict[str, tuple[Any, ...]], dict[str, list[tuple[Any, ...]]], list[tuple[Any, ...]]]


def folded(source: Any, streams: list[Any], seal: Callable[..., Any] | None = None) -> Iterator[Batch]:
    """The rows of the deals of `streams`, `DEALS_PER_WRITE` deals at a time; `seal` seals a deal's rows."""
    from projections.rows import deal_rows

    for start in range(0, len(streams), DEALS_PER_WRITE):
        deals: dict[str, tuple[Any, ...]] = {}
        parties: dict[str, list[tuple[Any, ...]]] = {}
        events: list[tuple[Any, ...]] = []
        for records in source.records_many(streams[start : start + DEALS_PER_WRITE]):
            if not records:
                continue
            slug = records[0].deal
            rows = deal_rows(records)
            deals[slug], parties[slug] = seal(*rows) if seal else rows
            events += [(str(r.event_id), slug, r.kind, r.originator_version) for r in records]
        if deals:
            yield deals, parties, events
