"""The checks beyond one inference forward must be able to fail: each planted bug is caught, by its check."""

from __future__ import annotations

from harness.check import Target, run_check
from harness.checks.statistics import ALPHA, SAMPLES, bound
from tests import broken_pairs as bp
from tests import broken_training as bt


def run(pair, check, mode, dtype="float32", examples=4):
    return run_check(Target(pair, check, dtype, mode=mode), max_examples=examples)


def failing(record):
    return {name for name, m in record.metrics.items() if not m["ok"]}


def test_the_statistical_bound_is_hoeffding_at_the_stated_false_alarm_rate():
    # P(|mean - p| >= eps) <= 2 exp(-2 n eps^2) = ALPHA at eps = bound(n)
    import math

    eps = bound(SAMPLES)
    assert math.isclose(2 * math.exp(-2 * SAMPLES * eps**2), ALPHA)
    assert 0.015 < eps < 0.025  # a rate off by 0.05 or more cannot hide in SAMPLES draws


def test_a_wrong_dropout_rate_is_caught_on_the_side_that_has_it():
    control = run(bt.right_dropout_rate, "statistics", "train")
    assert control.verdict == "pass", control.message
    record = run(bt.wrong_dropout_rate, "statistics", "train")
    assert record.verdict == "fail"
    # measured against the declared rate, the Keras side's drops, scale and renewal are all off; torch is right
    assert failing(record) == {"zero fraction tf", "kept scale tf", "mask renewal tf"}
    rate = record.minimal_case["params"]["rate"]
    assert abs(record.metrics["zero fraction tf"]["tf_value"] - rate) < 1e-12  # the expected value recorded
    assert record.metrics["zero fraction tf"]["total"] >= SAMPLES


def test_a_dropout_that_reuses_its_mask_is_caught_by_mask_renewal():
    record = run(bt.fixed_dropout_mask, "statistics", "train")
    assert record.verdict == "fail"
    assert "mask renewal tf" in failing(record)
    assert "zero fraction torch" not in failing(record)


def test_stochastic_pairs_are_compared_by_statistics_only_in_training():
    assert bt.right_dropout_rate.modes_for("forward") == ("eval",)
    assert bt.right_dropout_rate.modes_for("statistics") == ("train",)
    assert run(bt.right_dropout_rate, "forward", "eval").verdict == "pass"


def test_batch_norm_momentum_passed_unconverted_is_caught_beyond_the_declared_variance_rule():
    control = run(bt.momentum_converted, "state", "train", "float64")
    assert control.verdict == "known-divergence", control.message
    assert failing(control) and all("running_var" in name for name in failing(control))
    record = run(bt.momentum_unconverted, "state", "train", "float64")
    assert record.verdict == "fail"
    assert "diverges beyond its declared divergence" in record.message
    assert any("running_mean" in name for name in failing(record))


def test_a_running_buffer_updated_with_the_wrong_coefficient_is_caught_by_the_state_check():
    assert run(bp.buffer_right_coefficient, "state", "eval").verdict == "pass"
    record = run(bp.buffer_wrong_coefficient, "state", "eval")
    assert record.verdict == "fail"
    assert failing(record) == {f"state running_mean (call {i})" for i in (1, 2, 3)}
    assert run(bp.buffer_wrong_coefficient, "forward", "eval").verdict == "pass"  # the outputs agree


def test_a_get_config_that_forgets_an_argument_fails_serialization():
    control = run(bt.config_complete, "serialization", "eval")
    assert control.verdict == "pass", control.message
    record = run(bt.config_forgets_argument, "serialization", "eval")
    assert record.verdict == "fail"
    assert "keras get_config/from_config: output" in failing(record)
    assert not any(name.startswith("torch") for name in failing(record))


def test_a_constraint_applied_by_one_optimiser_is_caught_by_the_train_step_with_its_trajectory():
    control = run(bt.trained_linear, "train_step", "train")
    assert control.verdict == "pass", control.message
    assert [p["step"] for p in control.trajectory] == [0, 1, 2, 3, 4, 5]
    assert all(p["ok"] for p in control.trajectory)
    assert run(bt.forgotten_constraint, "forward", "eval").verdict == "pass"  # same function, same gradients
    record = run(bt.forgotten_constraint, "train_step", "train")
    assert record.verdict == "fail"
    assert any(name.startswith("weight weight (step") for name in failing(record))
    assert record.trajectory[0]["ok"] and not all(p["ok"] for p in record.trajectory)


def test_a_layer_that_computes_differently_when_traced_fails_graph_mode_only():
    assert run(bt.eager_only_branch, "forward", "eval").verdict == "pass"
    record = run(bt.eager_only_branch, "forward", "graph")
    assert record.verdict == "fail"
    assert "output 0 [tf.function vs eager]" in failing(record)
    assert not any("torch.compile" in name for name in failing(record))
    assert record.execution["tf_traces"] >= 1 and record.execution["torch"].startswith("torch.compile")
