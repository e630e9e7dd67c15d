"""Commands that read: history, show, diff, blame, party, deals, rebuild, demo.

Each one catches the materialised read models up first, then folds the
events of the deal it shows (that read touches only that deal's events).
"""

from __future__ import annotations

from typing import Any

import click

from ledger.cli import InputError, Session, check_slug_argument, cli, reads, wrap_errors

def clock_options(function: Any) -> Any:
    """--as-of and --known-at, the two clocks every read command understands."""
    function = click.option(
        "--known-at", metavar="TIMESTAMP",
        help="What the ledger contained at that moment (record time; a date means its end, UTC).",
    )(function)  # fmt: skip
    return click.option(
        "--as-of", metavar="DATE", help="What had been reported by that day (reported date)."
    )(function)


def json_option(function: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(function)


def events_on_clocks(session: Session, deal: str, as_of: str | None, known_at: str | None) -> list[Any]:
    """The deal's events as they stood on the clocks given."""
    day = moment = None
    if as_of or known_at:
        from ledger.render import parse_day, parse_moment

        day = parse_day(as_of, "--as-of") if as_of else None
        moment = parse_moment(known_at, "--known-at") if known_at else None
    check_slug_argument(deal)
    events = session.deal_events(deal)
    if day is None and moment is None:
        return events
    from projections.clocks import visible

    return visible(events, as_of=day, known_at=moment)


def _check_named(events: list[Any], deal: str, figure: str | None, party: str | None) -> None:
    """Refuses a --figure or --party that no report of the deal ever names (on any clock)."""
    from ledger.errors import DomainError
    from projections.records import reports_of

    reports = reports_of(events)
    if figure is not None:
        known = sorted({name for report in reports for name in report.figures})
        if figure not in known:
            raise DomainError(f"no report of {deal!r} gives a figure {figure!r} (its figures: {', '.join(known) or 'none'})")
    if party is not None:
        known = sorted({p.id for report in reports for c in report.commitments for p in c.parties})
        if party not in known:
            raise DomainError(f"no report of {deal!r} names a party {party!r} (its parties: {', '.join(known) or 'none'})")


def _require_ledger(session: Session) -> None:
    if not session.exists():
        from ledger.errors import DealNotFoundError

        raise DealNotFoundError(f"the ledger at {session.location.display} is empty")


@cli.command()
@click.argument("deal")
@click.option("--figure", help="Only this deal-level figure (size, valuation, …).")
@click.option("--party", help="Only this party's commitments (alone or in a group).")
@clock_options
@json_option
@click.pass_obj
@wrap_errors
@reads
def history(session: Session, deal: str, figure: str | None, party: str | None, as_of: str | None,
            known_at: str | None, as_json: bool) -> None:  # fmt: skip
    """Every report of DEAL, oldest reported first, and how each figure moved.

    Retracted reports stay visible, marked retracted.

    \b
    Example:
      ledger history openai-2026
      ledger history openai-2026 --party amazon --as-of 2026-01-28 --json
    """
    from projections.records import in_reported_order, retractions
    from projections.render import history_json
    from projections.timeline import timelines

    _require_ledger(session)
    events = events_on_clocks(session, deal, as_of, known_at)
    lines = [
        line
        for line in timelines(events)
        if (figure is None or line.figure == figure)
        and (party is None or (line.party is not None and party in line.party.split("+")))
    ]
    if (figure or party) and not lines:
        _check_named(session.deal_events(deal), deal, figure, party)
    if figure or party:
        shown = {point.event_id for line in lines for point in line.points}
        events = [e for e in events if e.event_id in shown]
    if as_json:
        from ledger.output import emit_json

        emit_json(history_json(deal, events, lines))
        return
    from ledger.output import counted_as
    from ledger.render import events_table, timeline_tables

    retracted = set(retractions(events))
    events_table(in_reported_order(events), retracted, title=f"{deal}: {counted_as(len(events), 'event')}")
    timeline_tables(lines)


@cli.command()
@click.argument("deal")
@clock_options
@json_option
@click.pass_obj
@wrap_errors
@reads
def show(session: Session, deal: str, as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """The current state of DEAL: status, every figure and who set it, warnings.

    Current value: the latest *reported* non-retracted value; reports of the
    same day are ordered by when the ledger recorded them.

    \b
    Example:
      ledger show openai-2026
      ledger show openai-2026 --as-of 2026-01-27 --json
    """
    from projections.render import state_json
    from projections.state import deal_state

    _require_ledger(session)
    state = deal_state(events_on_clocks(session, deal, as_of, known_at), deal=deal)
    if as_json:
        from ledger.output import emit_json

        emit_json(state_json(state))
        return
    from ledger.render import state_tables

    state_tables(state)


@cli.command()
@click.argument("deal")
@click.option("--from", "from_day", required=True, metavar="DATE", help="The earlier day (reported date).")
@click.option("--to", "to_day", required=True, metavar="DATE", help="The later day (reported date).")
@json_option
@click.pass_obj
@wrap_errors
@reads
def diff(session: Session, deal: str, from_day: str, to_day: str, as_json: bool) -> None:
    """What changed in DEAL's current values between two days.

    \b
    Example:
      ledger diff openai-2026 --from 2026-01-27 --to 2026-01-29
    """
    from ledger.render import amount, change_text, parse_day
    from projections.compare import diff as compare_days
    from projections.render import diff_json

    _require_ledger(session)
    check_slug_argument(deal)
    start, end = parse_day(from_day, "--from"), parse_day(to_day, "--to")
    if start > end:
        raise InputError(f"--from {start} is after --to {end}; give the earlier day first")
    result = compare_days(session.deal_events(deal), start, end)
    if as_json:
        from ledger.output import emit_json

        emit_json(diff_json(deal, start, end, result))
        return
    from ledger.output import table

    rows = [
        (
            entry.label,
            amount(entry.before) if entry.before_event else "—",
            amount(entry.after) if entry.after_event else "—",
            change_text(entry.change),
        )
        for entry in result.entries
    ]
    click.echo(f"{deal}: status {result.status_before or '-'} → {result.status_after or '-'}")
    table(("figure", f"on {start}", f"on {end}", "change"), rows)


@cli.command()
@click.argument("deal")
@json_option
@click.pass_obj
@wrap_errors
@reads
def blame(session: Session, deal: str, as_json: bool) -> None:
    """Each current figure of DEAL, the report that set it, and the ones it superseded.

    Current value: the latest *reported* non-retracted value; reports of the
    same day are ordered by when the ledger recorded them.

    \b
    Example:
      ledger blame openai-2026
    """
    from projections.compare import blame as blame_deal
    from projections.render import blame_json

    _require_ledger(session)
    check_slug_argument(deal)
    result = blame_deal(session.deal_events(deal))
    if as_json:
        from ledger.output import emit_json

        emit_json(blame_json(deal, result))
        return
    from ledger.output import table
    from ledger.render import amount, short

    rows = []
    for entry in result:
        rows.append((entry.label, amount(entry.current.value), entry.current.source, short(entry.current.event_id), "current"))
        for old in entry.superseded:
            status = "retracted" if old.retracted else "superseded"
            rows.append(("", amount(old.value), old.source, short(old.event_id), f"{status} ({old.reported})"))
    table(("figure", "value", "source", "id", "standing"), rows, title=f"{deal}: who set each figure")


@cli.command()
@click.argument("party")
@json_option
@click.pass_obj
@wrap_errors
@reads
def party(session: Session, party: str, as_json: bool) -> None:
    """PARTY's commitments across deals, with their history.

    \b
    Example:
      ledger party nvidia
    """
    import orjson

    _require_ledger(session)
    check_slug_argument(party)
    rows = session.reader.party(party)
    for row in rows:
        row["amount"] = orjson.loads(row["amount"]) if row["amount"] else None
        row["retracted"] = bool(row["retracted"])
        row["current"] = bool(row.pop("is_current"))
    if as_json:
        from ledger.output import emit_json

        emit_json({"party": party, "commitments": rows})
        return
    from events.stored import figure_from_json
    from ledger.output import counted_as, table
    from ledger.render import amount, short

    if not rows:
        click.echo(f"no commitments recorded for {party!r}")
        return
    table(
        ("deal", "with", "reported", "amount", "source", "id", "standing"),
        [
            (
                r["deal"],
                r["commitment"] if "+" in r["commitment"] else "",
                r["reported"],
                amount(figure_from_json(r["amount"]) if r["amount"] else None),
                r["source"],
                short(r["event_id"]),
                "retracted" if r["retracted"] else "current" if r["current"] else "superseded",
            )
            for r in rows
        ],
        title=f"{party}: {counted_as(len({r['deal'] for r in rows}), 'deal')}",
    )


@cli.command()
@click.option("--status", type=click.Choice(["talks", "term-sheet", "closed", "ended"]), help="Only deals with this status.")
@json_option
@click.pass_obj
@wrap_errors
@reads
def deals(session: Session, status: str | None, as_json: bool) -> None:
    """Every deal with its status, last report and headline figures.

    \b
    Example:
      ledger deals --status talks
    """
    import orjson

    rows = session.reader.deals(status) if session.exists() else []
    for row in rows:
        row["headline"] = orjson.loads(row["headline"])
    if as_json:
        from ledger.output import emit_json

        emit_json(rows)
        return
    from events.stored import figure_from_json
    from ledger.output import table
    from ledger.render import amount

    def figure(row: dict, name: str) -> str:
        value = row["headline"].get(name)
        return amount(figure_from_json(value)) if value else ""

    table(
        ("deal", "status", "first reported", "last reported", "reports", "size", "valuation", "warnings"),
        [
            (r["deal"], r["status"], r["first_reported"], r["last_reported"], r["reports"],
             figure(r, "size"), figure(r, "valuation"), r["warnings"] or "")
            for r in rows
        ],  # fmt: skip
    )


@cli.command()
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 8), default=None,
    help="Processes that fold the deals; default: one per core (up to 4) on a ledger "
    "without a key and of 50,000 events or more, else 1.",
)  # fmt: skip
@json_option
@click.pass_obj
@wrap_errors
def rebuild(session: Session, jobs: int | None, as_json: bool) -> None:
    """Drop the materialised read models and rebuild them from every event.

    \b
    Example:
      ledger rebuild
      ledger rebuild --jobs 1 --json
    """
    from ledger.output import progress
    from projections.catchup import Reader

    reader = Reader(session.app)
    with progress("rebuilding read models", None, "deals") as advance:
        counts = reader.rebuild(advance, jobs)
    if as_json:
        from ledger.output import emit_json

        emit_json(counts)
    else:
        click.echo(", ".join(f"{table}: {n} rows" for table, n in counts.items()))


@cli.command()
@click.pass_context
@wrap_errors
def demo(ctx: click.Context) -> None:
    """Load the reference article's reports into a temporary ledger and show them.

    Your own ledger is not touched.

    \b
    Example:
      ledger demo
    """
    import tempfile
    from pathlib import Path

    from ledger.importer import read_lines

    data = Path(__file__).parent / "data" / "openai-xai-2026-01.jsonl"
    with tempfile.TemporaryDirectory(prefix="deal-ledger-demo-") as folder:
        session = Session(str(Path(folder) / "demo.db"))
        with data.open("rb") as file:
            drafts, labels = read_lines(file, recorded_by="demo")
        outcome = session.app.record(drafts, labels=labels)
        click.echo(f"Loaded {len(outcome.recorded)} reports from {data.name} into a temporary ledger.\n")
        ctx.obj = session
        ctx.invoke(deals, status=None, as_json=False)
        click.echo()
        ctx.invoke(history, deal="openai-2026", figure=None, party=None, as_of=None, known_at=None, as_json=False)
        session.app.close()
