"""The benchmark's data on disk: synthetic JSON Lines files and cached ledgers.

- `dataset(spec)` writes the ledger's import lines once to
  `<cache>/lines-<events>-<deals>-s<seed>-g<generator>.jsonl` and reuses it.
- `raw_rows(path)` is what the raw baseline stores: each line's bytes with its
  deal as stream, its place in the deal as version, its kind as topic.
- `Ledgers.ready(spec)` gives the location of a ledger holding exactly that
  dataset, built once through `ledger import` and cached (see `backends`).
  A build imports the lines in chunks (`chunk` lines per `ledger import`,
  each chunk one transaction), prints its progress and rate, and resumes
  where it stopped if interrupted. A build stopped by its time budget raises
  `BuildStopped`, which says how far it got and how long the rest would take
  at the rate measured (an extrapolation, and labelled so).
- `Ledgers.adopt` keeps a ledger that a measurement has just imported whole
  (the peak-memory figure imports the big dataset in one go) instead of
  building it a second time.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.backends import Row
from bench.proc import BenchError, ledger_command, run, timeout_for
from bench.synth import Spec, lines

IMPORTED = re.compile(rb"imported (\d+) events?; (\d+) already recorded")


def say(message: str) -> None:
    """Progress for the person waiting, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def dataset(spec: Spec, cache: Path) -> Path:
    """The import lines of `spec` as a JSON Lines file, generated once."""
    path = cache / f"lines-{spec.name}.jsonl"
    if path.exists():
        return path
    say(f"generating {spec.events:,} reports across {spec.deals:,} deals -> {path.name}")
    part = path.with_suffix(".part")
    start = time.perf_counter()
    with part.open("wb") as out:
        for n, line in enumerate(lines(spec), start=1):
            out.write(line.data)
            if n % 100_000 == 0:
                say(f"  generated {n:,}/{spec.events:,} lines")
    os.replace(part, path)
    say(f"  generated in {time.perf_counter() - start:.0f} s ({path.stat().st_size / 2**20:.0f} MiB)")
    return path


def raw_rows(path: Path) -> list[Row]:
    """(stream, version, topic, state) of every line: the line's own bytes as state."""
    versions: dict[str, int] = {}
    rows: list[Row] = []
    with path.open("rb") as file:
        for raw in file:
            data = raw.rstrip(b"\n")
            line = orjson.loads(data)
            deal = line["deal"]
            versions[deal] = versions.get(deal, 0) + 1
            rows.append((deal, versions[deal], line["kind"], data))
    return rows


def check_import(expected: int) -> Callable[[Any], None]:
    """A check that an import run recorded all `expected` lines, none skipped."""

    def check(done: Any) -> None:
        match = IMPORTED.search(done.stdout)
        if not match or int(match[1]) != expected or int(match[2]) != 0:
            raise BenchError(f"import did not record {expected} new events: {done.stdout[-200:]!r}")

    return check


class BuildStopped(BenchError):
    """A cached ledger's build ran out of its time budget; it resumes on the next run."""

    def __init__(self, spec: Spec, done: int, seconds: float):
        self.spec, self.done, self.seconds = spec, done, seconds
        self.rate = done / seconds if seconds else 0.0
        rest = (spec.events - done) / self.rate if self.rate else float("inf")
        super().__init__(
            f"building the {spec.events:,}-event ledger stopped at its time budget: {done:,} events in "
            f"{seconds / 60:.1f} min ({self.rate:.0f} events/s); EXTRAPOLATED at that rate, the whole "
            f"build takes {(seconds + rest) / 60:.0f} min ({rest / 60:.0f} min more)"
        )


@dataclass
class Ledgers:
    """Cached ledgers of one backend."""

    backend: Any
    cache: Path
    chunk: int
    budget_seconds: float

    def key(self, spec: Spec) -> str:
        return spec.name

    def is_ready(self, spec: Spec) -> bool:
        state = self.backend.state(self.key(spec))
        return bool(state and state.get("complete"))

    def ready(self, spec: Spec) -> str:
        """The location of the complete cached ledger of `spec`, building it if needed."""
        key = self.key(spec)
        location = self.backend.location(key)
        state = self.backend.state(key)
        if state and state.get("complete"):
            return location
        if state is None:
            self.backend.drop(key)
            state = {"lines": 0, "complete": False, "seconds": 0.0, "how": f"chunks of {self.chunk:,} lines"}
        self.backend.create(key)
        done = self.backend.count_events(location)
        if done != state["lines"]:
            say(f"  the cached ledger holds {done:,} events; its note said {state['lines']:,}: resuming at {done:,}")
            state["lines"] = done
        path = dataset(spec, self.cache)
        name = f"{self.backend.name}-{key}"
        say(f"building {name} through `ledger import`, {self.chunk:,} lines per import"
            + (f" (resuming at {done:,})" if done else ""))  # fmt: skip
        spent = float(state["seconds"])
        with path.open("rb") as source:
            for _ in range(done):
                source.readline()
            while done < spec.events:
                if spent > self.budget_seconds:
                    self.backend.set_state(key, state)
                    raise BuildStopped(spec, done, spent)
                part = self.backend.scratch / f"chunk-{os.getpid()}.jsonl"
                size = 0
                with part.open("wb") as out:
                    while size < self.chunk and (raw := source.readline()):
                        out.write(raw)
                        size += 1
                start = time.perf_counter()
                try:
                    done_run = run(ledger_command("--db", location, "import", str(part)), timeout=timeout_for(size))
                finally:
                    part.unlink(missing_ok=True)
                check_import(size)(done_run)
                seconds = time.perf_counter() - start
                spent += seconds
                done += size
                state.update(lines=done, seconds=spent)
                self.backend.set_state(key, state)
                rate = done / spent
                say(
                    f"  {name}: {done:,}/{spec.events:,} events; this chunk {size / seconds:.0f} events/s, "
                    f"overall {rate:.0f} events/s, about {(spec.events - done) / rate / 60:.0f} min to go"
                )
        state["complete"] = True
        self.backend.set_state(key, state)
        say(f"  built {name} in {spent / 60:.1f} min")
        return location

    def adopt(self, spec: Spec, location: str, seconds: float) -> None:
        """Keeps a scratch ledger that holds the whole dataset of `spec` as its cached ledger."""
        key = self.key(spec)
        self.backend.adopt(location, key)
        self.backend.set_state(
            key, {"lines": spec.events, "complete": True, "seconds": seconds, "how": "one import"}
        )
        say(f"  kept that ledger as the cached {self.backend.name}-{key}")
