"""The harness must be able to fail: every planted bug is caught, by the right check, small."""

from __future__ import annotations

import pytest

from harness.check import Target, run_check
from tests import broken_pairs as bp


def run(pair, check, dtype="float32", **kw):
    return run_check(Target(pair, check, dtype), max_examples=kw.pop("max_examples", 15), **kw)


def dims(record):
    return record.minimal_case["params"]


def test_correct_port_passes_every_check_and_keeps_every_example():
    for check in ("forward", "gradient"):
        record = run(bp.correct_linear, check)
        assert record.verdict == "pass", record.message
        assert record.examples == len(record.per_example) >= 15
        assert all(e["ok"] for e in record.per_example)
        assert record.metrics and all(m["ok"] for m in record.metrics.values())


def test_missing_transpose_on_square_weight_is_a_semantic_forward_failure():
    record = run(bp.missing_transpose, "forward")
    assert record.verdict == "fail"
    assert dims(record)["features"] == dims(record)["units"] == 2  # 1x1 is its own transpose
    assert dims(record)["batch"] == 1
    assert record.minimal_case["input_shapes"] == {"x": [1, 2]}
    assert record.divergence_kind == "semantic"
    assert "output: Mismatched elements" in record.message
    assert "--case" in record.repro and "missing_transpose" in record.repro


def test_detached_parameter_gradient_is_caught_by_the_gradient_check_only():
    assert run(bp.detached_gradient, "forward").verdict == "pass"
    record = run(bp.detached_gradient, "gradient")
    assert record.verdict == "fail"
    assert record.metrics["grad weight"]["ok"] is False
    assert "torch reports no gradient path" in record.metrics["grad weight"]["note"]
    assert record.metrics["grad x"]["ok"] is True
    assert dims(record) == {"batch": 1, "features": 1, "units": 1}


def test_wrong_epsilon_is_caught_and_float64_says_it_is_semantic():
    record = run(bp.wrong_epsilon, "forward", "float64")
    assert record.verdict == "fail"
    assert record.divergence_kind == "semantic"
    # a variance needs two features; the epsilon matters most for tiny inputs
    assert dims(record)["features"] == 2


def test_softmax_over_the_wrong_axis_is_caught_with_a_minimal_case():
    record = run(bp.softmax_wrong_axis, "forward")
    assert record.verdict == "fail"
    assert dims(record) in ({"batch": 1, "features": 2, "units": 1}, {"batch": 2, "features": 1, "units": 1})


def test_gradient_that_differs_only_at_zero_is_found_by_the_zeros_regime():
    assert run(bp.gradient_at_zero, "forward").verdict == "pass"
    record = run(bp.gradient_at_zero, "gradient")
    assert record.verdict == "fail"
    assert record.minimal_case["regime"] == "zeros"
    assert dims(record) == {"batch": 1, "features": 1, "units": 1}
    assert record.metrics["grad x"]["tf_value"] == 0.0


def test_bias_on_one_side_is_refused_by_the_weight_map_before_anything_runs():
    record = run(bp.bias_one_side, "forward")
    assert record.verdict == "error"
    assert record.examples == 0
    assert "weight map of pair 'bias_one_side'" in record.message
    assert "'bias' shape (1,)" in record.message


def test_a_layer_raising_in_one_framework_is_an_error_record_naming_it():
    record = run(bp.raises_in_tf, "forward")
    assert record.verdict == "error"
    assert record.error["framework"] == "tf"
    assert "this TF twin is not implemented yet" in record.error["message"]
    assert record.repro


@pytest.mark.parametrize("check", ["forward"])
def test_a_declared_divergence_that_does_not_reproduce_fails(check):
    record = run(bp.declared_but_equal, check)
    assert record.verdict == "fail"
    assert "did not reproduce" in record.message


def test_a_declared_divergence_below_the_tolerance_but_beyond_the_noise_floor_is_present_not_gone():
    record = run(bp.declared_and_small, "forward", dtype="float64")
    assert record.verdict == "pass", record.message
    assert "the declared divergence shows below the fixed float64 tolerance: output differs by" in record.message
    gone = run(bp.declared_but_equal, "forward", dtype="float64")  # within its floor: the effect is gone
    assert gone.verdict == "fail" and "did not reproduce" in gone.message


def test_a_declared_divergence_that_reproduces_is_reported_with_its_minimal_case():
    record = run(bp.declared_and_real, "gradient")
    assert record.verdict == "known-divergence"
    assert record.known_divergence == "hand-written backward passes gradient at 0"
    assert record.minimal_case["regime"] == "zeros"


def test_replaying_the_recorded_minimal_case_reproduces_the_failure():
    from harness.cases import Case

    first = run(bp.gradient_at_zero, "gradient")
    replay = run(bp.gradient_at_zero, "gradient", case=Case.from_json(first.minimal_case))
    assert replay.verdict == "fail" and replay.examples == 1
    assert replay.metrics == first.metrics


def test_a_call_argument_is_drawn_both_ways_so_both_branches_run():
    """000's ConditionalLayer: ``forward(x, condition)`` must be checked on both branches."""
    from harness import registry

    pair = registry.load().pairs["conditional_layer_000"]
    record = run(pair, "gradient", max_examples=20)
    assert record.verdict == "pass", record.message
    assert {e["case"]["params"]["condition"] for e in record.per_example} == {True, False}


def test_the_first_divergent_stage_is_named_with_the_error_of_every_stage():
    record = run(bp.second_stage_bug, "forward")
    assert record.verdict == "fail"
    where = record.localisation
    assert where["direction"] == "forward" and where["first"] == "second"
    assert [r["stage"] for r in where["stages"]] == ["first", "second"]
    assert where["stages"][0]["ok"] and not where["stages"][1]["ok"]
    assert "first divergent sublayer (forward): second" in record.message


def test_a_skipped_mode_is_a_skip_record_with_its_reason():
    from harness.check import Target

    record = run_check(Target(bp.skipped_train_mode, "forward", "float32", mode="train"))
    assert record.verdict == "skip" and "not checkable yet" in record.message
    assert run_check(Target(bp.skipped_train_mode, "forward", "float32", mode="eval")).verdict == "pass"


def test_a_skipped_check_of_one_mode_skips_that_record_only():
    record = run_check(Target(bp.skipped_train_gradient, "gradient", "float32", mode="train"))
    assert record.verdict == "skip" and record.message.startswith("gradient in train mode not checked: a defect")
    assert run_check(Target(bp.skipped_train_gradient, "forward", "float32", mode="train")).verdict == "pass"
    assert run_check(Target(bp.skipped_train_gradient, "gradient", "float32", mode="eval")).verdict == "pass"


def test_a_skip_of_a_check_that_does_not_exist_is_refused():
    from harness import LayerPair
    from harness.spec import SpecError

    with pytest.raises(SpecError, match="'train:gradients'"):
        LayerPair(name="typo", origin=bp.ORIGIN, torch=bp._identity, tf=bp._identity, dims=bp.DENSE_DIMS,
                  inputs=bp.X, modes=("eval", "train"), skip_modes={"train:gradients": "typo"})


def test_the_parameters_check_fails_and_lists_the_misfit():
    record = run(bp.parameters_mismatch, "parameters")
    assert record.verdict == "fail"
    assert "missing: torch parameter 'bias'" in record.metrics["weight map"]["note"]
    assert run(bp.correct_linear, "parameters").verdict == "pass"


def test_a_backward_only_bug_is_localised_walking_back_from_the_output():
    from dataclasses import replace

    pair = replace(bp.gradient_at_zero, name="relu_then_identity", stages=bp.RELU_STAGES,
                   torch=bp.torch_relu_stage, tf=bp.tf_relu_stage)
    record = run(pair, "gradient")
    assert record.verdict == "fail"
    assert record.localisation["direction"] == "backward"
    assert [r["stage"] for r in record.localisation["stages"]] == ["scale", "relu"]
    assert record.localisation["first"] == "relu"


def test_a_cuda_target_without_a_gpu_is_a_skip_that_says_why():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the CUDA path runs for real")
    record = run_check(Target(bp.correct_linear, "forward", "float32", device="cuda"))
    assert record.verdict == "skip" and "torch.cuda.is_available() is False" in record.message


def test_a_non_strict_declared_divergence_that_does_not_show_passes_and_says_so():
    from dataclasses import replace

    from harness.spec import KnownDivergence

    lenient = replace(bp.declared_but_equal, known_divergences=(
        KnownDivergence("forward", "only some draws provoke it", strict=False),))
    record = run(lenient, "forward")
    assert record.verdict == "pass"
    assert "did not show" in record.message


def test_a_divergence_declared_for_one_regime_does_not_excuse_another():
    from dataclasses import replace

    from harness.spec import KnownDivergence

    narrow = replace(bp.declared_and_real, known_divergences=(
        KnownDivergence("gradient", "large inputs only", regimes=("large",), strict=False),))
    record = run(narrow, "gradient")
    assert record.verdict == "fail" and record.minimal_case["regime"] == "zeros"
    assert "outside its declared divergence's scope (regimes ['large'])" in record.message
