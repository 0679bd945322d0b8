"""No vacuous pass: a ``pass`` must have tested something, and each planted case has a control.

The planted pairs (``tests/vacuous_pairs.py``) each used to pass without the two sides ever
being told apart: graph mode drew only size-1 axes, a dim that could be 0 made every example
empty, NaN on both sides counted as agreement, and the gradient check compared gradients of
outputs that had different shapes.
"""

from __future__ import annotations

from harness.cases import Case
from harness.check import Target, run_check
from tests import vacuous_pairs as vp


def run(pair, check="forward", mode="eval", max_examples=20, **kw):
    return run_check(Target(pair, check, "float32", mode=mode), max_examples=max_examples, **kw)


def test_a_softmax_over_the_wrong_axis_fails_in_graph_mode_on_a_wide_case():
    record = run(vp.softmax_wrong_axis_sequence, mode="graph")
    assert record.verdict == "fail", record.message
    shape = record.minimal_case["input_shapes"]["x"]
    assert shape[1] >= 2 or shape[2] >= 2  # a size-1 draw cannot show the axis
    assert record.coverage["non_degenerate"] >= 1


def test_control_the_same_softmax_axis_passes_in_graph_mode_with_a_non_degenerate_case():
    record = run(vp.softmax_last_axis_sequence, mode="graph")
    assert record.verdict == "pass", record.message
    assert record.coverage["non_degenerate"] >= 1
    assert record.coverage["dims"]["seq"][1] >= 2 and record.coverage["dims"]["features"][1] >= 2


def test_replaying_only_a_degenerate_case_is_inconclusive_not_pass():
    degenerate = Case({"batch": 5, "seq": 1, "features": 1}, "normal", 0)
    record = run(vp.softmax_wrong_axis_sequence, case=degenerate)
    assert record.verdict == "inconclusive"
    assert record.coverage == {**record.coverage, "examples": 1, "non_degenerate": 0, "size_1": 1}
    assert "degenerate" in record.message
    assert record.per_example[0]["degenerate"] == "size-1 dims: seq=1, features=1"


def test_times_two_against_times_three_fails_although_the_batch_can_be_zero():
    record = run(vp.times_two_vs_three, mode="graph", max_examples=3)
    assert record.verdict == "fail"
    assert record.minimal_case["params"]["batch"] >= 1


def test_control_an_empty_batch_is_an_extra_edge_case_never_the_only_one():
    record = run(vp.times_two_both, mode="graph", max_examples=3)
    assert record.verdict == "pass", record.message
    cases = [e["case"]["params"] for e in record.per_example]
    assert cases[0]["batch"] >= 1  # the minimal case is the smallest non-empty one
    assert any(c["batch"] == 0 for c in cases)  # the empty case still runs
    assert record.coverage["empty"] >= 1 and record.coverage["non_degenerate"] >= 1


def test_a_pair_whose_every_case_is_empty_is_inconclusive():
    record = run(vp.times_two_vs_three_always_empty, max_examples=5)
    assert record.verdict == "inconclusive"
    assert record.coverage["non_degenerate"] == 0 and record.coverage["empty"] == record.examples


def test_nan_on_both_sides_from_finite_inputs_fails_and_names_the_positions():
    record = run(vp.log_of_negative)
    assert record.verdict == "fail"
    note = record.metrics["output"]["note"]
    assert "non-finite output from finite inputs" in note and "torch: " in note and "tf: " in note


def test_control_a_finite_log_passes():
    assert run(vp.log_of_positive).verdict == "pass"


def test_nan_put_in_may_come_out_at_the_same_positions():
    record = run(vp.nan_in_nan_out)
    assert record.verdict == "pass", record.message
    assert any(e["case"]["regime"] == "special" for e in record.per_example)


def test_nan_put_in_and_swallowed_by_one_side_fails():
    record = run(vp.nan_swallowed_by_torch)
    assert record.verdict == "fail" and record.minimal_case["regime"] == "special"


def test_the_gradient_check_compares_output_shapes_first():
    record = run(vp.flattened_on_one_side, "gradient")
    assert record.verdict == "fail"
    assert [m for m in record.metrics] == ["outputs"]
    assert "output shapes differ: torch [(1, 1)] vs tf [(1,)]" in record.metrics["outputs"]["note"]


def test_control_the_same_shapes_pass_the_gradient_check():
    assert run(vp.flattened_on_both_sides, "gradient").verdict == "pass"
