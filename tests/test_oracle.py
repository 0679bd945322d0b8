"""The float64 oracle: a float32 difference that float64 settles is ``precision`` and names the side that is off.

The planted pairs (``tests/precision_pairs.py``) have a known answer: TF's float32 loses digits
in one, torch rounds through float32 inside float64 in another, and TF's LeakyRelu keeps its
slope in 32 bits. The verdicts must say so, and ``--fail-on`` must turn ``precision`` red on
request.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness import oracle
from harness.check import Target, run_check
from harness.compare import DEFAULT_POLICY, compare
from tests import precision_pairs as pp
from tests.e2e import conform


def run(pair, check="forward", dtype="float32", **kw):
    return run_check(Target(pair, check, dtype), max_examples=kw.pop("max_examples", 10), **kw)


def test_a_float32_only_difference_is_precision_naming_the_less_accurate_side():
    record = run(pp.tf_loses_digits)
    assert record.verdict == "precision", record.message
    assert record.divergence_kind == "precision"
    assert record.oracle["less_accurate"] == "tf"
    row = record.oracle["tensors"]["output"]
    assert row["less_accurate"] == "tf" and row["tf"]["tolerances"] > 1 > row["torch"]["tolerances"]
    assert row["tf"]["ulps"] > row["torch"]["ulps"]
    assert "tf's float32 output is" in record.message and record.repro
    assert record.per_example and any(e.get("precision") == "tf" for e in record.per_example)


def test_the_same_pair_in_float64_passes():
    assert run(pp.tf_loses_digits, dtype="float64").verdict == "pass"


def test_a_float64_divergence_of_float32_size_is_a_failure_that_names_torch_with_its_operations():
    record = run(pp.torch_rounds_through_float32, dtype="float64")
    assert record.verdict == "fail" and record.divergence_kind == "semantic"
    assert record.oracle["float32_sized"] and record.oracle["side"] == "torch"
    assert "aten.mul" in record.oracle["low_precision_ops"]["torch"]
    assert not record.oracle["low_precision_ops"]["tf"]
    assert "torch computes in float32 inside this float64 run" in record.message


def test_tf_leaky_relu_keeps_its_slope_in_float32_and_the_record_names_the_attribute():
    record = run(pp.leaky_relu_slope_0_01, dtype="float64")
    assert record.verdict == "fail" and record.oracle["side"] == "tf"
    assert any(op.startswith("LeakyRelu.alpha (float32 attribute 0.00999999977") for op in
               record.oracle["low_precision_ops"]["tf"])


def test_the_catalogue_gelu_finding_is_attributed_to_tf_casting_its_constant():
    from harness import registry

    record = run(registry.load().pairs["gelu_by_name_003"], dtype="float64")
    assert record.verdict == "known-divergence"
    assert record.oracle["side"] == "tf" and "Cast" in record.oracle["low_precision_ops"]["tf"]


def test_judge_measures_each_side_against_the_float64_result():
    truth = np.array([1.0, 0.0])
    near, far = truth + [1e-7, 0.0], truth + [0.0, 3e-4]
    metric = compare("output", near, far, DEFAULT_POLICY["float32"])
    verdict = oracle.judge({"output": (near, far, 1.0)}, {"output": (truth, truth, 1.0)}, [metric],
                           DEFAULT_POLICY["float32"])
    row = verdict["tensors"]["output"]
    assert verdict["less_accurate"] == "tf" and row["ratio"] == pytest.approx(row["tf"]["tolerances"] /
                                                                             row["torch"]["tolerances"])
    assert row["tf"]["ulps"] == pytest.approx(3e-4 / np.spacing(np.float32(3e-4)), rel=1e-6)  # against a true 0
    assert verdict["summary"].startswith("tf's float32 output is")


@pytest.mark.slow
def test_fail_on_precision_turns_a_precision_record_into_exit_1(tmp_path):
    pairs = str(Path(__file__).with_name("precision_pairs.py"))
    args = ("run", "--pairs-from", pairs, "--pairs", "tf_loses_digits", "--checks", "forward", "--dtype", "float32",
            "--modes", "eval", "--max-examples", "5")
    default = conform(*args, "--out", "lenient", cwd=tmp_path)
    assert default.returncode == 0, default.stdout[-2000:]
    assert "1 precision" in default.stdout and "tf less accurate" in default.stdout
    strict = conform(*args, "--fail-on", "fail,error,precision", "--out", "strict", cwd=tmp_path)
    assert strict.returncode == 1, strict.stdout[-2000:]
    bad = conform(*args, "--fail-on", "fail,maybe", "--out", "bad", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown verdicts ['maybe']" in bad.stderr


def test_a_precision_record_crosses_from_an_xdist_worker_as_plain_json():
    """Its oracle holds numpy floats: execnet, xdist's channel, refuses those (a worker crashed on one)."""
    from execnet.gateway_base import dumps

    from harness.pytest_plugin import portable

    record = run(pp.tf_loses_digits)
    assert record.verdict == "precision"
    carried = portable(record)
    dumps(carried)  # raises DumpError on a numpy scalar
    assert carried == json.loads(json.dumps(record.to_json()))
