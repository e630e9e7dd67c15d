"""Which stream holds a deal's events, known without loading the write side.

A deal is one stream of events keyed by a stable uuid5 of its slug; this is
the same id as `ledger.domain.deal_id` (a test holds them together), here so
that read commands need not import the decisions and their pydantic models.
It is computed as `uuid.uuid5` does, with the interpreter's own SHA-1 when
it has one: `uuid5` imports hashlib, whose OpenSSL binding alone costs a
history a few milliseconds of start-up.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

try:
    from _sha1 import sha1
except ImportError:  # an interpreter built without its own hashes
    from hashlib import sha1

NAMESPACE = UUID("8f6a2c1e-5b7d-4e3a-9c0f-1d2e3f4a5b6c")


@lru_cache(maxsize=8192)  # an import asks for every report; the same few deals again and again
def deal_id(slug: str) -> UUID:
    """The stream id of a deal: the same slug always gives the same id (`uuid5(NAMESPACE, slug)`)."""
    return UUID(bytes=sha1(NAMESPACE.bytes + slug.encode()).digest()[:16], version=5)
