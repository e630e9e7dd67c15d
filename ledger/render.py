"""Human-readable views of events, states and timelines (the `--json` forms live in projections)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from events.amounts import FigureMethods, format_figure
from events.stored import RETRACTION
from ledger.output import counted_as, heading, table

if TYPE_CHECKING:
    from events.reports import DomainEvent


def parse_day(value: str, option: str) -> date:
    """A YYYY-MM-DD option value, or a one-line usage error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-01-28", param_hint=option) from None


def parse_moment(value: str, option: str) -> datetime:
    """An ISO timestamp (UTC when no zone is given); a bare date means the end of that day."""
    try:
        try:  # a day, as 2026-01-28 or 20260128
            moment = datetime.combine(date.fromisoformat(value), datetime.max.time())
        except ValueError:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a time like 2026-01-29T09:00:00+00:00", param_hint=option
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def amount(figure: FigureMethods | None) -> str:
    """'≤ $30B', or 'no amount given' for a party named without one."""
    return format_figure(figure) if figure else "no amount given"


def short(event_id: Any) -> str:
    """The first 8 characters of an event id: enough to name it to `retract`."""
    return str(event_id)[:8]


def summary(event: DomainEvent) -> str:
    """What an event reported, on one line (a validated event or its stored record)."""
    if event.kind == RETRACTION:
        return f"retracts {short(event.retracted)}: {event.reason}"  # type: ignore[attr-defined]
    parts = [f"{name} {amount(figure)}" for name, figure in event.figures.items()]
    parts += [f"{c.display} {amount(c.amount)}" for c in event.commitments]
    return "; ".join(parts)


def print_event(event: DomainEvent) -> None:
    """One event as a two-column table (used by `append --dry-run`)."""
    rows: list[tuple[str, str]] = [("deal", event.deal), ("kind", event.kind)]
    if event.kind != RETRACTION:
        rows += [("reported", event.reported.isoformat()), ("source", event.source.name)]
        rows += [(f"figure {name}", f"{amount(f)}  ({f.qualifier.value}, {f.text or ''})") for name, f in event.figures.items()]
        rows += [(f"party {c.key}", amount(c.amount)) for c in event.commitments]
        rows += [(label, value) for label, value in (("quote", event.quote), ("note", event.note)) if value]
    table(("field", "value"), rows)


def events_table(events: list[DomainEvent], retracted: set[Any], title: str) -> None:
    """Events in reported order with their source, what they said and their id."""
    rows = []
    for event in events:
        source = event.source.name if getattr(event, "source", None) else ""
        mark = " (retracted)" if event.event_id in retracted else ""
        rows.append((_day(event), event.kind + mark, source, summary(event), short(event.event_id)))
    table(("reported", "kind", "source", "reported figures", "id"), rows, title=title)


def _day(event: DomainEvent) -> str:
    reported = getattr(event, "reported", None)
    return reported.isoformat() if reported else ""


def change_text(change: Any) -> str:
    """'+$5B (+16.7%) raised', or the direction alone."""
    if change is None:
        return "first report"
    parts = []
    if change.absolute is not None and change.absolute != 0:
        sign = "+" if change.absolute > 0 else "-"
        parts.append(f"{sign}{_compact(abs(change.absolute))}")
    if change.percent is not None and change.percent != 0:
        parts.append(f"({'+' if change.percent > 0 else ''}{change.percent}%)")
    parts.append(change.direction)
    return " ".join(parts)


def _compact(value: Any) -> str:
    from events.amounts import _scaled

    return _scaled(value)


def timeline_tables(lines: list[Any]) -> None:
    """One table per figure or party: each point, its change and its source."""
    for line in lines:
        title = f"{'figure' if line.figure else 'party'} {line.label}"
        rows = [
            (
                p.reported.isoformat(),
                amount(p.value) + (" (retracted)" if p.retracted else ""),
                change_text(p.change),
                p.source,
                p.recorded.strftime("%Y-%m-%d %H:%M"),
                short(p.event_id),
            )
            for p in line.points
        ]
        click.echo()
        table(("reported", "value", "change", "source", "recorded", "id"), rows, title=title)


def state_tables(state: Any) -> None:
    """A deal's current state: status, dates, figures with their reports, warnings."""
    heading(f"{state.deal}: {state.status or 'no standing report'}")
    counted = f"{counted_as(state.reports, 'report')} ({state.retracted} retracted)"
    if state.first_reported is None:
        click.echo(counted)
    else:
        click.echo(
            f"reported {state.first_reported} → {state.last_reported}; {counted} "
            f"from {counted_as(state.sources, 'source')}"
        )
    rows = [
        (f"figure {name}", amount(c.value), c.reported.isoformat(), c.source, short(c.event_id))
        for name, c in state.figures.items()
    ] + [
        (f"party {c.label}", amount(c.value), c.reported.isoformat(), c.source, short(c.event_id))
        for c in state.commitments.values()
    ]
    if rows:
        click.echo()
        table(("current value of", "value", "reported", "source", "set by"), rows)
    for warning in state.warnings:
        click.echo(f"warning: {warning.message}")
