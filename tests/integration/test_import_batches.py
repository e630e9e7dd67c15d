"""An import decides its lines a batch at a time and keeps what the rules need in memory, then on disk.

These imports use batches of two lines, so every rule meets its evidence in an
earlier batch: the same report again, a retraction of an earlier report, an
event id already used by another deal, a line already recorded. Each runs
twice: with the evidence kept in memory (a small import) and written to the
scratch file after every batch (as a large one does once it holds
`IN_MEMORY` events' keys).
"""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from events.intake import read_report
from ledger.errors import DomainError, EventNotFoundError


@pytest.fixture(params=["in memory", "on disk"], autouse=True)
def keys_in_memory(request, monkeypatch):
    """Where the import keeps its keys: `ImportKeys` writes them past `IN_MEMORY` events."""
    from ledger import import_keys

    if request.param == "on disk":
        monkeypatch.setattr(import_keys, "IN_MEMORY", 0)
    return request.param


def open_ledger(backend):
    from ledger.application import DealLedger
    from ledger.storage import locate

    return DealLedger(env=locate(backend.db).settings())


def report(deal: str, amount: str, **extra):
    line = {
        "deal": deal,
        "kind": "talks-opened",
        "reported": "2026-01-28",
        "source": {"name": "The Information"},
        "figures": {"size": amount},
        **extra,
    }
    return line


def run_import(app, lines, batch=2):
    drafts = [(f"line {n}", read_report(line)) for n, line in enumerate(lines, start=1)]
    return app.import_stream(drafts, batch=batch)


def test_a_report_repeated_in_a_later_batch_is_skipped(backend):
    app = open_ledger(backend)
    lines = [report("a", "$1B"), report("b", "$2B"), report("a", "$3B"), report("a", "$1B"), report("b", "$2B")]

    done = run_import(app, lines)

    assert (done.recorded, done.skipped) == (3, 2)
    assert backend.count_events() == 3


def test_a_retraction_finds_its_report_in_an_earlier_batch(backend):
    app = open_ledger(backend)
    first = str(uuid4())
    lines = [
        report("a", "$1B", event_id=first),
        report("b", "$2B"),
        report("c", "$3B"),
        {"deal": "a", "kind": "retraction", "retracts": first, "reason": "wrong", "reported": "2026-01-29"},
    ]

    done = run_import(app, lines)

    assert done.recorded == 4
    assert [event.kind for event in app.deal_events("a")] == ["talks-opened", "retraction"]


def test_retracting_a_report_twice_across_batches_is_refused_and_nothing_is_written(backend):
    app = open_ledger(backend)
    first = str(uuid4())
    retraction = {"deal": "a", "kind": "retraction", "retracts": first, "reason": "wrong", "reported": "2026-01-29"}
    lines = [report("a", "$1B", event_id=first), retraction, report("b", "$2B"), retraction]

    with pytest.raises(DomainError, match=r"line 4: .* already retracted"):
        run_import(app, lines)
    assert backend.count_events() == 0


def test_a_retraction_of_another_deals_report_is_refused(backend):
    app = open_ledger(backend)
    first = str(uuid4())
    lines = [
        report("a", "$1B", event_id=first),
        report("b", "$2B"),
        report("b", "$3B"),
        {"deal": "b", "kind": "retraction", "retracts": first, "reason": "wrong", "reported": "2026-01-29"},
    ]

    with pytest.raises(EventNotFoundError, match=r"line 4: deal 'b' has no event"):
        run_import(app, lines)
    assert backend.count_events() == 0


def test_an_event_id_used_by_another_deal_in_an_earlier_batch_is_refused(backend):
    app = open_ledger(backend)
    shared = str(uuid4())
    lines = [report("a", "$1B", event_id=shared), report("b", "$2B"), report("b", "$5B", event_id=shared)]

    with pytest.raises(DomainError, match=rf"line 3: event id {shared} is already used by deal 'a'"):
        run_import(app, lines)
    assert backend.count_events() == 0


def test_an_event_id_used_twice_in_one_batch_by_two_deals_is_refused(backend):
    app = open_ledger(backend)
    shared = str(uuid4())
    lines = [report("a", "$1B", event_id=shared), report("b", "$2B", event_id=shared)]

    with pytest.raises(DomainError, match="already used by deal 'a'"):
        run_import(app, lines, batch=10)
    assert backend.count_events() == 0


def test_importing_the_same_lines_again_records_nothing_new(backend):
    app = open_ledger(backend)
    lines = [report(deal, f"${n}B", event_id=str(uuid4())) for n, deal in enumerate("abcabcab", start=1)]
    assert run_import(app, lines).recorded == 8

    again = run_import(open_ledger(backend), lines, batch=3)

    assert (again.recorded, again.skipped) == (0, 8)
    assert backend.count_events() == 8


def test_a_report_dated_after_the_close_in_an_earlier_batch_is_flagged(backend):
    app = open_ledger(backend)
    closed = {**report("a", "$1B"), "kind": "round-closed", "reported": "2026-01-10"}
    lines = [closed, report("b", "$2B"), report("a", "$3B")]

    done = run_import(app, lines)

    assert done.flags == [("line 3", "reported after the deal closed on 2026-01-10")]


def test_the_import_leaves_no_scratch_file_behind(tmp_path):
    import os
    import subprocess
    import sys

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(__import__("json").dumps(report(d, "$1B")) for d in ("a", "b")) + "\n")
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "--db", str(tmp_path / "l.db"), "import", str(lines)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "imported 2 events" in done.stdout
    assert list(scratch.iterdir()) == []


def test_the_store_tells_which_deals_have_events_in_one_query_per_500(backend):
    from ledger.domain import deal_id

    app = open_ledger(backend)
    run_import(app, [report(f"deal-{n}", "$1B") for n in range(3)])
    asked = [deal_id(f"deal-{n}") for n in range(1200)]  # three batches of ids
    assert app.recorder.streams_present(asked) == {deal_id(f"deal-{n}") for n in range(3)}
    assert app.recorder.streams_present([]) == set()


def test_an_import_into_deals_old_and_new_continues_the_old_ones(backend):
    """Deals found to have no events are not loaded; those with events go on from their last version."""
    app = open_ledger(backend)
    run_import(app, [report("old", "$1B"), report("old", "$2B")])
    first = str(uuid4())
    done = run_import(app, [report("new", "$1B", event_id=first), report("old", "$3B"), report("old", "$1B"),
                            {"deal": "new", "kind": "retraction", "retracts": first, "reason": "wrong",
                             "reported": "2026-01-29"}], batch=3)  # fmt: skip
    assert (done.recorded, done.skipped) == (3, 1)
    assert [e.originator_version for e in app.deal_events("old")] == [1, 2, 3]
    assert [e.originator_version for e in app.deal_events("new")] == [1, 2]


def test_an_event_id_of_an_earlier_import_is_refused_to_another_deal(backend):
    """Without read models to ask, the import reads the ledger's own events for the ids lines give."""
    app = open_ledger(backend)
    shared = str(uuid4())
    run_import(app, [report("a", "$1B", event_id=shared), report("a", "$2B")])

    with pytest.raises(DomainError, match=rf"line 2: event id {shared} is already used by deal 'a'"):
        run_import(open_ledger(backend), [report("b", "$2B"), report("b", "$5B", event_id=shared)])
    assert backend.count_events() == 2


def read_model_position(backend) -> int:
    from projections.catchup import Reader

    return Reader(open_ledger(backend)).position()


def test_a_chunked_import_does_not_wait_for_the_read_models_and_still_checks_ids(backend, tmp_path):
    """Each chunk of a bulk load used to catch the read models up with the chunks before it (a
    refold of every deal they touched); now it reads the ids of the events they have not folded."""
    from click.testing import CliRunner

    from ledger.cli import cli

    def chunk(name, lines):
        path = tmp_path / name
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        return CliRunner().invoke(cli, ["--db", backend.db, "import", str(path)])

    shared, other = str(uuid4()), str(uuid4())
    first = chunk("1.jsonl", [report("a", "$1B", event_id=shared), report("b", "$2B", event_id=other)])
    assert first.exit_code == 0, first.output
    assert read_model_position(backend) == 0
    assert backend.count_events() == 2

    second = chunk("2.jsonl", [report("a", "$1B", event_id=shared), report("c", "$3B", event_id=str(uuid4()))])
    assert second.exit_code == 0, second.output
    assert "imported 1 event; 1 already recorded and skipped" in second.output
    assert read_model_position(backend) == 0  # still not caught up: no refold before the chunk

    third = chunk("3.jsonl", [report("d", "$4B"), report("e", "$5B", event_id=other)])
    assert third.exit_code == 1
    assert f"line 2: event id {other} is already used by deal 'b'" in third.output
    assert backend.count_events() == 3

    shown = CliRunner().invoke(cli, ["--db", backend.db, "deals", "--json"])  # a read catches up
    assert shown.exit_code == 0, shown.output
    assert sorted(deal["deal"] for deal in json.loads(shown.output)) == ["a", "b", "c"]
    assert read_model_position(backend) == 3


def ids_or_error(read, position: int):
    """What `read(position)` gives: its (event id, deal, kind) list, or the error it raises, in words."""
    try:
        return list(read(position))
    except Exception as error:  # noqa: BLE001 - compared, whatever it is
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("damage", ["none", "not JSON", "no event id", "no deal", "an older ledger"])
def test_sql_reads_the_ids_of_unfolded_events_as_decoding_each_state_does(sqlite_backend, tmp_path, damage):
    """A plain SQLite ledger's ids are read by SQL (`ids_after`); whatever a state holds, the
    import sees what decoding every state in Python gives."""
    import shutil
    import sqlite3
    from pathlib import Path

    if damage == "an older ledger":
        shutil.copy(Path(__file__).parents[1] / "fixtures" / "ledger-v1.db", sqlite_backend.db)
    else:
        run_import(open_ledger(sqlite_backend), [report(f"d{n % 3}", f"${n + 1}B") for n in range(7)])
    edit = {
        "not JSON": "UPDATE stored_events SET state = CAST('not json' AS BLOB) WHERE rowid = 4",
        "no event id": "UPDATE stored_events SET state = CAST(json_remove(CAST(state AS TEXT), '$.event_id') AS BLOB) WHERE rowid = 4",
        "no deal": "UPDATE stored_events SET state = CAST(json_remove(CAST(state AS TEXT), '$.deal') AS BLOB) WHERE rowid = 4",
    }.get(damage)
    if edit:
        with sqlite3.connect(sqlite_backend.db) as connection:
            connection.execute(edit)
    app = open_ledger(sqlite_backend)
    assert app.mapper.plain_json and hasattr(app.recorder, "ids_after")
    for position in (0, 3, 4, 6):
        by_sql, decoded = ids_or_error(app._event_ids_after, position), ids_or_error(app._ids_read, position)
        assert by_sql == decoded
    assert damage != "none" or len(ids_or_error(app._event_ids_after, 0)) == 7
