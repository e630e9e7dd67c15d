"""Which code of the ledger is measured: the working tree, or a fixed git revision.

A full run lasts an hour or more while people keep editing the repository; a
run that started on one version could finish on another. `--code REV`
extracts the ledger's packages at that revision (`git archive`, read-only)
into `<cache>/code-<sha>/` and puts that folder first on the measured
processes' PYTHONPATH, ahead of the editable install, so every process of
the run imports the same code. Without it the working tree is measured.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

#: The packages `pip install` makes of the repository (pyproject.toml).
PACKAGES = ("events", "ledger", "projections")
ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout


def describe_working_tree() -> str:
    """'working tree at <sha> (+ uncommitted changes)', or 'working tree' outside git."""
    try:
        sha = _git("rev-parse", "--short=12", "HEAD").decode().strip()
        dirty = _git("status", "--porcelain", "--", *PACKAGES).strip()
    except (OSError, subprocess.CalledProcessError):
        return "working tree"
    return f"working tree at {sha}" + (" with uncommitted changes" if dirty else "")


def snapshot(revision: str, cache: Path) -> tuple[Path, str]:
    """The ledger's packages at `revision`, extracted once; (folder, full sha)."""
    sha = _git("rev-parse", "--verify", f"{revision}^{{commit}}").decode().strip()
    folder = cache / f"code-{sha[:12]}"
    if not folder.exists():
        # examples/: ledger/data links to the demo file there.
        archive = _git("archive", "--format=tar", sha, "--", *PACKAGES, "examples")
        part = cache / f"code-{sha[:12]}.part-{os.getpid()}"
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(part, filter="data")
        os.replace(part, folder)
    return folder, sha
