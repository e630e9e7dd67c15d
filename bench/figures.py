"""Each figure of the benchmark: what ours measures, its baseline from the same run, the target.

Every figure is a ratio of two numbers measured in this run, on this
machine, a few seconds apart: what absolute speed the machine has, and what
else it is doing, cancel out (as far as they can). Ours and the baseline are
run alternately (ours, baseline, ours, baseline, …) so a burst of load on the
machine hits both, and each is the median of its runs.

| key               | ours                                    | baseline                                  | target |
| import            | events/s of `ledger import` (N reports) | raw executemany of the same bytes          | ≥ 0.10 (goal ≥ 0.25) |
| history           | `ledger history DEAL --json`, big ledger| `ledger --version`                          | ≤ 1.5 |
| history-scaling   | the same history on the big ledger      | on a ledger 100x smaller, same deal        | ≤ 1.3 |
| rebuild           | events/s of `ledger rebuild`            | read every stored event, decode its JSON   | ≥ 0.20 |
| cli-version       | `ledger --version`                      | `python -c "import click"`                 | ≤ 1.5 |
| cli-help          | `ledger --help`                         | `python -c "import click"`                 | ≤ 1.5 |
| memory            | peak RSS importing the big dataset      | peak RSS importing a tenth of it           | ≤ 1.5 |
| postgres-import   | `ledger import` on PostgreSQL           | raw executemany on the same server         | ≥ 0.10 |

The big ledger is `--events` reports across `--deals` deals (1,000,000 and
10,000 by default); the small one keeps the events per deal and is 100 times
smaller (10 times with `--quick`), so the history shown is the very same deal
with the very same reports on both.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.ledgers import BuildStopped, Ledgers, check_import, dataset, raw_rows, say
from bench.proc import BenchError, Timing, ledger_command, peak_memory, run, timeout_for
from bench.synth import Spec, deal_slug

#: key -> (title, unit, how the ratio must compare, target, goal)
SPECS: dict[str, tuple[str, str, str, float, float | None]] = {
    "cli-version": ("`ledger --version` wall time", "s", "<=", 1.5, None),
    "cli-help": ("`ledger --help` wall time", "s", "<=", 1.5, None),
    "import": ("import throughput", "events/s", ">=", 0.10, 0.25),
    "postgres-import": ("PostgreSQL import throughput", "events/s", ">=", 0.10, None),
    "memory": ("peak memory of one import", "MiB", "<=", 1.5, None),
    "rebuild": ("rebuild of all read models", "events/s", ">=", 0.20, None),
    "history": ("`ledger history DEAL --json` wall time", "s", "<=", 1.5, None),
    "history-scaling": ("history: big ledger vs small ledger", "s", "<=", 1.3, None),
    "verify": ("`ledger verify --chain-only` (events/s)", "events/s", ">=", 1 / 3, None),
}
ORDER = tuple(SPECS)


@dataclass
class Figure:
    """One row of the report: ours, the baseline, their ratio and the target for it."""

    key: str
    title: str
    unit: str
    op: str  # ">=" or "<=": how the ratio must compare with the target
    target: float
    goal: float | None = None
    measured: float | None = None
    baseline: float | None = None
    measured_what: str = ""
    baseline_what: str = ""
    status: str = "measured"  # measured | extrapolated | not measured | failed
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, key: str, **fields: Any) -> Figure:
        """The figure `key` with its title, unit and target (see `SPECS`)."""
        title, unit, op, target, goal = SPECS[key]
        return cls(key, fields.pop("title", title), unit, op, target, goal, **fields)

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if ratio is None:
            return None
        return ratio >= self.target if self.op == ">=" else ratio <= self.target

    @property
    def target_text(self) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        goal = f"; goal {sign} {self.goal:g}" if self.goal is not None else ""
        return f"{sign} {self.target:g}{goal}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "measured": self.measured,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": {"op": self.op, "value": self.target, "goal": self.goal},
            "met": self.met,
            "status": self.status,
            "measured_what": self.measured_what,
            "baseline_what": self.baseline_what,
            "samples": self.samples,
            "notes": self.notes,
        }


@dataclass
class Settings:
    """The sizes and run counts of one benchmark run."""

    events: int
    deals: int
    seed: int
    quick: bool
    import_events: int
    runs: dict[str, int]
    #: The small ledger of the history-scaling figure is this many times smaller.
    scale: int
    memory_budget_mib: float
    build_minutes: float

    @property
    def big(self) -> Spec:
        return Spec(self.events, self.deals, self.seed)

    def smaller(self, divisor: int) -> Spec:
        """The ledger `divisor` times smaller with as many events per deal."""
        return Spec(max(1, self.events // divisor), max(1, self.deals // divisor), self.seed)

    @property
    def import_spec(self) -> Spec:
        deals = max(1, round(self.import_events * self.deals / self.events))
        return Spec(self.import_events, min(deals, self.import_events), self.seed)


@dataclass
class Bench:
    """Everything the measurements share: settings, backends, cached ledgers."""

    settings: Settings
    backend: Any
    ledgers: Ledgers
    postgres: Any | None  # the PostgreSQL backend, for the postgres-import figure
    cache: Path
    done: dict[str, Figure] = field(default_factory=dict)

    def runs(self, kind: str) -> int:
        return self.settings.runs[kind]


def alternate(
    ours: Callable[[int], float], baseline: Callable[[int], float], runs: int
) -> tuple[Timing, Timing]:
    """Runs ours and the baseline alternately; each function returns one run's seconds."""
    mine, theirs = Timing(), Timing()
    for n in range(runs):
        theirs.samples.append(baseline(n))
        mine.samples.append(ours(n))
    return mine, theirs


def _timed_command(
    command: Sequence[str], check: Callable[[Any], None] | None = None, timeout: float = 300.0
) -> Callable[[int], float]:
    """A function that runs the command once (a fresh process), checks it, and returns its wall time."""

    def timed(_: int) -> float:
        start = time.perf_counter()
        done = run(command, timeout=timeout)
        seconds = time.perf_counter() - start
        if check:
            check(done)
        return seconds

    return timed


IMPORT_CLICK = [sys.executable, "-c", "import click"]


def cli_start(bench: Bench, option: str) -> Figure:
    """`ledger --version` or `--help` against importing click alone, both cold."""
    figure = Figure.of(
        f"cli-{option.strip('-')}",
        measured_what=f"`ledger {option}`, a fresh process each run",
        baseline_what='`python -c "import click"`, a fresh process each run',
    )
    _warm_up(ledger_command(option))
    _warm_up(IMPORT_CLICK)
    ours, base = alternate(
        _timed_command(ledger_command(option)), _timed_command(IMPORT_CLICK), bench.runs("cli")
    )
    return _fill(figure, ours, base)


def import_throughput(bench: Bench, backend: Any, key: str = "import") -> Figure:
    """`ledger import` of the import dataset into a fresh ledger against the raw insert."""
    spec = bench.settings.import_spec
    path = dataset(spec, bench.cache)
    rows = raw_rows(path)
    figure = Figure.of(
        key,
        title=f"{SPECS[key][0]} ({backend.name})",
        measured_what=f"`ledger import` of {spec.events:,} reports ({spec.deals:,} deals) into a fresh ledger, "
        "whole process",
        baseline_what="raw executemany of the same line bytes into (stream, version, topic, state) with a "
        "unique (stream, version) index, one transaction, same engine",
    )

    def ours(_: int) -> float:
        with backend.fresh() as location:
            command = ledger_command("--db", location, "import", str(path))
            return _timed_command(command, check_import(spec.events), timeout_for(spec.events))(0)

    ours_t, base_t = alternate(ours, lambda _: backend.raw_insert(rows), bench.runs("import"))
    figure.samples = {"ours_seconds": ours_t.samples, "baseline_seconds": base_t.samples}
    figure.measured = spec.events / ours_t.median
    figure.baseline = spec.events / base_t.median
    figure.notes.append(f"backend: {backend.describe()}")
    return figure


def memory(bench: Bench) -> Figure:
    """Peak RSS of one `ledger import` of the big dataset against one of a tenth of it."""
    settings = bench.settings
    big, small, middle = settings.big, settings.smaller(10), settings.smaller(4)
    backend = bench.backend
    figure = Figure.of(
        "memory",
        measured_what=f"max RSS of `ledger import` of {big.events:,} reports into a fresh ledger",
        baseline_what=f"max RSS of `ledger import` of {small.events:,} reports into a fresh ledger",
    )
    if backend.name == "postgres":
        figure.notes.append("the client process only; the server's memory is not counted")
    points: list[tuple[int, float, float]] = []
    for spec in (small, middle):
        peak = _import_peak(bench, spec, keep=False)
        points.append((spec.events, peak.mib, peak.seconds))
        figure.samples[f"peak_mib_{spec.events}"] = [peak.mib]
        figure.samples[f"seconds_{spec.events}"] = [peak.seconds]
    (n1, m1, s1), (n2, m2, s2) = points
    slope = (m2 - m1) / (n2 - n1) if n2 != n1 else 0.0
    predicted_mib = m2 + slope * (big.events - n2)
    predicted_seconds = s2 / n2 * big.events
    figure.baseline = m1
    figure.notes.append(
        f"at {n1:,} / {n2:,} events: {m1:.0f} / {m2:.0f} MiB; a straight line through them gives "
        f"{predicted_mib:.0f} MiB at {big.events:,} (about {predicted_seconds / 60:.0f} min)"
    )
    if predicted_mib > settings.memory_budget_mib or predicted_seconds > settings.build_minutes * 60:
        figure.measured = predicted_mib
        figure.status = "extrapolated"
        figure.notes.append(
            f"EXTRAPOLATED: one import of {big.events:,} was not run, as it would need about "
            f"{predicted_mib / 1024:.1f} GiB (budget {settings.memory_budget_mib / 1024:.1f} GiB) and "
            f"{predicted_seconds / 60:.0f} min (budget {settings.build_minutes:.0f} min)"
        )
        return figure
    peak = _import_peak(bench, big, keep=not bench.ledgers.is_ready(big))
    figure.measured = peak.mib
    figure.samples[f"peak_mib_{big.events}"] = [peak.mib]
    figure.samples[f"seconds_{big.events}"] = [peak.seconds]
    return figure


def _import_peak(bench: Bench, spec: Spec, keep: bool) -> Any:
    path = dataset(spec, bench.cache)
    say(f"measuring the peak memory of importing {spec.events:,} reports")
    with bench.backend.fresh() as location:
        command = ledger_command("--db", location, "import", str(path))
        peak = peak_memory(command, bench.backend.scratch, timeout_for(spec.events))
        check_import(spec.events)(_Output(peak.stdout.encode()))
        say(f"  {peak.mib:.0f} MiB, {peak.seconds:.1f} s ({spec.events / peak.seconds:.0f} events/s)")
        if keep:
            bench.ledgers.adopt(spec, location, peak.seconds)
    return peak


@dataclass
class _Output:
    stdout: bytes


def rebuild(bench: Bench) -> Figure:
    """`ledger rebuild` of the big ledger against reading and decoding every stored event."""
    big = bench.settings.big
    figure = Figure.of(
        "rebuild",
        measured_what=f"`ledger rebuild` of the {big.events:,}-event ledger, whole process",
        baseline_what="reading every stored event in record order and decoding its JSON (orjson), in-process",
    )
    location = _big_ledger(bench, figure)
    if location is None:
        return figure

    def check(done: Any) -> None:
        counts = orjson.loads(done.stdout)
        if counts.get("event_index") != big.events:
            raise BenchError(f"rebuild indexed {counts.get('event_index')} events, not {big.events}")

    def baseline(_: int) -> float:
        events, seconds = bench.backend.read_all(location)
        if events != big.events:
            raise BenchError(f"read {events} events, not {big.events}")
        return seconds

    say(f"timing `ledger rebuild` of {big.events:,} events ({bench.runs('rebuild')} runs)")
    ours, base = alternate(
        _timed_command(ledger_command("--db", location, "rebuild", "--json"), check, timeout_for(big.events)),
        baseline,
        bench.runs("rebuild"),
    )
    return _fill(figure, ours, base, events=big.events)


def verify(bench: Bench) -> Figure:
    """`ledger verify --chain-only` of the big ledger against hashing its stored bytes in a plain loop."""
    big = bench.settings.big
    figure = Figure.of(
        "verify",
        measured_what=f"`ledger verify --chain-only` of the {big.events:,}-event ledger, whole process",
        baseline_what="reading every stored event's bytes and SHA-256 hashing them in a plain loop, in-process",
    )
    location = _big_ledger(bench, figure)
    if location is None:
        return figure

    def check(done: Any) -> None:
        if b"all checks passed" not in done.stdout:
            raise BenchError(f"verify did not pass: {done.stdout[-200:]!r}")

    def baseline(_: int) -> float:
        import hashlib

        events, seconds = bench.backend.read_all(location, lambda state: hashlib.sha256(state).digest(), whole=True)
        if events != big.events:
            raise BenchError(f"hashed {events} events, not {big.events}")
        return seconds

    say(f"timing `ledger verify --chain-only` of {big.events:,} events ({bench.runs('rebuild')} runs)")
    ours, base = alternate(
        _timed_command(ledger_command("--db", location, "verify", "--chain-only"), check, timeout_for(big.events)),
        baseline,
        bench.runs("rebuild"),
    )
    return _fill(figure, ours, base, events=big.events)


def history(bench: Bench) -> Figure:
    """`ledger history DEAL --json` on the big ledger against `ledger --version`."""
    big = bench.settings.big
    deal = deal_slug(big.seed, 0)
    figure = Figure.of(
        "history",
        measured_what=f"`ledger history {deal} --json` ({big.count(0)} events) on the ledger of "
        f"{big.events:,} events / {big.deals:,} deals",
        baseline_what="`ledger --version`",
    )
    location = _big_ledger(bench, figure)
    if location is None:
        return figure
    command = ledger_command("--db", location, "history", deal, "--json")
    _warm_up(command)
    _warm_up(ledger_command("--version"))
    ours, base = alternate(_timed_command(command), _timed_command(ledger_command("--version")), bench.runs("history"))
    return _fill(figure, ours, base)


def history_scaling(bench: Bench) -> Figure:
    """The same history on the big ledger against on a ledger `scale` times smaller."""
    settings = bench.settings
    big, small = settings.big, settings.smaller(settings.scale)
    deal = deal_slug(big.seed, 0)
    figure = Figure.of(
        "history-scaling",
        measured_what=f"`ledger history {deal} --json` on {big.events:,} events / {big.deals:,} deals",
        baseline_what=f"the same command on {small.events:,} events / {small.deals:,} deals "
        f"(the same deal, the same {small.count(0)} reports)",
    )
    if small.count(0) != big.count(0):
        figure.notes.append(f"the deal has {big.count(0)} reports in the big ledger, {small.count(0)} in the small")
    location = _big_ledger(bench, figure)
    if location is None:
        return figure
    small_location = bench.ledgers.ready(small)
    big_command = ledger_command("--db", location, "history", deal, "--json")
    small_command = ledger_command("--db", small_location, "history", deal, "--json")
    same = _warm_up(big_command) == _warm_up(small_command)
    figure.notes.append("both print the same history" if same else "WARNING: the two histories differ")
    ours, base = alternate(_timed_command(big_command), _timed_command(small_command), bench.runs("history"))
    return _fill(figure, ours, base)


_WARM: dict[tuple[str, ...], bytes] = {}


def _warm_up(command: Sequence[str]) -> bytes:
    """One untimed run (once per command): catches the read models up, fills the OS cache. Its output."""
    key = tuple(command)
    if key not in _WARM:
        say(f"warming up: {' '.join(command[1:])}")
        _WARM[key] = run(command).stdout
    return _WARM[key]


def _big_ledger(bench: Bench, figure: Figure) -> str | None:
    """The big cached ledger, or None (and the figure says why) when its build stopped."""
    try:
        return bench.ledgers.ready(bench.settings.big)
    except BuildStopped as stopped:
        figure.status = "not measured"
        figure.notes.append(str(stopped))
        return None


def _fill(figure: Figure, ours: Timing, base: Timing, events: int | None = None) -> Figure:
    """The figure's samples and medians: seconds, or events per second when `events` is given."""
    figure.samples = {"ours_seconds": ours.samples, "baseline_seconds": base.samples}
    figure.measured = events / ours.median if events else ours.median
    figure.baseline = events / base.median if events else base.median
    return figure


def postgres_import(bench: Bench) -> Figure:
    if bench.backend.name == "postgres" and "import" in bench.done:
        figure = Figure(**{**bench.done["import"].__dict__, "key": "postgres-import", "goal": None})
        figure.title = f"{SPECS['postgres-import'][0]} (postgres)"
        figure.notes = [*figure.notes, "the same measurement as the import figure (the backend is PostgreSQL)"]
        return figure
    if bench.postgres is None or (problem := bench.postgres.problem()):
        figure = Figure.of("postgres-import")
        figure.status = "not measured"
        figure.notes.append(problem if bench.postgres else "no PostgreSQL server given")
        return figure
    return import_throughput(bench, bench.postgres, key="postgres-import")


MEASURE: dict[str, Callable[[Bench], Figure]] = {
    "cli-version": lambda bench: cli_start(bench, "--version"),
    "cli-help": lambda bench: cli_start(bench, "--help"),
    "import": lambda bench: import_throughput(bench, bench.backend),
    "postgres-import": postgres_import,
    "memory": memory,
    "rebuild": rebuild,
    "history": history,
    "history-scaling": history_scaling,
    "verify": verify,
}
