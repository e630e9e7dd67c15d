"""Which stream holds a deal's events, known without loading the write side.

A deal is one stream of events keyed by a stable uuid5 of its slug; this is
the same id as `ledger.domain.deal_id` (a test holds them together), here so
that read commands need not import the decisions and their pydantic models.
"""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("8f6a2c1e-5b7d-4e3a-9c0f-1d2e3f4a5b6c")


def deal_id(slug: str) -> UUID:
    """The stream id of a deal: the same slug always gives the same id."""
    return uuid5(NAMESPACE, slug)
