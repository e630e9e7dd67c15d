"""`python -m bench`: measure the ledger against baselines from the same run, print a table.

    python -m bench                       # 1,000,000 events / 10,000 deals on SQLite (long: builds caches)
    python -m bench --quick --json out.json
    python -m bench --backend postgres --only import,postgres-import,cli-version

Big ledgers are built once and cached in `--cache-dir` (default
`~/.cache/deal-ledger-bench`) or, on PostgreSQL, in schemas of the database
`deal_ledger_bench`. Progress goes to stderr, the table to stdout. Exit code
0 when every figure could be measured (missed targets included), 1 when a
measurement failed, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.backends import Postgres, SQLite
from bench.figures import MEASURE, ORDER, Bench, Figure, Settings
from bench.ledgers import Ledgers, say
from bench.code import describe_working_tree, snapshot
from bench.proc import BenchError, ledger_command, load_average, run, use_code, use_pycache
from bench.report import print_table, write_json
from bench.synth import GENERATOR_VERSION

DEFAULT_PG = os.environ.get("LEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
#: Runs of each kind of timed command in a full run (rebuild's count serves verify too). Odd
#: counts, so that a median is one run's time, not the mean of the middle two (with two
#: runs, the same code's rebuild figure was 0.190 in one full run and 0.215 in the next).
FULL_RUNS = {"cli": 41, "history": 41, "import": 5, "rebuild": 3}


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deal-ledger-bench"


def available_mib() -> float:
    """MemAvailable from /proc/meminfo (or 8 GiB when it cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 8192.0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, help="events in the big ledger (default 1,000,000; --quick 300)")
    p.add_argument("--deals", type=int, help="deals in the big ledger (default 10,000; --quick 20)")
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 runs each: checks the harness in seconds")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--import-events", type=int, help="reports per timed import (default 20,000; --quick 300)")
    p.add_argument("--runs", type=int, help="runs of every timed command (default: "
                   + ", ".join(f"{n} {kind}" for kind, n in FULL_RUNS.items()) + "; --quick 2)")
    p.add_argument("--only", help=f"comma-separated figures, of: {', '.join(ORDER)}")
    p.add_argument("--code", metavar="REV", help="measure the ledger as committed at this git revision (e.g. HEAD), not the working tree")
    p.add_argument("--cache-dir", type=Path, default=None, help="where datasets and SQLite ledgers are cached")
    p.add_argument("--postgres-url", default=DEFAULT_PG, help="server (and a database to connect to first)")
    p.add_argument("--chunk", type=int, help="lines per `ledger import` when building a cached ledger (default 250,000)")
    p.add_argument("--build-minutes", type=float, default=40.0, help="time budget of one ledger build (default 40)")
    p.add_argument("--memory-budget-gib", type=float, help="largest import to run, by predicted peak RSS (default: half the available memory)")  # fmt: skip
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    events = args.events or (300 if quick else 1_000_000)
    deals = args.deals or (20 if quick else 10_000)
    if deals > events:
        raise SystemExit(f"--deals ({deals}) cannot exceed --events ({events})")
    runs = {kind: args.runs or (2 if quick else n) for kind, n in FULL_RUNS.items()}
    budget = args.memory_budget_gib * 1024 if args.memory_budget_gib else available_mib() / 2
    return Settings(
        events=events,
        deals=deals,
        seed=args.seed,
        quick=quick,
        import_events=args.import_events or (300 if quick else 20_000),
        runs=runs,
        scale=10 if quick else 100,
        memory_budget_mib=budget,
        build_minutes=args.build_minutes,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_from(args)
    only = [key.strip() for key in args.only.split(",")] if args.only else list(ORDER)
    unknown = [key for key in only if key not in MEASURE]
    if unknown:
        parser().error(f"unknown figure {unknown[0]!r}; choose from {', '.join(ORDER)}")
    cache = (args.cache_dir or default_cache()).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    use_pycache(cache / "pycache")
    if args.code:
        folder, sha = snapshot(args.code, cache)
        use_code(folder)
        code = f"git {sha[:12]} ({args.code}), from {folder}"
    else:
        code = describe_working_tree()
    postgres = Postgres(args.postgres_url, cache)
    if args.backend == "postgres":
        if problem := postgres.problem():
            print(f"error: {problem}", file=sys.stderr)
            return 2
        backend = postgres
    else:
        backend = SQLite(cache)
    chunk = args.chunk or (16 if settings.quick else 250_000)
    ledgers = Ledgers(backend, cache, chunk, settings.build_minutes * 60)
    bench = Bench(settings, backend, ledgers, postgres, cache)
    backend.clean_scratch()
    if backend is not postgres and postgres.problem() is None:
        postgres.clean_scratch()

    started, load_before = time.perf_counter(), load_average()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    say(f"benchmark of the {code} on {backend.describe()}; cache {cache}")
    say("warming the bytecode cache: `ledger demo`, untimed")
    run(ledger_command("demo"))
    failed = False
    for key in (k for k in ORDER if k in only):
        say(f"figure {key}")
        step = time.perf_counter()
        try:
            figure = MEASURE[key](bench)
        except Exception as error:  # noqa: BLE001 - report it and go on with the other figures
            if os.environ.get("BENCH_DEBUG"):
                raise
            failed = True
            figure = Figure.of(key, status="failed")
            figure.notes.append(f"FAILED: {type(error).__name__}: {error}")
        bench.done[key] = figure
        ratio = f"{figure.ratio:.3f}" if figure.ratio is not None else figure.status
        say(f"  {key}: ratio {ratio} (target {figure.target_text}) in {time.perf_counter() - step:.0f} s")
    figures = [bench.done[k] for k in ORDER if k in bench.done]
    meta = {
        "code": code,
        "backend": backend.name,
        "backend_description": backend.describe(),
        "events": settings.events,
        "deals": settings.deals,
        "seed": settings.seed,
        "quick": settings.quick,
        "import_events": settings.import_events,
        "small_ledger": {"events": settings.smaller(settings.scale).events, "deals": settings.smaller(settings.scale).deals},
        "runs": settings.runs,
        "chunk": chunk,
        "generator_version": GENERATOR_VERSION,
        "cache": str(cache),
        "bytecode": f"cached in {cache / 'pycache'} (PYTHONPYCACHEPREFIX), written by untimed warm-up runs",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_average(),
        "started": started_at,
        "seconds": time.perf_counter() - started,
    }
    print_table(figures, meta)
    if args.json:
        write_json(args.json, figures, meta)
        say(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    # `kill` ends the run like Ctrl-C: scratch ledgers are removed, the child process is killed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted; cached ledgers resume where they stopped", file=sys.stderr)
        sys.exit(130)
