"""Constructor-argument checks: refuse what the layers cannot take, and say what was received."""

from __future__ import annotations

import pytest

from harness import arguments as a


@pytest.mark.parametrize("call, message", [
    (lambda: a.check_positive_int("units", 0), "expected a positive integer. Received: units=0"),
    (lambda: a.check_positive_int("units", True), "Received: units=True"),
    (lambda: a.check_non_negative_int("padding", -1), "Received: padding=-1"),
    (lambda: a.check_positive_ints("layer_sizes", [4], at_least=2), "2 or more positive integers"),
    (lambda: a.check_padding("full"), "Expected one of ('same', 'valid'). Received: padding='full'"),
    (lambda: a.check_rate(1.5), "between 0 and 1. Received: rate=1.5"),
    (lambda: a.check_heads(6, 4), "expected a multiple of `num_heads`. Received: embed_dim=6, num_heads=4"),
])
def test_bad_arguments_are_refused_naming_the_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_good_arguments_pass_through_normalised():
    assert a.check_padding("SAME") == "same"
    assert a.check_rate(0) == 0.0
    assert a.check_positive_ints("widths", [3, 2]) == (3, 2)
    a.check_heads(8, 4)


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_both_layer_packages_refuse_the_same_bad_argument_the_same_way(framework):
    module = pytest.importorskip(f"layers_{framework}.attention")
    with pytest.raises(ValueError, match="expected a multiple of `num_heads`"):
        module.MultiHeadSelfAttention(6, 4)
