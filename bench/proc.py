"""Running whole processes and timing them: the `ledger` CLI, cold, as a person runs it.

Every wall time here is a fresh process (interpreter start and imports
included), taken several times; figures use the median. `ledger` is the
console script next to `sys.executable` (the one `pip install` made), or
`python -m ledger` when there is none.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(RuntimeError):
    """A measured command failed, or the harness cannot go on."""


@dataclass
class Timing:
    """The wall times of several runs of one thing, in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def ledger_command(*args: str) -> list[str]:
    """The command line of `ledger ARGS...` with this interpreter's installation."""
    script = Path(sys.executable).with_name("ledger")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "ledger", *args]


#: Where measured processes keep their bytecode (set by `use_pycache`).
PYCACHE: Path | None = None
#: A snapshot of the ledger's code that measured processes import first (set by `use_code`).
CODE: Path | None = None


def use_code(folder: Path | None) -> None:
    """Measured processes import the ledger from `folder` (see `bench.code`)."""
    global CODE
    CODE = folder


def use_pycache(folder: Path) -> None:
    """Measured processes cache their bytecode in `folder`, as an installed program would.

    A shell with PYTHONDONTWRITEBYTECODE set would otherwise compile every
    module of the ledger from source at every start, which no user sees. The
    prefix keeps the cache out of the repository; ours and the baselines share it.
    """
    global PYCACHE
    PYCACHE = folder


def environment() -> dict[str, str]:
    """The environment of measured commands: plain output, no ledger chosen by accident."""
    env = {key: value for key, value in os.environ.items() if key not in ("LEDGER_DB", "LEDGER_DEBUG")}
    env["NO_COLOR"] = "1"
    env["LEDGER_USER"] = "bench"
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    # The repository (for `python -m bench.*` helpers); the ledger is installed.
    root = str(Path(__file__).resolve().parents[1])
    paths = [str(CODE) if CODE else None, root, os.environ.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


#: Seconds after which a command that should have finished long ago is killed.
DEFAULT_TIMEOUT = 3600.0


def timeout_for(events: int) -> float:
    """A generous limit for importing or reading `events` events (50 events/s at least)."""
    return max(300.0, events / 50)


def run(
    command: Sequence[str], *, check: bool = True, stdin: Path | None = None, timeout: float = DEFAULT_TIMEOUT
) -> subprocess.CompletedProcess:
    """Runs a command to its end with output captured; raises `BenchError` if it fails or hangs."""
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as source:
        try:
            done = subprocess.run(list(command), stdin=source, capture_output=True, env=environment(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{' '.join(command[:6])} … did not finish in {timeout:.0f} s and was killed") from None
    if check and done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BenchError(f"{' '.join(command[:6])} … exited {done.returncode}: {' | '.join(tail)}")
    return done


@dataclass
class Peak:
    """What `bench.maxrss` saw of one command."""

    max_rss_kib: int
    seconds: float
    stdout: str
    stderr_tail: str

    @property
    def mib(self) -> float:
        return self.max_rss_kib / 1024


def peak_memory(command: Sequence[str], workdir: Path, timeout: float = DEFAULT_TIMEOUT) -> Peak:
    """Runs the command under a fresh `bench.maxrss` helper; its peak RSS and wall time."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="maxrss-") as folder:
        result = Path(folder) / "result.json"
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr, open(os.devnull, "rb") as stdin:
            subprocess.run(
                [sys.executable, "-m", "bench.maxrss", str(result), "--timeout", str(timeout), "--", *command],
                stdin=stdin, stdout=stdout, stderr=stderr, env=environment(), check=False,
            )  # fmt: skip
        tail = _tail(err)
        if not result.exists():
            raise BenchError(f"bench.maxrss gave no result: {tail}")
        data = json.loads(result.read_text())
        if data.get("timed_out"):
            raise BenchError(f"{' '.join(command[:6])} … did not finish in {timeout:.0f} s and was killed")
        if data["returncode"] != 0:
            raise BenchError(f"{' '.join(command[:6])} … exited {data['returncode']}: {tail}")
        return Peak(data["max_rss_kib"], data["seconds"], out.read_text(errors="replace"), tail)


def _tail(path: Path, lines: int = 3) -> str:
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        file.seek(max(0, file.tell() - 4000))
        return " | ".join(file.read().decode(errors="replace").strip().splitlines()[-lines:])


def load_average() -> float | None:
    """The 1-minute load average (other work on the machine skews wall times)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None

