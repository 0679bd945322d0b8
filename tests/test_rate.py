"""``make rate``: the harness's examples/s beside the floor's, on the same pair, in one process.

The rates themselves are never asserted (a loaded machine halves both); what is asserted is
that the figure means something: the harness record it times passed on real examples, the
floor did its work, and the printout names both rates and their ratio.
"""

from __future__ import annotations

import pytest

from benchmarks import rate


def test_the_harness_rate_is_of_a_passing_record_of_the_floor_pair():
    rates = rate.measure(examples=3, rounds=1)
    assert rates.verdicts == ["pass"]
    # hypothesis's 3, plus the minimal case in every value regime and the wide case
    assert rates.examples > 3
    assert rates.floor > 0 and rates.harness > 0
    assert rates.ratio == pytest.approx(rates.harness / rates.floor)


def test_the_floor_example_computes_the_same_layer_on_both_sides():
    import numpy as np

    assert rate._floor_example(np.random.default_rng(0), 5, 3, 2) < 1e-5  # noqa: SLF001 - the floor's own check


def test_make_rate_prints_both_rates_and_their_ratio(capsys):
    assert rate.main(["--examples", "2", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "floor" in out and "harness (rate_linear_dense, gradient, float32, eval)" in out
    assert "harness / floor:" in out
