"""Confidential ledgers: event state and read models unreadable without the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import cli
from tests.conftest import Backend

MARKERS = ["Zanzibarquux", "Plumbobbery", "秘密交易甲", "Quoxwidget"]


def invoke(db: Path, *args: str, key: str | None):
    env = {"LEDGER_CIPHER_KEY": key} if key else {"LEDGER_CIPHER_KEY": ""}
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=env)


def new_key() -> str:
    result = CliRunner().invoke(cli, ["keygen"])
    assert result.exit_code == 0
    return result.stdout.strip()


def record_secrets(db: Path, key: str) -> None:
    result = invoke(
        db, "append", "secret-deal", "talks-opened", "--source", MARKERS[0], "--reported", "2026-01-28",
        "--quote", MARKERS[1], "--note", MARKERS[2], "--party", f"{MARKERS[3].lower()}:{MARKERS[3]}=up to $30B",
        "--figure", "size=$123456789", key=key,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert invoke(db, "deals", key=key).exit_code == 0  # builds the read models too


def test_no_marker_word_is_in_the_database_file_or_its_wal(tmp_path: Path) -> None:
    from ledger.application import DealLedger
    from ledger.storage import locate

    db = tmp_path / "secret.db"
    key = new_key()
    # An open connection keeps the WAL file from being checkpointed away while we look.
    holder = DealLedger(env=locate(str(db)).settings() | {"CIPHER_TOPIC": "", "CIPHER_KEY": ""})
    holder.recorder.max_notification_id()
    record_secrets(db, key)
    assert invoke(db, "party", MARKERS[3].lower(), key=key).exit_code == 0
    files = [p for p in tmp_path.iterdir() if p.name.startswith("secret.db")]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        data = path.read_bytes()
        for marker in MARKERS:
            assert marker.encode() not in data, f"{marker} in {path.name}"
            assert marker.lower().encode() not in data, f"{marker.lower()} in {path.name}"
        assert b"123456789" not in data
    holder.close()


def test_the_key_holder_reads_everything_back(tmp_path: Path) -> None:
    db = tmp_path / "secret.db"
    key = new_key()
    record_secrets(db, key)
    history = json.loads(invoke(db, "history", "secret-deal", "--json", key=key).stdout)
    [event] = history["events"]
    assert (event["source"]["name"], event["quote"], event["note"]) == (MARKERS[0], MARKERS[1], MARKERS[2])
    party = json.loads(invoke(db, "party", MARKERS[3].lower(), "--json", key=key).stdout)
    assert party["commitments"][0]["name"] == MARKERS[3]
    deals = json.loads(invoke(db, "deals", "--json", key=key).stdout)
    assert deals[0]["headline"]["size"]["low"] == 123456789


def test_a_wrong_key_fails_with_one_clear_line_and_no_output(tmp_path: Path) -> None:
    db = tmp_path / "secret.db"
    record_secrets(db, new_key())
    for args in (["history", "secret-deal"], ["show", "secret-deal", "--json"], ["export"]):
        result = invoke(db, *args, key=new_key())
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "Error: cannot decrypt the ledger's events: LEDGER_CIPHER_KEY is not the key they were written with"
        ]


def test_no_key_on_an_encrypted_ledger_says_the_key_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "secret.db"
    record_secrets(db, new_key())
    result = invoke(db, "history", "secret-deal", key=None)
    assert result.exit_code == 1
    assert "LEDGER_CIPHER_KEY is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_key_that_is_not_one_is_an_input_error_and_nothing_is_written(tmp_path: Path) -> None:
    """Not base64, or not 16/24/32 bytes: said in one line (it used to be 'unexpected ValueError')."""
    db = tmp_path / "secret.db"
    key = new_key()
    record_secrets(db, key)
    before = invoke(db, "export", key=key).stdout
    for bad in ("wrongkey", "aGVsbG8=", key[:-4]):
        for args in (["deals"], ["append", "secret-deal", "amount-revised", "--source", "A", "--reported",
                                 "2026-01-29", "--figure", "size=$1B"]):  # fmt: skip
            result = invoke(db, *args, key=bad)
            assert result.exit_code == 2, (bad, result.output)
            assert result.stderr == "Error: LEDGER_CIPHER_KEY does not hold a key: give the base64 text `ledger keygen` prints\n"
    assert invoke(db, "export", key=key).stdout == before


def test_an_import_reads_the_ids_of_encrypted_events_the_read_models_have_not_folded(tmp_path: Path) -> None:
    db, key = tmp_path / "l.db", new_key()
    record_secrets(db, key)  # folded by the read models
    line = {"kind": "talks-opened", "reported": "2026-01-29", "source": "S", "figures": {"size": "$1B"}}
    given = "0b5a4c1e-2d7f-4c55-9a51-3f1d2e6a7b80"
    first = tmp_path / "1.jsonl"
    first.write_text(json.dumps({**line, "deal": "a", "event_id": given}) + "\n")
    assert invoke(db, "import", str(first), key=key).exit_code == 0  # not folded: no read since
    again = tmp_path / "2.jsonl"
    again.write_text(json.dumps({**line, "deal": "b", "event_id": given}) + "\n")

    refused = invoke(db, "import", str(again), key=key)

    assert refused.exit_code == 1
    assert f"event id {given} is already used by deal 'a'" in refused.output
    counted = invoke(db, "deals", "--json", key=key)
    assert sorted(row["deal"] for row in json.loads(counted.output)) == ["a", "secret-deal"]


def test_a_deals_own_commands_on_a_keyed_ledger_read_its_events_without_catching_up(tmp_path: Path) -> None:
    """history, show, diff, blame and export of one deal read the deal's events: no read model is
    brought up to date for them (a catch-up after a big import can take minutes)."""
    import sqlite3
    from contextlib import closing

    db, key = tmp_path / "secret.db", new_key()
    record_secrets(db, key)  # its read models are caught up
    appended = invoke(db, "append", "secret-deal", "amount-revised", "--source", "S", "--reported", "2026-01-29",
                      "--figure", "size=$2B", key=key)  # fmt: skip
    assert appended.exit_code == 0, appended.output

    def position() -> int:
        """How far the read models have got (the tracking table is not encrypted)."""
        with closing(sqlite3.connect(db)) as connection:
            return connection.execute("SELECT MAX(notification_id) FROM tracking").fetchone()[0]

    behind = position()
    for args in (["history", "secret-deal", "--json"], ["show", "secret-deal"], ["blame", "secret-deal"],
                 ["export", "secret-deal"]):  # fmt: skip
        result = invoke(db, *args, key=key)
        assert result.exit_code == 0, (args, result.output)
        assert position() == behind, args
    assert len(json.loads(invoke(db, "history", "secret-deal", "--json", key=key).stdout)["events"]) == 2
    assert invoke(db, "deals", key=key).exit_code == 0  # the cross-deal view catches up
    assert position() > behind


# The key is checked against the ledger's first event before anything is read from the read
# models or written: they are sealed with that key, and a new deal holds no event to decrypt.
NO_KEY = "cannot read the stored state of event {first} version 1: it is corrupt (or it is encrypted and LEDGER_CIPHER_KEY is not set)"
WRONG_KEY = "cannot decrypt the ledger's events: LEDGER_CIPHER_KEY is not the key they were written with"
NOT_ENCRYPTED = "the ledger's events are not encrypted: unset LEDGER_CIPHER_KEY to use it"
WRITES = [
    ["append", "new-deal", "talks-opened", "--source", "S", "--reported", "2026-01-29", "--figure", "size=$1B"],
    ["append", "secret-deal", "amount-revised", "--source", "S", "--reported", "2026-01-29", "--figure", "size=$2B"],
]
READS = [["deals"], ["deals", "--json"], ["party", MARKERS[3].lower()], ["party", MARKERS[3].lower(), "--json"]]


def on(backend: Backend, *args: str, key: str | None):
    return CliRunner().invoke(cli, ["--db", backend.db, *args], env={"LEDGER_CIPHER_KEY": key or ""})


@pytest.mark.parametrize("given", ["none", "another"])
def test_reads_of_the_read_models_without_the_ledgers_key_fail_in_one_line(backend: Backend, given: str) -> None:
    """`deals` failed with 'unexpected JSONDecodeError' or 'unexpected ValueError: Invalid cipher
    tag', and `party` said the party had no commitments: its id is kept as a keyed hash."""
    key = new_key()
    record_on(backend, key)
    expected = no_key_message(backend) if given == "none" else WRONG_KEY
    for args in READS:
        result = on(backend, *args, key=None if given == "none" else new_key())
        assert (result.exit_code, result.stdout) == (1, ""), (args, result.output)
        assert result.stderr == f"Error: {expected}\n", args


@pytest.mark.parametrize("given", ["none", "another"])
def test_writes_without_the_ledgers_key_are_refused_and_nothing_is_written(
    backend: Backend, given: str, tmp_path: Path
) -> None:
    """A report of a new deal was written sealed with the other key, or plain in the encrypted
    ledger: the ledger then held events no single key could read."""
    key = new_key()
    record_on(backend, key)
    lines = tmp_path / "new.jsonl"
    lines.write_text(json.dumps({"deal": "other-deal", "kind": "talks-opened", "reported": "2026-01-29",
                                 "source": "S", "figures": {"size": "$1B"}}) + "\n")  # fmt: skip
    expected = no_key_message(backend) if given == "none" else WRONG_KEY
    before = backend.count_events()
    for args in [*WRITES, ["import", str(lines)]]:
        result = on(backend, *args, key=None if given == "none" else new_key())
        assert (result.exit_code, result.stdout) == (1, ""), (args, result.output)
        assert result.stderr == f"Error: {expected}\n", args
    assert backend.count_events() == before
    assert on(backend, "verify", key=key).exit_code == 0


def test_a_key_for_a_ledger_without_one_is_refused_and_nothing_is_written(backend: Backend) -> None:
    assert on(backend, *WRITES[1], key=None).exit_code == 0  # secret-deal, plain
    before = backend.count_events()
    for args in [*WRITES, ["deals"], ["party", "s"]]:
        result = on(backend, *args, key=new_key())
        assert (result.exit_code, result.stderr) == (1, f"Error: {NOT_ENCRYPTED}\n"), (args, result.output)
    assert backend.count_events() == before


def test_the_key_holder_still_writes_and_reads_and_an_empty_ledger_takes_any_key(backend: Backend) -> None:
    key = new_key()
    assert on(backend, "deals", key=key).exit_code == 0  # nothing recorded yet: nothing to check against
    record_on(backend, key)
    for args in WRITES:
        assert on(backend, *args, key=key).exit_code == 0, args
    assert sorted(row["deal"] for row in json.loads(on(backend, "deals", "--json", key=key).stdout)) == [
        "new-deal", "secret-deal",
    ]  # fmt: skip


def record_on(backend: Backend, key: str) -> None:
    result = on(
        backend, "append", "secret-deal", "talks-opened", "--source", MARKERS[0], "--reported", "2026-01-28",
        "--party", f"{MARKERS[3].lower()}:{MARKERS[3]}=up to $30B", "--figure", "size=$123456789", key=key,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert on(backend, "deals", key=key).exit_code == 0  # the read models are caught up, and sealed


def no_key_message(backend: Backend) -> str:
    """What reading the ledger's first event without the key says."""
    result = on(backend, "history", "secret-deal", key=None)
    assert result.exit_code == 1
    first = result.stderr.split("event ", 1)[1].split(" ", 1)[0]
    return NO_KEY.format(first=first)


@pytest.mark.parametrize("given", ["none", "another"])
def test_verify_without_the_key_checks_the_chain_and_says_the_read_models_were_not_checked(
    backend: Backend, given: str
) -> None:
    """The chain covers the stored bytes, sealed or not: it needs no key. The read models do."""
    key = new_key()
    record_on(backend, key)
    expected = no_key_message(backend) if given == "none" else WRONG_KEY
    result = on(backend, "verify", "--json", key=None if given == "none" else new_key())
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["size"] == 1
    assert [(p["check"], p["message"]) for p in report["problems"]] == [("read-models", f"read models not checked: {expected}")]
    assert on(backend, "verify", key=key).exit_code == 0
