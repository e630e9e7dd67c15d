"""Runs one command and records its peak memory: `python -m bench.maxrss RESULT [--timeout S] -- CMD...`.

This helper is started fresh for every measurement, so
`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` counts exactly the one
command it waited for (and that command's own children), nothing the
benchmark did before. The command inherits stdin, stdout and stderr; the
result is written as JSON to RESULT: {"returncode", "max_rss_kib", "seconds",
"timed_out"}; a command still running after --timeout seconds is killed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    timeout = None
    if len(argv) > 3 and argv[1] == "--timeout":
        timeout = float(argv[2])
        argv = [argv[0], *argv[3:]]
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m bench.maxrss RESULT [--timeout SECONDS] -- CMD [ARG...]", file=sys.stderr)
        return 2
    result, command = argv[0], argv[2:]
    start = time.perf_counter()
    timed_out = False
    with subprocess.Popen(command) as process:
        try:
            returncode = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
            timed_out = True
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if sys.platform == "darwin":
        peak //= 1024
    with open(result, "w", encoding="utf-8") as out:
        json.dump({"returncode": returncode, "max_rss_kib": peak, "seconds": seconds, "timed_out": timed_out}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
