"""One place that decides how results reach the screen: tables, plain text or JSON.

Tables are drawn with rich on a terminal; when output is piped or `NO_COLOR`
is set they become plain aligned columns with no colour and no box lines.
Heavy imports (rich) happen only when a table is actually drawn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click


def is_plain() -> bool:
    """True when output goes to a pipe or file, or the user asked for no colour."""
    return "NO_COLOR" in os.environ or not sys.stdout.isatty()


def emit_json(data: Any) -> None:
    """Pretty JSON on stdout, non-ASCII kept readable (UTF-8 bytes, written as they are)."""
    import orjson

    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))


def emit_json_line(data: Any) -> None:
    """One compact JSON object per line (JSON Lines)."""
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data) + b"\n")


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    """A table for people: rich on a terminal, aligned plain columns otherwise."""
    rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if is_plain():
        _plain_table(columns, rows, title)
        return
    from rich.console import Console
    from rich.table import Table

    view = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*row)
    Console().print(view)


def _plain_table(columns: Sequence[str], rows: list[list[str]], title: str | None) -> None:
    """Columns padded to their widest cell (in terminal cells: 英 takes two), written at once:
    a party in a large ledger has tens of thousands of rows."""
    from rich.cells import cell_len

    lines = [list(columns), *rows]
    sizes = [[cell_len(cell) for cell in line] for line in lines]
    widths = [max(column) for column in zip(*sizes, strict=True)]
    text = [
        "  ".join(cell + " " * (width - size) for cell, size, width in zip(line, line_sizes, widths, strict=True)).rstrip()
        for line, line_sizes in zip(lines, sizes, strict=True)
    ]
    click.echo("\n".join([title, *text] if title else text))


def counted_as(count: int, noun: str) -> str:
    """'1 report', '2 reports'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def heading(text: str) -> None:
    """A section heading, bold on a terminal."""
    click.echo(text if is_plain() else click.style(text, bold=True))


def warn(text: str) -> None:
    """A one-line warning on stderr."""
    click.echo(f"warning: {text}", err=True)


@contextmanager
def progress(label: str, total: int | None, unit: str | None = None, after: float = 0.0) -> Iterator[Any]:
    """A progress bar on a terminal's stderr; a no-op when not on a terminal.

    With no `total` the bar pulses; with a `unit` it also counts ("4,500 deals").
    With `after`, the bar appears at the first advance made `after` seconds or
    more from the start: work that may be quick or slow shows nothing (and loads
    nothing) when quick.
    """
    if not sys.stderr.isatty() or "CI" in os.environ:
        yield lambda advance=1: None
        return
    if not after:
        with _bar(label, total, unit) as advance:
            yield advance
        return
    import time
    from contextlib import ExitStack

    deadline = time.monotonic() + after
    done = 0
    shown: Any = None
    with ExitStack() as stack:

        def advance(n: int = 1) -> None:
            nonlocal done, shown
            done += n
            if shown is None and time.monotonic() >= deadline:
                shown = stack.enter_context(_bar(label, total, unit))
                shown(done)
            elif shown is not None:
                shown(n)

        yield advance


@contextmanager
def _bar(label: str, total: int | None, unit: str | None) -> Iterator[Any]:
    from rich.console import Console
    from rich.progress import Progress, TextColumn

    columns = [*Progress.get_default_columns(), TextColumn(f"{{task.completed:,.0f}} {unit}")] if unit else []
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda advance=1: bar.advance(task, advance)
