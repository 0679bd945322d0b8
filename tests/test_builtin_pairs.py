"""Correctly paired framework built-ins pass the default ``conform run`` with no declarations at all.

``tests/builtin_pairs.py`` pairs torch.nn modules with the Keras layers that compute the same
function: code nobody here wrote. The harness's rules must hold on them as they are: every
record passes, or is a float32 ``precision`` effect that names the less accurate framework.
A rule that flags one of them is a rule to fix for everyone, not a pair to excuse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import registry
from tests.e2e import conform

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
    assert result.returncode == 0, result.stdout[-4000:]
    records = [json.loads(line) for line in (tmp_path / "builtins" / "results.jsonl").read_text().splitlines()]
    assert {r["check"] for r in records} == {"forward", "gradient", "serialization"}
    assert {r["mode"] for r in records} == {"eval", "train", "graph"}
    odd = [(r["pair"], r["check"], r["dtype"], r["mode"], r["verdict"]) for r in records
           if r["verdict"] not in ("pass", "precision")]
    assert not odd
    for r in records:
        if r["verdict"] == "precision":
            assert r["dtype"] == "float32" and r["oracle"]["less_accurate"] in ("torch", "tf", "torch.compile",
                                                                                "tf.function", "torch eager",
                                                                                "tf eager"), r["oracle"]
        assert r["coverage"]["non_degenerate"] >= 1
