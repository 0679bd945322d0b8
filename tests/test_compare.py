"""The comparison: the policy's arithmetic, symmetry, special values, and its messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.compare import DEFAULT_POLICY, Policy, compare, policy_for
from harness.spec import Tolerance

F32 = DEFAULT_POLICY["float32"]


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3), elements=st.floats(-1e6, 1e6)))
def test_an_array_equals_itself_with_zero_error(x):
    m = compare("t", x, x.copy(), F32)
    assert m.ok and m.max_abs_error == 0 and m.headroom == 0 and m.mismatched == 0


@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, (3, 4), elements=st.floats(-10, 10)))
def test_comparison_is_symmetric(a, b):
    m1, m2 = compare("t", a, b, F32), compare("t", b, a, F32)
    fields = ("ok", "max_abs_error", "mismatched", "headroom")
    assert [getattr(m1, f) for f in fields] == [getattr(m2, f) for f in fields]


def test_atol_is_relative_to_the_tensors_scale():
    policy = Policy(rtol=0.0, atol=1e-5, source="t")
    big = np.array([1000.0, 0.0])
    assert compare("t", big, big + [0.0, 5e-3], policy).ok  # 5e-3 <= 1e-5 * 1000
    assert not compare("t", big, big + [0.0, 2e-2], policy).ok
    small = np.array([1e-3, 0.0])
    assert not compare("t", small, small + [0.0, 1e-7], policy).ok  # 1e-7 > 1e-5 * 1e-3


def test_worst_index_values_and_message_shape():
    a = np.zeros((2, 3))
    b = a.copy()
    b[1, 2] = 0.5
    m = compare("output", a, b, F32)
    assert not m.ok and m.mismatched == 1 and m.total == 6 and m.worst_index == (1, 2)
    assert (m.torch_value, m.tf_value) == (0.0, 0.5)
    text = m.describe(F32)
    assert "output: Mismatched elements: 1 / 6 (16.7%)" in text
    assert "Greatest absolute difference: 0.5 at index (1, 2)" in text


def test_nans_and_infs_put_in_must_agree_in_place_and_sign():
    nan_inf = np.array([np.nan, np.inf, 1.0])
    assert compare("t", nan_inf, nan_inf.copy(), F32, nonfinite_in=True).ok
    assert not compare("t", nan_inf, np.array([0.0, np.inf, 1.0]), F32, nonfinite_in=True).ok
    assert not compare("t", nan_inf, np.array([np.nan, -np.inf, 1.0]), F32, nonfinite_in=True).ok


def test_nans_from_finite_inputs_never_agree_and_the_note_says_where():
    both = np.array([[np.nan, 1.0], [2.0, np.inf]])
    m = compare("output", both, both.copy(), F32)
    assert not m.ok and m.mismatched == 2
    assert m.note == ("non-finite output from finite inputs (torch: 2 at [(0, 0), (1, 1)]; "
                      "tf: 2 at [(0, 0), (1, 1)])")
    one_side = compare("output", np.array([np.nan, 1.0]), np.array([0.5, 1.0]), F32)
    assert not one_side.ok and one_side.note == "non-finite output from finite inputs (torch: 1 at [(0,)])"


def test_every_metric_says_which_comparison_it_made():
    exact = Policy(0.0, 0.0, "exact")
    assert compare("t", np.ones(2), np.ones(2), exact).comparison == "exact"
    assert compare("t", np.ones(2), np.ones(2), F32).comparison == "tolerance"
    labelled = compare("t", np.zeros(1), np.ones(1), F32, sides=("tf.function", "tf eager"))
    assert "(tf.function 0.0 vs tf eager 1.0)" in labelled.describe(F32)


def test_shape_mismatch_is_a_failure_that_says_both_shapes():
    m = compare("t", np.zeros((2, 3)), np.zeros((3, 2)), F32)
    assert not m.ok and "torch (2, 3) vs tf (3, 2)" in m.note


def test_policy_table_and_overrides_carry_their_reason():
    assert policy_for("float64").rtol == 1e-9
    override = policy_for("float32", Tolerance(1e-4, 1e-4, reason="softmax of large logits"))
    assert override.rtol == 1e-4 and "softmax of large logits" in override.source
    with pytest.raises(ValueError, match="no tolerance policy for dtype 'int8'"):
        policy_for("int8")


def test_differences_below_the_smallest_normal_number_do_not_count():
    """TF flushes subnormals to zero on CPU; torch keeps them."""
    subnormal = np.array([2e-40, 0.0])
    assert compare("t", subnormal, np.zeros(2), F32).ok
    assert not compare("t", np.array([2e-37, 0.0]), np.zeros(2), F32).ok


def test_the_group_scale_lets_cancellation_noise_pass_but_not_a_real_difference():
    """A gradient that is zero in exact arithmetic is noise of its group's size, not its own."""
    noise_torch, noise_tf = np.array([3e-8]), np.array([-2e-8])
    assert not compare("grad bias", noise_torch, noise_tf, F32).ok
    assert compare("grad bias", noise_torch, noise_tf, F32, group_scale=1.0).ok
    assert not compare("grad bias", np.array([0.5]), np.array([0.0]), F32, group_scale=1.0).ok
