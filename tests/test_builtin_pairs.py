"""Correctly paired framework built-ins pass the default ``conform run`` with no declarations at all.

``tests/builtin_pairs.py`` pairs torch.nn modules with the Keras layers that compute the same
function: code nobody here wrote. The harness's rules must hold on them as they are: every
record passes, or is a float32 ``precision`` effect that names the less accurate framework, or
errors inside a framework with a defect the ledger names and its reproducer shows present here
(torch Inductor's dynamic Conv2d backward). A rule that flags one of them is a rule to fix for
everyone, not a pair to excuse.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ledger, registry
from tests.e2e import ROOT, conform

PAIRS = Path(__file__).with_name("builtin_pairs.py")


def test_the_file_declares_nothing_and_covers_every_kind_of_layer():
    pairs = [p for n, p in registry.load([str(PAIRS)]).pairs.items() if n.startswith("builtin_")]
    assert len(pairs) >= 8
    for pair in pairs:
        assert not pair.known_divergences and not pair.tolerances and not pair.skip_modes, pair.name
        assert all(t.regimes is None for t in pair.inputs), pair.name
    names = " ".join(p.name for p in pairs)
    for kind in ("dense", "conv2d_same", "stride2", "batch_norm", "layer_norm", "relu", "pool"):
        assert kind in names, kind


@pytest.mark.slow
def test_the_default_run_exits_0_and_every_record_passes_or_names_the_less_accurate_side(tmp_path):
    result = conform("run", "--pairs-from", str(PAIRS), "--out", "builtins", cwd=tmp_path)
    records = [json.loads(line) for line in (tmp_path / "builtins" / "results.jsonl").read_text().splitlines()]
    assert {r["check"] for r in records} == {"forward", "gradient", "serialization"}
    assert {r["mode"] for r in records} == {"eval", "train", "graph"}
    odd = [r for r in records if r["verdict"] not in ("pass", "precision")]
    assert result.returncode == (1 if odd else 0), result.stdout[-4000:]
    # The only other outcome a correct built-in pair may have: the framework raised, and the ledger names the defect.
    # Its reproducer must show it present on this install, so a harness error of ours cannot pass under its name.
    assert all(r["verdict"] == "error" and r["findings"] for r in odd), [
        (r["pair"], r["check"], r["dtype"], r["mode"], r["verdict"], r["message"][:300]) for r in odd]
    for finding in {f["id"]: f for r in odd for f in r["findings"]}.values():
        script = ledger.entry(finding["id"]).reproducer
        shown = subprocess.run([sys.executable, script], cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert shown.returncode == 1, (finding["id"], shown.stdout[-2000:], shown.stderr[-2000:])
    for r in records:
        if r["verdict"] == "precision":
            assert r["dtype"] == "float32" and r["oracle"]["less_accurate"] in ("torch", "tf", "torch.compile",
                                                                                "tf.function", "torch eager",
                                                                                "tf eager"), r["oracle"]
        assert r["coverage"]["non_degenerate"] >= 1
