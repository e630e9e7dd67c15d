"""A ledger written by an earlier version of the code still loads and projects the same.

`tests/fixtures/ledger-v1.db` was written once by the first version; any later
change to the event classes must keep it readable (through upcasters) and
keep every projection in `ledger-v1.golden.json` byte for byte.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from ledger.cli import cli
from tests.fixtures.make_schema_fixture import DB, GOLDEN, projections


def test_the_v1_fixture_gives_the_golden_projections(tmp_path: Path) -> None:
    copy = tmp_path / "ledger.db"
    shutil.copy(DB, copy)
    assert projections(copy) == json.loads(GOLDEN.read_text())


def test_the_v1_fixture_rebuilds_and_verifies(tmp_path: Path) -> None:
    copy = tmp_path / "ledger.db"
    shutil.copy(DB, copy)
    assert CliRunner().invoke(cli, ["--db", str(copy), "rebuild"]).exit_code == 0
    assert projections(copy) == json.loads(GOLDEN.read_text())
    verified = CliRunner().invoke(cli, ["--db", str(copy), "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_v1_fixture_exports_as_its_upcast_events_print(tmp_path: Path) -> None:
    """Export reads light records; events in an older shape come through pydantic and the upcasters."""
    import orjson

    from events.reports import event_json
    from ledger.application import DealLedger
    from ledger.storage import locate

    copy = tmp_path / "ledger.db"
    shutil.copy(DB, copy)
    app = DealLedger(env=locate(str(copy)).settings())
    try:
        expected = b"".join(orjson.dumps(event_json(event)) + b"\n" for event in app.all_events())
    finally:
        app.close()
    exported = CliRunner().invoke(cli, ["--db", str(copy), "export"])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout_bytes == expected and expected.count(b"\n") > 1
