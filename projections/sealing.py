"""Keeping an encrypted ledger's read models as confidential as its events.

With a cipher, the materialised rows hold party ids as keyed hashes (so a
party can still be looked up) and names, sources, amounts and headline
figures encrypted with the ledger's own cipher. Deal slugs, statuses, dates,
counts and event ids stay readable, as they do in the event store.
"""

from __future__ import annotations

from typing import Any


class Sealer:
    """Seals and opens read-model cells; does nothing for an unencrypted ledger."""

    def __init__(self, cipher: Any, key: str | None):
        self.cipher = cipher
        self.hash_key = b""
        if cipher:
            import hashlib

            self.hash_key = hashlib.sha256(b"deal-ledger/party-index/" + (key or "").encode()).digest()

    def party(self, party_id: str) -> str:
        if not self.cipher:
            return party_id
        import hashlib
        import hmac

        return hmac.new(self.hash_key, party_id.encode(), hashlib.sha256).hexdigest()

    def seal(self, text: str | None) -> str | None:
        if not self.cipher or text is None:
            return text
        import base64

        return base64.b64encode(self.cipher.encrypt(text.encode())).decode()

    def open(self, text: str | None) -> str | None:
        if not self.cipher or text is None:
            return text
        import base64

        return self.cipher.decrypt(base64.b64decode(text)).decode()
