"""Commands that look after a ledger: init, keygen, verify, checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ledger.cli import Session, cli, wrap_errors


@cli.command()
@click.pass_obj
@wrap_errors
def init(session: Session) -> None:
    """Create the ledger's tables now (otherwise done on first use).

    On a shared PostgreSQL server, run it once before a team starts writing;
    it also creates the URL's ?schema=NAME if the database has none of that name.

    \b
    Example:
      ledger --db postgresql://me@dbhost/ledger init
    """
    from projections.catchup import Reader

    if session.location.is_postgres:
        from ledger.pg_stores import create_schema

        settings = session.location.settings()
        if create_schema(settings):
            click.echo(f"created the schema {settings['POSTGRES_SCHEMA']!r}", err=True)
    Reader(session.app)
    click.echo(f"ledger ready at {session.location.display} (id {session.app.recorder.ledger_id()})")


@cli.command()
@click.option("--signing", is_flag=True, help="Make an Ed25519 signing key for checkpoints instead.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the signing key.")
@wrap_errors
def keygen(signing: bool, out: Path | None) -> None:
    """Print a new key for LEDGER_CIPHER_KEY, or make a checkpoint signing key.

    With a cipher key set, event state is encrypted with AES-GCM; deal ids,
    event kinds and record times stay readable. Keep the key safe: without
    it the ledger cannot be read.

    \b
    Example:
      export LEDGER_CIPHER_KEY=$(ledger keygen)
      ledger keygen --signing        # writes ~/.config/deal-ledger/signing.key
    """
    if not signing:
        from eventsourcing.cryptography import AESCipher

        click.echo(AESCipher.create_key(32))
        return
    from ledger.audit import default_key_path, new_signing_key

    path = out or default_key_path()
    public = new_signing_key(path)
    click.echo(f"signing key written to {path}; public key {public}")


@cli.command()
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.File("rb"), help="A checkpoint file the ledger must extend (repeatable).")
@click.option("--public-key", help="The trusted public key (base64) checkpoints must be signed with [default: that of the local signing key].")
@click.option("--build-chain", is_flag=True, help="Build the hash chain of a ledger created before it existed (once).")
@click.option("--chain-only", is_flag=True, help="Check only the hash chain and checkpoints (skip the read-model and database checks).")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 8), default=None,
    help="Processes that refold the deals for the read-model check; default: one per core (up to 4) on a "
    "ledger without a key and of 50,000 events or more, else 1.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_obj
@wrap_errors
def verify(session: Session, checkpoints: tuple[Any, ...], public_key: str | None, build_chain: bool,
           chain_only: bool, jobs: int | None, as_json: bool) -> None:  # fmt: skip
    """Check that nothing recorded has changed; exit 1 when something has.

    Recomputes every link of the hash chain (naming the first bad sequence
    number and its deal), checks the read models against a fresh rebuild and
    the database's own integrity, and that the ledger extends every
    checkpoint given.

    \b
    Example:
      ledger verify
      ledger verify --checkpoint monday.json --json
      ledger verify --jobs 1
    """
    import orjson

    from ledger.audit import Problem, check_chain, check_checkpoint
    from ledger.output import counted_as, progress

    # The chain alone needs only the store: no write side to import.
    recorder = (session.store if chain_only else session.app).recorder
    if build_chain:
        if recorder.head()[0]:
            raise click.ClickException("this ledger already has a hash chain; unchained events in it are suspect")
        click.echo(f"chained {counted_as(recorder.build_chain(), 'event')}", err=True)
    integrity = None if chain_only else _integrity_started(session)
    with progress("verifying the hash chain", recorder.max_notification_id() or None) as advance:
        findings = check_chain(recorder, advance)
    # Deals are named from the read side, caught up only when a problem needs a name or the
    # read models are checked: a clean --chain-only verify reads the chain and nothing else.
    # Without the ledger's key the read side cannot be read; the chain is checked all the same.
    reader, unreadable = _read_side(session) if findings.names_deals or not chain_only else (None, None)
    deal_ids = _deal_ids(reader) if reader else {}
    size, problems = findings.size, findings.problems(deal_ids.get)
    if not chain_only:
        with progress("checking the database's integrity", None):
            problems += [Problem("database", message) for message in integrity()]  # type: ignore[misc]
        if reader is None:
            problems.append(Problem("read-models", f"read models not checked: {unreadable}"))
        else:
            with progress("checking the read models against the events", None, "deals") as advance:
                problems += [
                    Problem("read-models", what if what.startswith("read models not") else f"{what}; run `ledger rebuild`", None, deal or None)
                    for deal, what in reader.mismatches(advance, jobs)
                ]  # fmt: skip
    trusted = public_key or _local_public_key()
    for file in checkpoints:
        try:
            statement = orjson.loads(file.read())
        except orjson.JSONDecodeError:
            statement = None
        why = check_checkpoint(statement, recorder.ledger_id(), recorder, trusted)
        if why:
            problems.append(Problem("checkpoint", f"{file.name}: {why}"))
    if as_json:
        from ledger.output import emit_json

        emit_json({"size": size, "ok": not problems, "problems": [p.to_json() for p in problems]})
    else:
        for problem in problems:
            click.echo(f"{problem.check}: {problem.message}")
        outcome = counted_as(len(problems), "problem") if problems else "all checks passed"
        click.echo(f"{counted_as(size, 'event')} in the chain; {outcome}")
    if problems:
        raise SystemExit(1)


@cli.command()
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="Signing key [default: ~/.config/deal-ledger/signing.key].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the checkpoint to this file.")
@click.pass_obj
@wrap_errors
def checkpoint(session: Session, key: Path | None, out: Path | None) -> None:
    """Print a signed statement of the ledger's size and head hash, to keep elsewhere.

    Publish it or store it on another machine; `ledger verify --checkpoint
    FILE` later proves the ledger still extends it (no truncation, no restored
    older backup, no history rewritten from scratch).

    \b
    Example:
      ledger checkpoint --out checkpoints/$(date +%F).json
    """
    import orjson

    from ledger.audit import default_key_path, load_signing_key, make_checkpoint

    private_key = load_signing_key(key or default_key_path())
    recorder = session.app.recorder
    size, head = recorder.head()
    statement = make_checkpoint(recorder.ledger_id(), size, head, private_key)
    text = orjson.dumps(statement, option=orjson.OPT_INDENT_2).decode()
    if out:
        out.write_text(text + "\n")
    click.echo(text)


def _read_side(session: Session) -> tuple[Any, str | None]:
    """The session's reader, or None and why not where the key given cannot read the ledger."""
    from ledger.mapper import CipherError

    try:
        return session.reader, None
    except CipherError as error:
        return None, str(error)


def _deal_ids(reader: Any) -> dict[Any, str]:
    from ledger.domain import deal_id

    return {deal_id(row["deal"]): row["deal"] for row in reader.deals()}


def _local_public_key() -> str | None:
    from ledger.audit import default_key_path, load_signing_key, public_key_text

    path = default_key_path()
    return public_key_text(load_signing_key(path)) if path.exists() else None


def _integrity_started(session: Session) -> Callable[[], list[str]]:
    """The database's own integrity check (SQLite), begun: call the result for what it reports
    (nothing when fine).

    SQLite checks a ledger file on a thread of its own, on its own connection: the check
    runs in C without holding the GIL, on the core the hash chain's check leaves idle
    (a million events: the two together in ~7 s, against ~5 + ~12 s one after the other).
    """
    if session.location.is_postgres:
        return lambda: []
    import threading

    from ledger.sqlite_reads import worker_file

    settings = session.location.settings()
    if worker_file(settings["SQLITE_DBNAME"]) is None:  # not a plain file: through the library
        answers = _integrity_answers(session.app.recorder.datastore)
        return lambda: answers
    found: list[Any] = []

    def check() -> None:
        try:
            found.append(_integrity_of_file(settings["SQLITE_DBNAME"], float(settings["SQLITE_LOCK_TIMEOUT"])))
        except BaseException as error:  # noqa: BLE001 - raised where the result is asked for
            found.append(error)

    # A daemon: a verify stopped early (Ctrl-C, an error) does not wait for the check to end.
    thread = threading.Thread(target=check, name="integrity-check", daemon=True)
    thread.start()

    def result() -> list[str]:
        thread.join()
        if isinstance(found[0], BaseException):
            raise found[0]
        return found[0]  # type: ignore[no-any-return]

    return result


def _integrity_of_file(path: str, timeout: float) -> list[str]:
    import sqlite3

    connection = sqlite3.connect(path, timeout=timeout)
    try:
        answers = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:  # a file SQLite cannot read at all: reported, like any other problem
        answers = [str(error)]
    finally:
        connection.close()
    return _integrity_problems(answers)


def _integrity_answers(datastore: Any) -> list[str]:
    with datastore.transaction(commit=False) as c:
        c.execute("PRAGMA integrity_check")
        return _integrity_problems([row[0] for row in c.fetchall()])


def _integrity_problems(answers: list[str]) -> list[str]:
    return [] if answers == ["ok"] else [f"integrity_check: {a}" for a in answers[:5]]
