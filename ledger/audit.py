"""Tamper evidence: verifying the hash chain, and signed checkpoints of its head.

`verify_chain` recomputes every link and returns problems as data, naming
the first bad sequence number and the deal. A checkpoint is a signed
statement (ledger id, size, head hash, time); a ledger that still extends a
checkpoint has, at that size, the same head. Ed25519 keys live outside the
database.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from ledger.errors import LedgerError
from ledger.stores import GENESIS, EventHasher, chain_hash


@dataclass(frozen=True)
class Problem:
    """One thing `verify` found wrong: where (seq, deal) and what."""

    check: str
    message: str
    seq: int | None = None
    deal: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verify_chain(
    recorder: Any, deal_of: Callable[[UUID], str | None], advance: Callable[[int], None] | None = None
) -> tuple[int, list[Problem]]:
    """Recomputes every link of the chain, streaming it; returns its size and the problems found."""
    findings = check_chain(recorder, advance)
    return findings.size, findings.problems(deal_of)


@dataclass(frozen=True)
class Link:
    """Where a chain entry is: its sequence number and stream (uuid text)."""

    seq: int
    originator_id: str


@dataclass
class Findings:
    """What one walk of the chain found, by seq and stream; `problems` names their deals."""

    size: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # first and last missing seq
    events: list[tuple[Link, int, str]] = field(default_factory=list)  # entry, version, what is wrong
    broken: dict[int, tuple[Link | None, Link]] = field(default_factory=dict)  # seq -> (entry before, entry)
    unchained: list[tuple[UUID, int]] = field(default_factory=list)

    @property
    def names_deals(self) -> bool:
        """Whether any problem found names a deal (a gap names none)."""
        return bool(self.events or self.broken or self.unchained)

    def problems(self, deal_of: Callable[[UUID], str | None]) -> list[Problem]:
        """The findings as problems, in seq order, each naming its deal where one is known."""
        problems = [Problem("chain", f"entries {first}..{last} are missing", first) for first, last in self.gaps]
        for entry, version, what in self.events:
            deal = _deal(deal_of, entry.originator_id)
            where = f"seq {entry.seq} ({deal or entry.originator_id} version {version})"
            problems.append(Problem("chain", f"{where}: {what}", entry.seq, deal))
        problems += _link_problems(self.broken, deal_of)
        if self.unchained and self.size:
            for originator_id, version in self.unchained[:10]:
                deal = deal_of(originator_id)
                problems.append(
                    Problem("chain", f"{deal or originator_id} version {version} is not in the chain (forged?)", None, deal)
                )
        elif self.unchained:
            problems.append(
                Problem("chain", "this ledger has no hash chain yet; run `ledger verify --build-chain` once to build it")
            )
        problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
        return problems


def check_chain(recorder: Any, advance: Callable[[int], None] | None = None) -> Findings:
    """Recomputes every link of the chain, a batch of entries at a time.

    The loop is the cost of `ledger verify` on a large ledger, so it works on
    the rows as read and builds nothing for an entry that is fine.
    """
    found = Findings()
    canonical, rehash = recorder.canonical_id, EventHasher(recorder.canonical_id)
    previous, expected, before, entries, gone = GENESIS, 1, None, 0, 0
    while batch := recorder.chain(found.size):
        for seq, stored_id, version, digest, link, topic, state in batch:
            if seq != expected:
                # A gap names no deal (the entries that said which are gone), and the link across it
                # cannot be checked: the gap is the finding, not the intact entry after it.
                found.gaps.append((expected, seq - 1))
            elif chain_hash(previous, seq, digest) != link:
                found.broken[seq] = (
                    None if before is None else Link(seq - 1, canonical(before)), Link(seq, canonical(stored_id))
                )  # fmt: skip
            if state is None or topic is None:
                found.events.append((Link(seq, canonical(stored_id)), version, "the event it covers is gone"))
                gone += 1
            elif rehash(stored_id, version, topic, state) != digest:
                found.events.append((Link(seq, canonical(stored_id)), version, "the stored event was changed"))
            expected, previous, before = seq + 1, link, stored_id
        entries += len(batch)
        found.size = batch[-1][0]
        if advance:
            advance(len(batch))
    # Every stored event is covered when as many are stored as the chain found: then the
    # search for unchained ones (a lookup per stored event) is not needed.
    if entries - gone != recorder.count_events():
        found.unchained = recorder.unchained()
    return found


def _deal(deal_of: Callable[[UUID], str | None], originator_id: str) -> str | None:
    try:
        return deal_of(UUID(originator_id))
    except ValueError:  # not a uuid: a chain entry rewritten by hand
        return None


def _link_problems(
    broken: dict[int, tuple[Link | None, Link]], deal_of: Callable[[UUID], str | None]
) -> list[Problem]:
    """Names the entry behind each broken link.

    Two broken links in a row (seq s, s+1) mean entry s's chain hash changed.
    One broken link at s means entry s-1 was rewritten with fresh hashes of
    its own (or entry s's event hash was): the first entry that may be bad,
    s-1, is named, and the message names both.
    """
    problems = []
    for seq, (before, entry) in sorted(broken.items()):
        if seq - 1 in broken:
            continue
        if seq + 1 in broken or before is None:
            culprit, text = entry, f"seq {entry.seq}: chain entry rewritten"
        else:
            culprit = before
            text = f"seq {before.seq} or {entry.seq}: rewritten (seq {entry.seq} no longer links to seq {before.seq})"
        problems.append(Problem("chain", text, culprit.seq, _deal(deal_of, culprit.originator_id)))
    return problems


# Checkpoints


def default_key_path() -> Path:
    """`$XDG_CONFIG_HOME/deal-ledger/signing.key`, outside any database."""
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "deal-ledger" / "signing.key"


def new_signing_key(path: Path) -> str:
    """Writes a new Ed25519 private key (PEM, mode 0600); returns the public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise LedgerError(f"{path} exists; refusing to overwrite a signing key")
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return public_key_text(key)


def load_signing_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise LedgerError(f"no signing key at {path}; create one with `ledger keygen --signing`") from None
    except ValueError:
        raise LedgerError(f"{path} is not a PEM Ed25519 private key") from None


def public_key_text(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def statement_bytes(statement: dict[str, Any]) -> bytes:
    """The signed bytes: the statement's fields as canonical JSON."""
    fields = {k: statement[k] for k in ("ledger_id", "size", "head", "time")}
    return b"deal-ledger/checkpoint/v1\n" + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def make_checkpoint(ledger_id: str, size: int, head: bytes, private_key: Any) -> dict[str, Any]:
    """A signed statement of the ledger's size and head hash now."""
    statement: dict[str, Any] = {
        "ledger_id": ledger_id,
        "size": size,
        "head": head.hex(),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    statement["public_key"] = public_key_text(private_key)
    statement["signature"] = base64.b64encode(private_key.sign(statement_bytes(statement))).decode()
    return statement


def check_checkpoint(statement: Any, ledger_id: str, recorder: Any, trusted_key: str | None) -> str | None:
    """None when the ledger extends the checkpoint; else why not, in one line."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key_text = statement["public_key"]
        if trusted_key and key_text != trusted_key:
            return "signed by a key that is not the trusted signing key"
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key_text))
        key.verify(base64.b64decode(statement["signature"]), statement_bytes(statement))
        size, head = int(statement["size"]), bytes.fromhex(statement["head"])
    except InvalidSignature:
        return "bad signature"
    except (KeyError, TypeError, ValueError):
        return "not a deal-ledger checkpoint"
    if statement["ledger_id"] != ledger_id:
        return f"from another ledger ({statement['ledger_id']}, this is {ledger_id})"
    current_size, _ = recorder.head()
    if size > current_size:
        return f"covers {size} events but the ledger has {current_size}: truncated, or an older backup"
    seq, at_size = recorder.head(size)
    if seq != size or at_size != head:
        return f"the ledger's history up to event {size} differs from the checkpoint (rewritten)"
    return None
