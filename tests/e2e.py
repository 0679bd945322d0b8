"""Running ``conform`` as a user does, in a subprocess: one helper for every end-to-end test.

The time limit is generous on purpose: it catches a run that is stuck, not one that is slow
because the other cores are busy (``make test`` runs one process per core, and a run beside a
compiling neighbour takes twice as long). What a test asserts is the work done: the exit
code, the records, run.json's count of completed checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1800.0


def conform(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = LIMIT) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` in ``cwd``, with the checkout importable (the tests' pair files import ``tests``)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=environ)


def records(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]
