"""A rebuild gives the read models a catch-up gives, whatever state they were in, on both backends."""

from __future__ import annotations

import uuid

import orjson
from click.testing import CliRunner

from ledger.application import DealLedger
from ledger.cli import cli
from ledger.storage import locate
from projections.catchup import Reader
from tests.conftest import EXAMPLE, Backend

TABLES = ("deal_index", "party_index", "event_index")


def contents(reader: Reader) -> dict[str, list]:
    return {table: sorted(map(str, reader.index.select(f"SELECT * FROM {{{table}}}"))) for table in TABLES}


def test_a_rebuild_twice_and_a_catch_up_after_it_equal_a_catch_up_from_nothing(backend: Backend) -> None:
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()
    caught_up = contents(reader)
    reader.rebuild()
    assert contents(reader) == caught_up
    reader.rebuild()
    assert contents(reader) == caught_up
    result = CliRunner().invoke(cli, ["--db", backend.db, "append", "openai-2026", "amount-revised", "--source",
                                      "Reuters", "--reported", "2026-02-01", "--party", "nvidia=$31B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    reader.catch_up()
    after = contents(reader)
    reader.rebuild()
    assert contents(reader) == after
    assert reader.mismatches() == []
    app.close()


def test_a_rebuild_keeps_the_first_deal_of_an_event_id_two_deals_share(backend: Backend) -> None:
    """Ledgers from before ids were checked across deals may have one; a catch-up keeps the first too."""
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    first, other = app.deal_events("openai-2026")[0], app.deal_events("xai-series-e-2026")[0]
    if backend.name == "sqlite":
        table, mark, stream = "stored_events", "?", other.originator_id.hex
    else:
        table, mark, stream = f'"{backend.schema}".{app.recorder.events_table_name}', "%s", other.originator_id
    with app.recorder.datastore.transaction(commit=True) as c:
        c.execute(f"SELECT state FROM {table} WHERE originator_id = {mark} AND originator_version = 1", (stream,))
        row = c.fetchone()
        state = orjson.loads(bytes(row["state"] if isinstance(row, dict) else row[0])) | {"event_id": str(first.event_id)}
        c.execute(f"UPDATE {table} SET state = {mark} WHERE originator_id = {mark} AND originator_version = 1",
                  (orjson.dumps(state), stream))  # fmt: skip
    reader = Reader(app)
    reader.catch_up()  # from nothing: the import did not catch up
    shared = "SELECT * FROM {event_index} WHERE event_id = ?"
    kept = reader.index.select(shared, (str(first.event_id),))
    assert len(kept) == 1 and kept[0]["deal"] in ("openai-2026", "xai-series-e-2026")
    counts = reader.rebuild()
    assert counts["event_index"] == app.recorder.max_notification_id() - 1
    assert reader.index.select(shared, (str(first.event_id),)) == kept
    app.close()


def test_a_rebuild_leaves_the_keys_and_indexes_a_new_ledger_has(backend: Backend) -> None:
    """A rebuild refills the tables without their keys and builds them at the end (PostgreSQL too)."""
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()

    def indexes() -> list[str]:
        if backend.name == "sqlite":
            statement = "SELECT tbl_name || ': ' || name FROM sqlite_master WHERE type = 'index' AND tbl_name IN (?, ?, ?)"
            params: tuple = TABLES
        else:
            statement = "SELECT tablename || ': ' || indexdef FROM pg_indexes WHERE schemaname = ? AND tablename IN (?, ?, ?)"
            params = (backend.schema, *TABLES)
        return sorted(next(iter(row.values())) for row in reader.index.select(statement, params))

    new = indexes()
    reader.rebuild()
    rebuilt = indexes()
    if backend.name == "postgres":
        assert rebuilt == new  # the same keys, by the same names, as CREATE made them
        assert any("party_index_pkey" in i for i in rebuilt) and any("event_index_pkey" in i for i in rebuilt)
    else:  # SQLite rebuilds party_index with indexes by party and by deal, and event_index's key as an index
        assert any("party_index_deal" in i for i in rebuilt) and any("event_index_key" in i for i in rebuilt)
    app.close()


def test_a_catch_up_of_a_mostly_new_ledger_is_done_as_a_rebuild(backend: Backend, monkeypatch) -> None:
    """The first read after a big import rebuilds (on every core) instead of catching up; same
    read models. The size from which it does is lowered to this small ledger's."""
    import projections.parallel

    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    monkeypatch.setattr(projections.parallel, "PARALLEL_FROM_EVENTS", 1)
    assert reader.catch_up() == 8 and reader.behind() == 0
    assert reader.mismatches() == []
    if backend.name == "sqlite":  # a rebuild's party_index is indexed by party; a new ledger's has a key instead
        [[name]] = [list(r.values()) for r in reader.index.select("SELECT name FROM sqlite_master WHERE name = 'party_index_party'")]
        assert name == "party_index_party"
    result = CliRunner().invoke(cli, ["--db", backend.db, "append", "openai-2026", "amount-revised", "--source",
                                      "Reuters", "--reported", "2026-02-01", "--party", "nvidia=$31B"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert reader.catch_up() == 1  # 1 of 9 new: caught up, not rebuilt
    caught_up = contents(reader)
    reader.rebuild()
    assert contents(reader) == caught_up
    app.close()


def test_a_catch_up_whose_new_events_touch_most_deals_is_done_as_a_rebuild(backend: Backend, monkeypatch) -> None:
    """A big import in chunks: few new events relative to the ledger, but in most of its deals."""
    import projections.parallel

    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()  # 8 events: a catch-up
    rebuilt_index = "SELECT name FROM sqlite_master WHERE name = 'party_index_party'"
    if backend.name == "sqlite":
        assert reader.index.select(rebuilt_index) == []
    deals = sorted(r["deal"] for r in reader.index.select("SELECT deal FROM {deal_index}"))
    for deal in deals[: len(deals) // 2]:  # 2 new events of 10, in half of the deals
        result = CliRunner().invoke(cli, ["--db", backend.db, "append", deal, "amount-revised", "--source", "Reuters",
                                          "--reported", "2026-02-01", "--figure", "size=$31B"])  # fmt: skip
        assert result.exit_code == 0, result.output
    monkeypatch.setattr(projections.parallel, "PARALLEL_FROM_EVENTS", 1)
    assert reader.behind() == 2  # appends do not catch up: 2 new events of 10, in 2 of 4 deals
    assert reader.catch_up() == 2 and reader.behind() == 0
    if backend.name == "sqlite":
        assert len(reader.index.select(rebuilt_index)) == 1
    caught_up = contents(reader)
    reader.rebuild()
    assert contents(reader) == caught_up and reader.mismatches() == []
    app.close()


def test_event_rows_added_again_keep_the_row_of_each_id_and_add_only_new_ones(backend: Backend) -> None:
    """A catch-up writes again the event rows of every deal it refolds; on PostgreSQL they go in
    through a scratch table. The rows already there stay, within a batch the first row of an id
    wins, and a second batch in the same transaction adds only its new rows."""
    assert CliRunner().invoke(cli, ["--db", backend.db, "import", str(EXAMPLE)]).exit_code == 0
    app = DealLedger(env=locate(backend.db).settings())
    reader = Reader(app)
    reader.catch_up()
    before = contents(reader)["event_index"]
    [known] = reader.index.select("SELECT * FROM {event_index} ORDER BY event_id LIMIT 1")
    new_ids = [str(uuid.UUID(int=n)) for n in (1, 2, 3)]
    with reader.index.exclusive() as writer:
        writer.write({}, {}, [(known["event_id"], "elsewhere", "talks-ended", 9), (new_ids[0], "first", "talks-opened", 1),
                              (new_ids[0], "second", "talks-opened", 1), (new_ids[1], "d", "amount-revised", 2)])  # fmt: skip
        writer.write({}, {}, [(new_ids[1], "later", "talks-ended", 3), (new_ids[2], "d", "round-closed", 4)])
    rows = {row["event_id"]: row for row in reader.index.select("SELECT * FROM {event_index}")}
    assert rows[known["event_id"]] == known
    assert [(rows[i]["deal"], rows[i]["version"]) for i in new_ids] == [("first", 1), ("d", 2), ("d", 4)]
    assert len(rows) == len(before) + 3
    app.close()
