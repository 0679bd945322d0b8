"""The README stays true: its quick start is two commands, and its pair example runs green."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_quick_start_is_exactly_make_run_and_make_test():
    section = README.read_text().split("## Quick start", 1)[1].split("##", 1)[0]
    (block,) = re.findall(r"```\n(.*?)```", section, re.S)
    assert block.split("\n")[:-1] == ["make run", "make test"]


@pytest.mark.slow
def test_the_documented_pair_example_runs_and_passes(tmp_path):
    text = README.read_text().split("<!-- pair-example", 1)[1]
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "my_pairs.py").write_text(code)
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--pairs-from", "my_pairs.py",
                             "--max-examples", "5", "--out", "out"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") + result.stdout.count(" passed") >= 1
    # forward and gradient, in eval and graph, in two dtypes
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 8
