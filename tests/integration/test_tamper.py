"""The tamper matrix of `ledger verify`, on SQLite and PostgreSQL.

Each test builds a small ledger through the CLI, checks that it verifies
clean, then changes the database directly (as someone with write access to
it would, see tamper_helpers) and checks that `ledger verify --json` exits 1
and names the first bad sequence number and its deal. What the chain alone
cannot see (a truncated tail, a chain re-hashed from scratch, a restored
older copy) must be caught by a signed checkpoint taken before.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.cli import cli
from ledger.domain import deal_id
from tests.conftest import EXAMPLE, Backend, with_stderr_on_a_terminal
from tests.integration.tamper_helpers import Tables, another_ledger, copy_sqlite, fresh_postgres_schema

#: Which deal each chain entry of the example import covers, in record order (seq 1..8).
EXAMPLE_LAYOUT = [
    ("xai-series-e-2026", 1),
    ("openai-2026", 1),
    ("tesla-xai-2026", 1),
    ("openai-2026", 2),
    ("openai-2026", 3),
    ("openai-2026", 4),
    ("openai-2026", 5),
    ("xai-x-merger-2025", 1),
]

#: Appends over three deals, interleaved: seq 1..6 cover alpha v1, beta v1, gamma v1, alpha v2, beta v2, gamma v2.
APPENDS = [
    ("alpha-2026", "talks-opened", "2026-01-05", "size=up to $10B", "nvidia=$2B"),
    ("beta-2026", "talks-opened", "2026-01-06", "size=about $4B", "softbank=at least $1B"),
    ("gamma-2026", "talks-opened", "2026-01-07", "valuation=$80B", "amazon=$5B"),
    ("alpha-2026", "amount-revised", "2026-01-12", "size=$12B", "nvidia=up to $3B"),
    ("beta-2026", "term-sheet-reviewed", "2026-01-13", "size=$4.5B", "softbank=$1.5B"),
    ("gamma-2026", "round-closed", "2026-01-20", "size=$6B", "amazon=$5B"),
]
APPENDS_LAYOUT = [(deal, 1 + i // 3) for i, (deal, *_) in enumerate(APPENDS)]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Signing keys under tmp_path, and no cipher key or ledger from the surrounding shell."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("LEDGER_CIPHER_KEY", "LEDGER_CIPHER_KEY_FILE", "LEDGER_DB", "LEDGER_DEBUG"):
        monkeypatch.delenv(name, raising=False)


# Driving the CLI


def run(backend: Backend, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", backend.db, *args], env=env)


def verify(backend: Backend, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """`ledger verify --json`: its exit code and its report."""
    result = run(backend, "verify", "--json", *args, env=env)
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


def assert_clean(backend: Backend, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, report = verify(backend, *args, env=env)
    assert (code, report["ok"], report["problems"]) == (0, True, []), report
    return report


def assert_fails(backend: Backend, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, report = verify(backend, *args, env=env)
    assert code == 1, report
    assert report["ok"] is False
    assert report["problems"]
    return report


def chain_problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in report["problems"] if p["check"] == "chain"]


def first_chain_problem(backend: Backend, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The first chain problem of a ledger that must fail `verify`."""
    problems = chain_problems(assert_fails(backend, env=env))
    assert problems, "verify failed, but found nothing wrong with the chain"
    return problems[0]


def example_ledger(backend: Backend) -> Tables:
    """The demo import (8 events over 4 deals), verified clean (which also catches up its read models)."""
    result = run(backend, "import", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    tables = Tables(backend)
    assert [(link.originator_id, link.version) for link in tables.links()] == [
        (deal_id(deal), version) for deal, version in EXAMPLE_LAYOUT
    ]
    assert assert_clean(backend)["size"] == 8
    return tables


def appended_ledger(backend: Backend, env: dict[str, str] | None = None) -> Tables:
    """Six appends over three deals (new ones: the last entries of the chain), verified clean."""
    for deal, kind, reported, figure, party in APPENDS:
        result = run(
            backend, "append", deal, kind, "--source", "Reuters", "--reported", reported,
            "--figure", figure, "--party", party, env=env,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    tables = Tables(backend)
    assert [(link.originator_id, link.version) for link in tables.links()[-len(APPENDS) :]] == [
        (deal_id(deal), version) for deal, version in APPENDS_LAYOUT
    ]
    assert assert_clean(backend, env=env)["size"] == tables.size()
    return tables


def edited(state: bytes, **changes: Any) -> bytes:
    """The stored JSON of an event with some fields changed, as a forger would write it."""
    return orjson.dumps(orjson.loads(state) | changes)


def signing_key(tmp_path: Path) -> tuple[Path, str]:
    """A new Ed25519 key file and its public key (base64)."""
    path = tmp_path / "keys" / "signing.key"
    result = CliRunner().invoke(cli, ["keygen", "--signing", "--out", str(path)])
    assert result.exit_code == 0, result.output
    [public] = re.findall(r"public key (\S+)", result.output)
    return path, public


def checkpoint(backend: Backend, key: Path, out: Path) -> dict[str, Any]:
    result = run(backend, "checkpoint", "--key", str(key), "--out", str(out))
    assert result.exit_code == 0, result.output
    statement = json.loads(out.read_text())
    assert json.loads(result.stdout) == statement
    return statement


def checkpoint_problems(report: dict[str, Any]) -> list[str]:
    return [p["message"] for p in report["problems"] if p["check"] == "checkpoint"]


def rebuild_read_models(backend: Backend) -> None:
    """What someone covering their tracks would do after changing events."""
    result = run(backend, "rebuild")
    assert result.exit_code == 0, result.output


# 1-6: changes to events and to the chain


def test_an_untouched_ledger_verifies_clean_after_an_import_and_after_appends(backend: Backend) -> None:
    example_ledger(backend)
    tables = appended_ledger(backend)
    assert tables.size() == 8 + len(APPENDS)
    report = assert_clean(backend)
    assert report["size"] == 14


def test_editing_the_stored_bytes_of_an_event_is_caught_at_its_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.set_state(5, edited(tables.stored(5).state, quote="英伟达正洽谈投资至多900亿美元", reported="2026-01-27"))

    problem = first_chain_problem(backend)
    assert (problem["seq"], problem["deal"]) == (5, "openai-2026")
    assert "seq 5 (openai-2026 version 3): the stored event was changed" in problem["message"]


def test_changing_a_single_byte_of_a_stored_event_is_caught_at_its_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    state = tables.stored(8).state
    tables.set_state(8, state[:-2] + bytes([state[-2] ^ 1]) + state[-1:])

    problem = first_chain_problem(backend)
    assert (problem["seq"], problem["deal"]) == (8, "xai-x-merger-2025")
    assert "the stored event was changed" in problem["message"]


def test_an_edit_with_fresh_hashes_for_its_own_entry_is_caught_where_the_next_link_breaks(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.set_state(5, edited(tables.stored(5).state, reported="2026-01-27"))
    tables.rehash(5)

    report = assert_fails(backend)
    [problem] = chain_problems(report)  # the entry itself now hashes right: only the link to seq 6 breaks
    # One broken link is attributed to the earlier entry, and the message names both (see _link_problems).
    assert (problem["seq"], problem["deal"]) == (5, "openai-2026")
    assert problem["message"] == "seq 5 or 6: rewritten (seq 6 no longer links to seq 5)"


def test_a_changed_chain_hash_alone_is_caught_at_its_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.sql("UPDATE {chain} SET chain_hash = ? WHERE seq = 3", (bytes(32),))

    report = assert_fails(backend)
    [problem] = chain_problems(report)  # two broken links in a row (3 and 4): entry 3's chain hash changed
    assert (problem["seq"], problem["deal"]) == (3, "tesla-xai-2026")
    assert problem["message"] == "seq 3: chain entry rewritten"


def test_rewriting_the_last_event_with_fresh_hashes_is_caught_only_by_a_checkpoint(backend: Backend, tmp_path: Path) -> None:
    tables = example_ledger(backend)
    key, public = signing_key(tmp_path)
    checkpoint(backend, key, tmp_path / "before.json")
    tables.set_state(8, edited(tables.stored(8).state, reported="2026-01-28"))
    tables.rehash(8)
    rebuild_read_models(backend)

    assert_clean(backend)  # nothing follows entry 8 to notice that it changed
    report = assert_fails(backend, "--checkpoint", str(tmp_path / "before.json"), "--public-key", public)
    assert chain_problems(report) == []
    [message] = checkpoint_problems(report)
    assert "differs from the checkpoint (rewritten)" in message


def test_deleting_a_middle_event_is_caught_at_its_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.delete_events(4)

    problem = first_chain_problem(backend)
    assert (problem["seq"], problem["deal"]) == (4, "openai-2026")
    assert "seq 4 (openai-2026 version 2): the event it covers is gone" in problem["message"]


@pytest.mark.parametrize("forged", ["not a deal id", "ZZZ", ""])
def test_a_chain_entry_naming_no_deal_is_caught_at_its_seq_not_a_crash(backend: Backend, forged: str) -> None:
    """PostgreSQL looks a link's event up by uuid: an entry whose id is not one is a problem to report."""
    tables = example_ledger(backend)
    tables.sql("UPDATE {chain} SET originator_id = ? WHERE seq = 4", (forged,))

    problem = first_chain_problem(backend)
    assert problem["seq"] == 4


def test_deleting_every_event_of_a_deal_is_caught_at_the_first_seq_of_that_deal(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.delete_events(2, 4, 5, 6, 7)

    report = assert_fails(backend)
    problems = chain_problems(report)
    assert [(p["seq"], p["deal"]) for p in problems] == [(seq, "openai-2026") for seq in (2, 4, 5, 6, 7)]
    assert all("the event it covers is gone" in p["message"] for p in problems)


def test_deleting_a_deal_with_its_chain_entries_is_reported_as_gaps_from_its_first_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.delete_events(2, 4, 5, 6, 7)
    tables.delete_links(2, 4, 5, 6, 7)

    report = assert_fails(backend)
    problems = chain_problems(report)
    # Which deal the missing entries covered is gone with them: a gap names no deal, and the
    # intact entries around it (seq 3, seq 8) are not accused of anything.
    assert [(p["seq"], p["deal"], p["message"]) for p in problems] == [
        (2, None, "entries 2..2 are missing"),
        (4, None, "entries 4..7 are missing"),
    ]
    assert report["size"] == 8


def test_deleting_a_chain_entry_but_not_its_event_is_a_gap_and_an_unchained_event(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.delete_links(5)

    report = assert_fails(backend)
    assert [(p["seq"], p["deal"], p["message"]) for p in chain_problems(report)] == [
        (5, None, "entries 5..5 are missing"),
        (None, "openai-2026", "openai-2026 version 3 is not in the chain (forged?)"),
    ]


def test_deleting_the_first_entries_of_the_chain_is_reported_as_a_gap_from_seq_1(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.delete_events(1, 2)
    tables.delete_links(1, 2)

    report = assert_fails(backend)
    assert [(p["seq"], p["deal"], p["message"]) for p in chain_problems(report)] == [
        (1, None, "entries 1..2 are missing"),
    ]


def test_swapping_the_states_of_two_events_is_caught_at_the_earlier_seq(backend: Backend) -> None:
    tables = example_ledger(backend)
    fifth, sixth = tables.stored(5).state, tables.stored(6).state
    tables.set_state(5, sixth)
    tables.set_state(6, fifth)

    report = assert_fails(backend)
    problems = chain_problems(report)
    assert [(p["seq"], p["deal"]) for p in problems] == [(5, "openai-2026"), (6, "openai-2026")]
    assert all("the stored event was changed" in p["message"] for p in problems)


def test_swapping_the_states_of_events_of_two_deals_is_caught_at_the_earlier_seq(backend: Backend) -> None:
    tables = appended_ledger(backend)
    first, third = tables.stored(1).state, tables.stored(3).state
    tables.set_state(1, third)
    tables.set_state(3, first)

    problem = first_chain_problem(backend)
    assert (problem["seq"], problem["deal"]) == (1, "alpha-2026")


@pytest.mark.parametrize("fresh_event_id", [True, False], ids=["new-event-id", "verbatim-copy"])
def test_a_forged_event_inserted_into_the_events_table_is_not_in_the_chain(backend: Backend, fresh_event_id: bool) -> None:
    tables = example_ledger(backend)
    model = tables.stored(7)  # openai-2026 version 5, the deal's last
    state = edited(model.state, event_id=str(uuid.uuid4())) if fresh_event_id else model.state
    tables.insert_event(model.originator_id, 6, model.topic, state)

    report = assert_fails(backend)
    [problem] = chain_problems(report)
    assert problem["deal"] == "openai-2026"
    assert problem["seq"] is None
    assert problem["message"] == "openai-2026 version 6 is not in the chain (forged?)"
    assert report["size"] == 8


def test_a_deleted_event_replaced_by_a_forged_one_is_caught_as_both(backend: Backend) -> None:
    tables = example_ledger(backend)
    model = tables.stored(7)
    tables.delete_events(4)
    tables.insert_event(model.originator_id, 6, model.topic, model.state)  # as many events stored as before

    report = assert_fails(backend, "--chain-only")
    assert [(p["seq"], p["deal"], p["message"]) for p in chain_problems(report)] == [
        (4, "openai-2026", "seq 4 (openai-2026 version 2): the event it covers is gone"),
        (None, "openai-2026", "openai-2026 version 6 is not in the chain (forged?)"),
    ]


# SQLite only: rows the store allows that the application never writes


def test_events_at_other_rowids_than_the_chain_expects_still_verify_and_tampering_is_caught(sqlite_backend: Backend) -> None:
    tables = example_ledger(sqlite_backend)
    tables.sql("UPDATE {events} SET rowid = rowid + 1000")  # every event at the same offset
    assert_clean(sqlite_backend, "--chain-only")
    tables.sql("UPDATE {events} SET rowid = 5000 WHERE rowid = 1003")  # and one out of chain order
    assert_clean(sqlite_backend, "--chain-only")

    tables.set_state(6, edited(tables.stored(6).state, reported="2026-01-27"))
    [problem] = chain_problems(assert_fails(sqlite_backend, "--chain-only"))
    assert (problem["seq"], problem["deal"]) == (6, "openai-2026")
    assert "the stored event was changed" in problem["message"]


def test_a_state_written_back_as_text_verifies_by_its_bytes(sqlite_backend: Backend) -> None:
    tables = example_ledger(sqlite_backend)
    fifth = tables.stored(5).state
    tables.sql("UPDATE {events} SET state = CAST(state AS TEXT)")
    assert_clean(sqlite_backend, "--chain-only")

    tables.set_state(5, edited(fifth, reported="2026-01-27").decode())  # type: ignore[arg-type]
    [problem] = chain_problems(assert_fails(sqlite_backend, "--chain-only"))
    assert (problem["seq"], problem["deal"]) == (5, "openai-2026")
    assert "the stored event was changed" in problem["message"]


# 7: an encrypted ledger


def cipher_env() -> dict[str, str]:
    result = CliRunner().invoke(cli, ["keygen"])
    assert result.exit_code == 0, result.output
    return {"LEDGER_CIPHER_KEY": result.stdout.strip()}


def chain_without_key(backend: Backend) -> tuple[int, list[Any]]:
    """`verify_chain` on an application opened without the cipher key: it reads only stored bytes."""
    from ledger.application import DealLedger
    from ledger.audit import verify_chain
    from ledger.storage import locate

    app = DealLedger(env=locate(backend.db).settings())
    assert "CIPHER_KEY" not in app.env
    try:
        return verify_chain(app.recorder, lambda _: None)
    finally:
        app.close()


def test_a_clean_encrypted_ledger_verifies_with_its_key_and_its_chain_verifies_without(backend: Backend) -> None:
    env = cipher_env()
    tables = appended_ledger(backend, env=env)  # verified clean with the key
    assert b"Reuters" not in tables.stored(1).state  # encrypted at rest

    assert chain_without_key(backend) == (len(APPENDS), [])
    # The CLI also compares the read models with the events, which needs the key: without it
    # the chain is clean, and every other problem says the events cannot be read and why.
    report = assert_fails(backend)
    assert chain_problems(report) == []
    assert {p["check"] for p in report["problems"]} == {"read-models"}
    assert all("LEDGER_CIPHER_KEY" in p["message"] for p in report["problems"])


def test_copying_one_encrypted_state_onto_another_is_caught_at_that_seq_with_or_without_the_key(backend: Backend) -> None:
    env = cipher_env()
    tables = appended_ledger(backend, env=env)
    tables.set_state(4, tables.stored(1).state)  # alpha v1's ciphertext over alpha v2: it still decrypts

    problem = first_chain_problem(backend, env=env)
    assert (problem["seq"], problem["deal"]) == (4, "alpha-2026")
    assert "the stored event was changed" in problem["message"]
    size, problems = chain_without_key(backend)
    assert size == len(APPENDS)
    assert [(p.check, p.seq) for p in problems] == [("chain", 4)]
    problem = first_chain_problem(backend)  # the CLI without the key still names it
    assert problem["seq"] == 4


# 8-10: checkpoints


def test_truncating_the_tail_is_caught_only_by_an_earlier_checkpoint(backend: Backend, tmp_path: Path) -> None:
    tables = example_ledger(backend)
    key, public = signing_key(tmp_path)
    statement = checkpoint(backend, key, tmp_path / "cp.json")
    assert statement["size"] == 8
    assert_clean(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)

    tables.delete_events(7, 8)
    tables.delete_links(7, 8)
    rebuild_read_models(backend)

    assert assert_clean(backend)["size"] == 6  # a shorter chain is still a valid chain
    report = assert_fails(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)
    assert chain_problems(report) == []
    [message] = checkpoint_problems(report)
    assert "covers 8 events but the ledger has 6: truncated" in message


def test_a_chain_rehashed_over_tampered_events_is_caught_only_by_an_earlier_checkpoint(backend: Backend, tmp_path: Path) -> None:
    tables = example_ledger(backend)
    key, public = signing_key(tmp_path)
    checkpoint(backend, key, tmp_path / "cp.json")

    tables.set_state(3, edited(tables.stored(3).state, reported="2026-01-20"))
    tables.rebuild_chain()
    rebuild_read_models(backend)

    assert assert_clean(backend)["size"] == 8  # consistent from scratch
    report = assert_fails(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)
    [message] = checkpoint_problems(report)
    assert "the ledger's history up to event 8 differs from the checkpoint (rewritten)" in message


def test_a_checkpoint_still_holds_after_more_appends(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, public = signing_key(tmp_path)
    checkpoint(backend, key, tmp_path / "cp.json")
    appended_ledger(backend)
    assert assert_clean(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)["size"] == 14


def test_a_checkpoint_with_a_bad_signature_fails_verify(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, public = signing_key(tmp_path)
    statement = checkpoint(backend, key, tmp_path / "cp.json")
    signature = statement["signature"]
    statement["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    (tmp_path / "flipped.json").write_text(json.dumps(statement))

    report = assert_fails(backend, "--checkpoint", str(tmp_path / "flipped.json"), "--public-key", public)
    assert chain_problems(report) == []
    assert checkpoint_problems(report) == [f"{tmp_path / 'flipped.json'}: bad signature"]


def test_a_checkpoint_with_an_edited_size_fails_its_signature(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, public = signing_key(tmp_path)
    statement = checkpoint(backend, key, tmp_path / "cp.json")
    (tmp_path / "smaller.json").write_text(json.dumps(statement | {"size": 7}))

    report = assert_fails(backend, "--checkpoint", str(tmp_path / "smaller.json"), "--public-key", public)
    assert checkpoint_problems(report) == [f"{tmp_path / 'smaller.json'}: bad signature"]


def test_a_checkpoint_signed_by_an_untrusted_key_fails_verify(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, _ = signing_key(tmp_path)
    checkpoint(backend, key, tmp_path / "cp.json")
    other = CliRunner().invoke(cli, ["keygen", "--signing"])  # the default key, under tmp XDG_CONFIG_HOME
    assert other.exit_code == 0, other.output
    assert str(tmp_path / "config" / "deal-ledger" / "signing.key") in other.output
    [trusted] = re.findall(r"public key (\S+)", other.output)

    # Trusted by --public-key, and by default the local signing key's public key.
    for args in (["--public-key", trusted], []):
        report = assert_fails(backend, "--checkpoint", str(tmp_path / "cp.json"), *args)
        assert checkpoint_problems(report) == [f"{tmp_path / 'cp.json'}: signed by a key that is not the trusted signing key"]


def test_a_checkpoint_of_another_ledger_fails_verify(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, public = signing_key(tmp_path)
    with another_ledger(backend, tmp_path) as other:
        example_ledger(other)  # the same events, but another ledger
        statement = checkpoint(other, key, tmp_path / "other.json")
        assert_clean(other, "--checkpoint", str(tmp_path / "other.json"), "--public-key", public)

    report = assert_fails(backend, "--checkpoint", str(tmp_path / "other.json"), "--public-key", public)
    [message] = checkpoint_problems(report)
    assert f"from another ledger ({statement['ledger_id']}, this is " in message


def test_a_checkpoint_larger_than_the_ledger_fails_verify(backend: Backend, tmp_path: Path) -> None:
    tables = example_ledger(backend)
    if backend.name == "sqlite":
        copy_sqlite(backend.db, str(tmp_path / "backup.db"))
    key, public = signing_key(tmp_path)
    appended_ledger(backend)
    checkpoint(backend, key, tmp_path / "cp.json")
    assert_clean(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)

    if backend.name == "sqlite":  # an older backup put back in place of the ledger
        copy_sqlite(str(tmp_path / "backup.db"), backend.db)
    else:  # the same effect: the rows written since are gone
        tail = range(9, 9 + len(APPENDS))
        tables.delete_events(*tail)
        tables.delete_links(*tail)
        rebuild_read_models(backend)

    assert assert_clean(backend)["size"] == 8
    report = assert_fails(backend, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", public)
    [message] = checkpoint_problems(report)
    assert f"covers {8 + len(APPENDS)} events but the ledger has 8: truncated, or an older backup" in message


def test_each_bad_checkpoint_is_reported_on_its_own(backend: Backend, tmp_path: Path) -> None:
    example_ledger(backend)
    key, public = signing_key(tmp_path)
    good = checkpoint(backend, key, tmp_path / "good.json")
    (tmp_path / "garbage.json").write_text("not json")
    (tmp_path / "bad.json").write_text(json.dumps(good | {"head": "00" * 32}))

    args = [f"--checkpoint={tmp_path / name}.json" for name in ("good", "garbage", "bad")]
    report = assert_fails(backend, *args, "--public-key", public)
    assert checkpoint_problems(report) == [
        f"{tmp_path / 'garbage.json'}: not a deal-ledger checkpoint",
        f"{tmp_path / 'bad.json'}: bad signature",
    ]


# A ledger from before the chain


def test_a_ledger_without_a_chain_asks_for_build_chain_and_then_verifies_clean(backend: Backend) -> None:
    tables = example_ledger(backend)
    tables.sql("DELETE FROM {chain}")

    report = assert_fails(backend)
    [problem] = chain_problems(report)
    assert "run `ledger verify --build-chain`" in problem["message"]
    assert report["size"] == 0

    result = run(backend, "verify", "--build-chain", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"size": 8, "ok": True, "problems": []}
    assert "chained 8 events" in result.stderr
    assert_clean(backend)

    again = run(backend, "verify", "--build-chain")  # once only: a second build would hide forged events
    assert again.exit_code == 1
    assert "already has a hash chain" in again.stderr


# 11: no false alarms


@given(st.uuids(), st.integers(0, 2**40), st.text(), st.binary(), st.booleans())
def test_the_hasher_verify_uses_hashes_exactly_what_event_hash_does(
    stream: uuid.UUID, version: int, topic: str, state: bytes, stored_as_hex: bool
) -> None:
    from ledger.stores import ChainedSQLiteApplicationRecorder, EventHasher, event_hash

    hasher = EventHasher(ChainedSQLiteApplicationRecorder.canonical_id if stored_as_hex else str)
    stored_id = stream.hex if stored_as_hex else str(stream)
    for _ in range(2):  # built, then cached
        assert hasher(stored_id, version, topic, state) == event_hash(stream, version, topic, state)


DEALS = ("alpha-2026", "beta-2026", "gamma-2026")
KINDS = ("talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended")

reports = st.builds(
    lambda deal, kind, billions, day, party: {
        "deal": deal,
        "kind": kind,
        "reported": f"2026-01-{day:02d}",
        "source": {"name": "Reuters"},
        "figures": {"size": f"${billions}B"},
        "parties": [{"party": party, "amount": f"${billions // 2 + 1}B"}] if party else [],
    },
    st.sampled_from(DEALS),
    st.sampled_from(KINDS),
    st.integers(1, 999),
    st.integers(1, 28),
    st.sampled_from([None, "nvidia", "softbank"]),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), reports),
        st.tuples(st.just("record"), st.lists(reports, min_size=2, max_size=4)),
        st.tuples(st.just("retract"), st.integers(0, 1000)),
        st.tuples(st.just("verify"), st.none()),
    ),
    min_size=1,
    max_size=10,
)


def test_random_appends_and_retractions_never_raise_a_false_alarm(backend: Backend, tmp_path: Path) -> None:
    from events.intake import read_report
    from ledger.application import DealLedger
    from ledger.errors import DomainError
    from ledger.storage import locate

    @contextmanager
    def fresh_ledger() -> Iterator[Backend]:
        if backend.name == "sqlite":
            yield Backend("sqlite", str(tmp_path / f"{uuid.uuid4().hex}.db"))
        else:
            with fresh_postgres_schema() as ledger:
                yield ledger

    @settings(
        max_examples=25 if backend.name == "sqlite" else 10,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(operations)
    def check(steps: list[tuple[str, Any]]) -> None:
        with fresh_ledger() as ledger:
            app = DealLedger(env=locate(ledger.db).settings())
            live: list[tuple[Any, str]] = []  # reports not retracted yet: (event id, deal)
            try:
                for step, arg in steps:
                    if step == "append":
                        try:
                            outcome = app.append(read_report(arg))
                        except DomainError:  # the same report twice: refused, nothing written
                            continue
                    elif step == "record":
                        outcome = app.record([read_report(line) for line in arg])
                    elif step == "retract" and live:
                        event_id, deal = live.pop(arg % len(live))
                        outcome = app.retract(event_id, deal, "misread the article")
                    else:
                        if step == "verify":
                            assert_clean(ledger)
                        continue
                    live += [(e.event_id, e.deal) for e in outcome.recorded if e.kind != "retraction"]
                size = assert_clean(ledger)["size"]
                assert size == Tables(ledger).size() == len(Tables(ledger).events())
            finally:
                app.close()

    check()


def test_verify_shows_each_step_on_a_terminal_and_prints_only_its_result(sqlite_backend: Backend, tmp_path: Path) -> None:
    """A full verify of a large ledger takes minutes: every step of it shows progress."""
    example_ledger(sqlite_backend)
    result = tmp_path / "result.txt"
    with result.open("wb") as stdout:
        code, shown = with_stderr_on_a_terminal(["--db", sqlite_backend.db, "verify"], stdout)
    assert code == 0, shown
    for step in (b"verifying the hash chain", b"checking the database's integrity", b"checking the read models"):
        assert step in shown, (step, shown)
    assert result.read_text() == "8 events in the chain; all checks passed\n"


def index_out_of_order(db: str) -> None:
    """Adds a table whose index the schema describes in the other order than its b-tree holds:
    SQLite's integrity check then finds every row missing from the index."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE extra (a INTEGER)")
        connection.execute("CREATE INDEX extra_a ON extra (a)")
        connection.executemany("INSERT INTO extra VALUES (?)", [(n,) for n in range(20)])
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX extra_a ON extra (a DESC)' WHERE name = 'extra_a'")


def test_what_sqlites_integrity_check_finds_fails_verify_and_the_chain_still_verifies(sqlite_backend: Backend) -> None:
    example_ledger(sqlite_backend)
    index_out_of_order(sqlite_backend.db)
    report = assert_fails(sqlite_backend)
    problems = [p for p in report["problems"] if p["check"] == "database"]
    assert [p["message"] for p in problems] == [f"integrity_check: row {n} missing from index extra_a" for n in range(1, 6)]
    assert {p["check"] for p in report["problems"]} == {"database"}
    assert_clean(sqlite_backend, "--chain-only")


def test_a_file_sqlite_cannot_read_is_reported_in_one_line(sqlite_backend: Backend) -> None:
    example_ledger(sqlite_backend)
    path = Path(sqlite_backend.db)
    with path.open("r+b") as file:  # the header's page size, nonsense: nothing reads the file now
        file.seek(16)
        file.write(b"\x00\x03")
    result = CliRunner().invoke(cli, ["--db", sqlite_backend.db, "verify"])
    assert result.exit_code == 1
    assert result.output == "Error: database error: file is not a database\n"
