"""Showing the figures: a table (rich on a terminal, plain columns otherwise) and JSON.

The JSON document is {"meta": {...}, "figures": [{key, title, unit, measured,
baseline, ratio, target: {op, value, goal}, met, status, measured_what,
baseline_what, samples, notes}, ...]}; `measured`, `baseline` and `ratio` are
numbers, or null for a figure that could not be measured.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.figures import Figure

COLUMNS = ("figure", "measured", "baseline (same run)", "ratio", "target", "met")


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:,.0f} {unit}"


def rows(figures: Sequence[Figure]) -> list[tuple[str, ...]]:
    out = []
    for f in figures:
        ratio = "-" if f.ratio is None else f"{f.ratio:.3f}"
        met = {True: "yes", False: "MISSED", None: f.status}[f.met]
        if f.met is not None and f.status != "measured":
            met += f" ({f.status})"
        out.append((f.title, number(f.measured, f.unit), number(f.baseline, f.unit), ratio, f.target_text, met))
    return out


def print_table(figures: Sequence[Figure], meta: dict[str, Any]) -> None:
    """The figures on stdout, then what each measured and any notes."""
    title = (
        f"deal-ledger benchmark: {meta['backend']}, {meta['events']:,} events / {meta['deals']:,} deals"
        f"{' (quick)' if meta['quick'] else ''}"
    )
    if sys.stdout.isatty() and "NO_COLOR" not in os.environ:
        _rich_table(title, figures)
    else:
        _plain_table(title, figures)
    print()
    for f in figures:
        print(f"- {f.title}: {f.measured_what}; baseline: {f.baseline_what}." if f.measured_what else f"- {f.title}:")
        for note in f.notes:
            print(f"    {note}")
    load = [f"{x:.1f}" if x is not None else "?" for x in (meta["load_before"], meta["load_after"])]
    print(f"\ncode: {meta['code']}; backend: {meta['backend_description']}")
    print(
        f"machine: {meta['cpus']} CPUs, load average {load[0]} before, {load[1]} after; "
        f"took {meta['seconds'] / 60:.1f} min"
    )


def _rich_table(title: str, figures: Sequence[Figure]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "figure" else "right")
    for row in rows(figures):
        style = "red" if row[-1].startswith("MISSED") else None
        table.add_row(*row, style=style)
    Console().print(table)


def _plain_table(title: str, figures: Sequence[Figure]) -> None:
    lines = [COLUMNS, *rows(figures)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    print(title)
    for n, line in enumerate(lines):
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_json(path: Path, figures: Sequence[Figure], meta: dict[str, Any]) -> None:
    document = {"meta": meta, "figures": [f.to_json() for f in figures]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
