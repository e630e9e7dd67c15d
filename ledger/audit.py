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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from ledger.errors import LedgerError
from ledger.stores import GENESIS, ChainEntry, chain_hash, event_hash


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
    problems: list[Problem] = []
    previous, expected_seq, size = GENESIS, 1, 0
    before: ChainEntry | None = None
    broken: dict[int, tuple[Link | None, Link]] = {}  # index -> (entry i-1, entry i)
    for index, entry in enumerate(_entries(recorder, advance)):
        size = entry.seq
        # A gap names no deal (the entries that said which are gone), and the link across it
        # cannot be checked: the gap is the finding, not the intact entry after it.
        after_gap = entry.seq != expected_seq
        if after_gap:
            problems.append(Problem("chain", f"entries {expected_seq}..{entry.seq - 1} are missing", expected_seq))
        expected_seq = entry.seq + 1
        if entry.state is None or entry.topic is None:
            problems.append(_problem(entry, "the event it covers is gone", deal_of))
        elif event_hash(entry.originator_id, entry.originator_version, entry.topic, entry.state) != entry.event_hash:
            problems.append(_problem(entry, "the stored event was changed", deal_of))
        if not after_gap and chain_hash(previous, entry.seq, entry.event_hash) != entry.chain_hash:
            broken[index] = (_link(before), _link(entry))
        previous, before = entry.chain_hash, entry
    problems += _link_problems(broken, deal_of)
    unchained = recorder.unchained()
    if unchained and size:
        for originator_id, version in unchained[:10]:
            deal = deal_of(originator_id)
            problems.append(
                Problem("chain", f"{deal or originator_id} version {version} is not in the chain (forged?)", None, deal)
            )
    elif unchained:
        problems.append(
            Problem("chain", "this ledger has no hash chain yet; run `ledger verify --build-chain` once to build it")
        )
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return size, problems


def _problem(entry: ChainEntry, what: str, deal_of: Callable[[UUID], str | None]) -> Problem:
    deal = deal_of(UUID(entry.originator_id))
    where = f"seq {entry.seq} ({deal or entry.originator_id} version {entry.originator_version})"
    return Problem("chain", f"{where}: {what}", entry.seq, deal)


def _link(entry: ChainEntry | None) -> Link | None:
    return None if entry is None else Link(entry.seq, UUID(entry.originator_id))


@dataclass(frozen=True)
class Link:
    """Where a chain entry is: its sequence number and stream."""

    seq: int
    originator_id: UUID


def _link_problems(
    broken: dict[int, tuple[Link | None, Link]], deal_of: Callable[[UUID], str | None]
) -> list[Problem]:
    """Names the entry behind each broken link.

    Two broken links in a row (i, i+1) mean entry i's chain hash changed. One
    broken link at i means entry i-1 was rewritten with fresh hashes of its
    own (or entry i's event hash was): the first entry that may be bad, i-1,
    is named, and the message names both.
    """
    problems = []
    for i, (before, entry) in sorted(broken.items()):
        if i - 1 in broken:
            continue
        if i + 1 in broken or before is None:
            culprit, text = entry, f"seq {entry.seq}: chain entry rewritten"
        else:
            culprit = before
            text = f"seq {before.seq} or {entry.seq}: rewritten (seq {entry.seq} no longer links to seq {before.seq})"
        problems.append(Problem("chain", text, culprit.seq, deal_of(culprit.originator_id)))
    return problems


def _entries(recorder: Any, advance: Callable[[int], None] | None) -> Iterator[ChainEntry]:
    after = 0
    while True:
        batch = recorder.chain(after)
        yield from batch
        if advance:
            advance(len(batch))
        if not batch:
            return
        after = batch[-1].seq


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
