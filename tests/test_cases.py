"""Cases: regimes plant what they promise, cases replay exactly, dims may depend on each other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.cases import REGIMES, Case, case_strategy, draw_params, fill
from tests.broken_pairs import SQUARE_DIMS, correct_linear


@given(st.sampled_from(["zeros", "special"]), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_planting_regimes_plant_at_least_once(regime, rows, cols, seed):
    x = fill(regime, (rows, cols), np.random.default_rng(seed), [0.5])
    target = 0.0 if regime == "zeros" else 0.5
    assert np.count_nonzero(x == target) >= 1


@given(st.sampled_from(REGIMES), st.integers(0, 2**31 - 1))
def test_the_same_seed_gives_bit_identical_arrays(regime, seed):
    a = fill(regime, (3, 4), np.random.default_rng(seed), [0.25])
    b = fill(regime, (3, 4), np.random.default_rng(seed), [0.25])
    assert a.tobytes() == b.tobytes()


def test_magnitude_regimes_scale():
    rng = np.random.default_rng
    assert np.abs(fill("large", (100,), rng(0), [])).max() > 100
    assert np.abs(fill("tiny", (100,), rng(0), [])).max() < 0.01
    assert set(np.unique(fill("ties", (100,), rng(0), []))) <= {-1.0, -0.5, 0.0, 0.5, 1.0}


def test_special_without_values_is_refused():
    with pytest.raises(ValueError, match="cannot be filled"):
        fill("special", (3,), np.random.default_rng(0), [])


@given(case_strategy(correct_linear))
def test_cases_round_trip_through_json(case):
    assert Case.from_json(case.dumps()) == case
    assert case.regime != "special"  # the pair declares no special values


@given(draw_params(replace(correct_linear, dims=SQUARE_DIMS)))
def test_dependent_dims_see_earlier_draws(params):
    assert params["units"] == params["features"]


@pytest.mark.parametrize("bad", ["{", '{"params": 1}', '{"regime": "weird"}', '{"params": {}, "x": 1}'])
def test_malformed_case_json_is_refused_with_the_expected_shape(bad):
    with pytest.raises(ValueError):
        Case.from_json(bad)
