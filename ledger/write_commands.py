"""Commands that record: append, import, retract; and export, their inverse."""

from __future__ import annotations

import re
import sys
from contextlib import nullcontext
from typing import Any

import click

from ledger.cli import InputError, Session, check_slug_argument, cli, wrap_errors

#: Warnings an import prints before summing up the rest.
SHOWN_FLAGS = 5
KINDS = ("talks-opened", "amount-revised", "term-sheet-reviewed", "round-closed", "talks-ended")
NAMED = re.compile(r"(?P<id>[a-z0-9-]+):(?P<name>.+)")


class Kind(click.Choice):
    """The report kinds. A missing KIND is one line, like every other error: click adds
    "Choose from:" and one line per kind, but the usage error already names them all."""

    def get_missing_message(self, param: Any, ctx: Any = None) -> str:
        return ""


def slugify(name: str) -> str:
    """'Valor Equity Partners' -> 'valor-equity-partners'; '' when nothing is left."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")


def party_entry(option: str) -> dict[str, Any]:
    """`--party` as an import commitment: 'nvidia=up to $30B', 'nvidia:英伟达=…', 'a+b=…'."""
    who, _, amount = option.partition("=")
    ids, names = [], []
    for member in who.split("+"):
        member = member.strip()
        named = NAMED.fullmatch(member)
        party_id, name = (named["id"], named["name"].strip()) if named else (slugify(member), member)
        if not party_id:
            raise InputError(
                f"--party {option!r}: cannot make an id from {member!r}; write it as id:name, "
                "e.g. 'nvidia:英伟达=高达300亿美元'"
            )
        ids.append(party_id)
        names.append(name)
    return {"party": ids, "name": names, "amount": amount.strip() or None}


def figure_pairs(options: tuple[str, ...]) -> dict[str, str]:
    """`--figure size='up to $100B'` options as a name -> phrase mapping."""
    figures: dict[str, str] = {}
    for option in options:
        name, sep, amount = option.partition("=")
        if not sep or not amount.strip():
            raise InputError(f"--figure {option!r}: write NAME=AMOUNT, e.g. 'size=up to $100B'")
        if name.strip() in figures:
            raise InputError(f"--figure {name.strip()!r} is given twice")
        figures[name.strip()] = amount.strip()
    return figures


def source_options(function: Any) -> Any:
    """The options that describe a source, shared by append and retract."""
    for option in reversed(
        [
            click.option("--url", help="Where the source published it."),
            click.option("--title", help="The source's headline."),
            click.option("--language", help="Language of the source, e.g. en, zh."),
            click.option(
                "--source-kind",
                type=click.Choice(["press", "company", "filing"]),
                help="Press report (default), company statement or regulatory filing.",
            ),
        ]
    ):
        function = option(function)
    return function


def source_json(name: str, url: str | None, title: str | None, language: str | None, kind: str | None) -> dict:
    source = {"name": name, "url": url, "title": title, "language": language}
    return {key: value for key, value in source.items() if value is not None} | (
        {"kind": kind} if kind else {}
    )


def recorder_name() -> str | None:
    """Who records: `LEDGER_USER`, else the login name."""
    import getpass
    import os

    try:
        return os.environ.get("LEDGER_USER") or getpass.getuser()
    except (KeyError, OSError):
        return None


@cli.command()
@click.argument("deal")
@click.argument("kind", type=Kind(KINDS))
@click.option("--source", "source_name", required=True, help="Who published the report.")
@click.option("--reported", required=True, help="When the source published it: YYYY-MM-DD or an ISO time.")
@source_options
@click.option("--quote", help="The source's words, verbatim, in the original language.")
@click.option("--note", help="Your remark, e.g. why a date was assumed.")
@click.option("--figure", "figures", multiple=True, metavar="NAME=AMOUNT", help="A deal figure (size, target, valuation, pre-money, …).")
@click.option("--party", "parties", multiple=True, metavar="PARTY=AMOUNT", help="A party's commitment; 'a+b=AMOUNT' for several together, 'id:Name=…' to keep a display name.")
@click.option("--currency", help="Currency for amounts written without one, e.g. USD.")
@click.option("--dry-run", is_flag=True, help="Show the event that would be appended; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the event as JSON.")
@click.pass_obj
@wrap_errors
def append(session: Session, deal: str, kind: str, source_name: str, reported: str, url: str | None,
           title: str | None, language: str | None, source_kind: str | None, quote: str | None,
           note: str | None, figures: tuple[str, ...], parties: tuple[str, ...], currency: str | None,
           dry_run: bool, as_json: bool) -> None:  # fmt: skip
    """Append one report about DEAL; prints the new event's id.

    KIND is what the source reported: talks-opened, amount-revised,
    term-sheet-reviewed, round-closed or talks-ended. AMOUNT is a phrase as
    reported, in English or Chinese: "up to $30B", "至多300亿美元", "$10-20bn".

    \b
    Example:
      ledger append openai-2026 talks-opened --source "The Information" \\
          --reported 2026-01-28 --figure "size=up to $100B" \\
          --party "nvidia=up to $30B" --party "microsoft:微软=不超100亿美元"
    """
    from events.intake import read_report
    from events.reports import event_json

    line = {
        "deal": deal,
        "kind": kind,
        "reported": reported,
        "source": source_json(source_name, url, title, language, source_kind),
        "quote": quote,
        "note": note,
        "figures": figure_pairs(figures),
        "parties": [party_entry(p) for p in parties],
        "currency": currency,
    }
    draft = read_report(line, recorded_by=recorder_name(), keep_ids=False)
    if dry_run:
        from ledger.application import preview

        outcome = preview(session.app if session.exists() else None, [draft])
    else:
        outcome = session.app.append(draft)
    for _, flag in outcome.flags:
        click.echo(f"warning: {flag}", err=True)
    event = outcome.recorded[0]
    if as_json:
        from ledger.output import emit_json

        emit_json(event_json(event))
    elif dry_run:
        from ledger.render import print_event

        print_event(event)
    else:
        click.echo(str(event.event_id))
    if dry_run:
        click.echo("dry run: nothing was written", err=True)


@cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--currency", help="Currency for amounts written without one, e.g. USD.")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 8), default=None,
    help="Processes that read the lines; default: one per core (up to 4) for a file of 1 MB or more, else 1.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
@wrap_errors
def import_(session: Session, file: Any, currency: str | None, jobs: int | None, as_json: bool) -> None:
    """Import reports from a JSON Lines FILE ('-' for stdin); all land or none.

    One report per line, e.g.
    {"deal": "openai-2026", "kind": "talks-opened", "reported": "2026-01-28",
    "source": {"name": "The Information"}, "figures": {"size": "up to $100B"},
    "parties": {"nvidia": "up to $30B"}}.
    `ledger export` output imports as it is, keeping event ids and record
    times. A report already in the ledger is skipped and counted, so running
    the same import twice adds nothing.

    \b
    Example:
      ledger import examples/openai-xai-2026-01.jsonl
      ledger export | ledger --db postgresql://me@db.example/ledger import -
    """
    from datetime import datetime, timezone

    from ledger.output import progress
    from ledger.preparing import Readers, default_jobs

    size = _size_of(file)
    if jobs is None:
        jobs = default_jobs(size)
    now = datetime.now(timezone.utc)  # every report of the import is recorded at its start
    # Before the ledger is opened: the workers are forked, and start reading while it opens.
    with Readers(file, jobs=jobs, now=now, currency=currency, recorded_by=recorder_name()) as readers:
        if not session.exists():  # a new ledger file is made only for a file whose first lines read
            import ledger.application  # noqa: F401 - loaded while the workers read, as when the ledger exists

            readers.check_first()
        app = session.app
        # Which deal has each event id a line gives: none in an empty ledger, without asking; else the
        # read models as far as they have got (not caught up first), the import reading the rest.
        owners_of, known_to = None, 0
        if app.recorder.max_notification_id():
            from projections.catchup import Reader

            read_models = Reader(app)
            owners_of, known_to = read_models.deals_of_events, read_models.position()
        with progress("importing reports", size) as advance:
            outcome = app.import_stream(readers.lines(advance), owners_of=owners_of, known_to=known_to, now=now)
    for label, flag in outcome.flags[:SHOWN_FLAGS]:
        click.echo(f"warning: {label}: {flag}", err=True)
    if len(outcome.flags) > SHOWN_FLAGS:
        click.echo(f"warning: {len(outcome.flags) - SHOWN_FLAGS} more reports are dated after their deal closed", err=True)
    if as_json:
        from ledger.output import emit_json

        emit_json(
            {
                "recorded": outcome.recorded,
                "skipped": outcome.skipped,
                "flags": [{"line": label, "flag": flag} for label, flag in outcome.flags],
            }
        )
    else:
        from ledger.output import counted_as

        click.echo(f"imported {counted_as(outcome.recorded, 'event')}; {outcome.skipped} already recorded and skipped")


#: Events exported between two moves of the progress bar.
EXPORT_TICK = 1000


def _size_of(file: Any) -> int | None:
    """The byte size of a regular file, for a progress bar; None for a pipe."""
    import os
    import stat

    try:
        info = os.fstat(file.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


@cli.command()
@click.argument("deal", required=False)
@click.option("--since", help="Only events recorded on or after this day (YYYY-MM-DD, UTC).")
@click.pass_obj
@wrap_errors
def export(session: Session, deal: str | None, since: str | None) -> None:
    """Print events as JSON Lines, in record order; `ledger import` reads them back.

    \b
    Example:
      ledger export > backup.jsonl
      ledger export openai-2026 --since 2026-01-01
    """
    from ledger.output import emit_json_line, progress
    from ledger.render import parse_day

    day = parse_day(since, "--since") if since else None
    if deal is not None:
        check_slug_argument(deal)
    if not session.exists():
        return
    from ledger.reading import all_records
    from projections.render import event_json

    # Light records, as history prints them: what was stored, read back without a second
    # validation (a model that has grown stricter since must not make a report unexportable).
    records = session.deal_events(deal) if deal else all_records(session.store)
    # A bar when the whole ledger goes to a file or a pipe (on the terminal the lines are the progress).
    shown = deal is None and not sys.stdout.isatty()
    bar = progress("exporting events", session.store.recorder.max_notification_id(), "events") if shown else None
    with bar or nullcontext(None) as advance:
        for count, record in enumerate(records, start=1):
            if day is None or record.timestamp.date() >= day:
                emit_json_line(event_json(record))
            if advance and count % EXPORT_TICK == 0:
                advance(EXPORT_TICK)
    sys.stdout.flush()


@cli.command()
@click.argument("event_id")
@click.option("--reason", required=True, help="Why the report is withdrawn.")
@click.option("--source", "source_name", help="Who published the correction, if anyone.")
@source_options
@click.option("--reported", help="When the correction was published (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the retraction as JSON.")
@click.pass_obj
@wrap_errors
def retract(session: Session, event_id: str, reason: str, source_name: str | None, url: str | None,
            title: str | None, language: str | None, source_kind: str | None, reported: str | None,
            as_json: bool) -> None:  # fmt: skip
    """Retract the report EVENT_ID (the full id or its first 8+ characters).

    The report stays in the ledger, marked retracted, and drops out of
    current values. Prints the retraction's event id.

    \b
    Example:
      ledger retract 3f2a9c1e --reason "The Information corrected the figure" \\
          --source "The Information" --reported 2026-01-30
    """
    from events.intake import read_retraction
    from events.reports import event_json

    if not session.exists():
        raise click.ClickException(f"no event {event_id!r}: the ledger is empty")
    full_id, deal = session.reader.find_event(event_id)
    line: dict[str, Any] = {"deal": deal, "retracts": full_id, "reason": reason}
    if reported:
        line["reported"] = reported
    else:
        from datetime import datetime, timezone

        line["reported"] = datetime.now(timezone.utc).date().isoformat()
    if source_name:
        line["source"] = source_json(source_name, url, title, language, source_kind)
    line["recorded_by"] = recorder_name()
    draft = read_retraction(line, keep_ids=False)
    event = session.app.record([draft]).recorded[0]
    if as_json:
        from ledger.output import emit_json

        emit_json(event_json(event))
    else:
        click.echo(str(event.event_id))
