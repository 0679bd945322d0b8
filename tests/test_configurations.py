"""Graph mode and serialization pay per layer configuration: a record draws at most three (harness.configurations)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import configurations
from harness.check import Target, run_check
from tests.noise_pairs import linear_trains_alike as LINEAR


def test_a_configuration_is_what_the_factories_read():
    reads = {"features", "units"}
    assert configurations.key({"batch": 3, "features": 2, "units": 5}, reads) == \
        configurations.key({"batch": 1, "units": 5, "features": 2}, reads)
    assert configurations.key({"batch": 3, "features": 2, "units": 5}, reads) != \
        configurations.key({"batch": 3, "features": 2, "units": 4}, reads)
    assert configurations.applies("forward", "graph") and configurations.applies("serialization", "eval")
    assert not configurations.applies("forward", "eval") and not configurations.applies("gradient", "train")


def test_confined_draws_keep_a_known_configuration_and_vary_everything_else():
    configs = ({"batch": 1, "features": 1, "units": 1}, {"batch": 2, "features": 2, "units": 2},
               {"batch": 4, "features": 6, "units": 3})
    seen = []

    @settings(max_examples=60, database=None, derandomize=True)
    @given(configurations.confined(LINEAR, "eval", "forward",
                                   configs, frozenset({"features", "units"})))
    def draw(case):
        seen.append(case)

    draw()
    kept = {(c.params["features"], c.params["units"]) for c in seen}
    assert kept <= {(1, 1), (2, 2), (6, 3)} and len(kept) == 3  # only the known configurations, each of them
    assert len({c.params["batch"] for c in seen}) > 2  # the batch is drawn freely
    assert len({c.regime for c in seen}) > 2 and len({c.seed for c in seen}) > 10


def test_a_dim_that_depends_on_a_kept_one_follows_it():
    square = {"batch": st.integers(1, 4), "features": st.integers(1, 6), "units": lambda p: p["features"]}
    pair = replace(LINEAR, dims=square)
    seen = []

    @settings(max_examples=20, database=None, derandomize=True)
    @given(configurations.confined(pair, "eval", "forward", ({"batch": 1, "features": 5, "units": 5},),
                                   frozenset({"features"})))
    def draw(case):
        seen.append(case.params)

    draw()
    assert all(p["features"] == 5 and p["units"] == 5 for p in seen)


@pytest.mark.slow
def test_a_graph_record_builds_and_compiles_each_configuration_once_and_runs_many_examples_through_them():
    record = run_check(Target(LINEAR, "gradient", "float32", mode="graph"), profile="ci")
    assert record.verdict == "pass", record.message
    configs = record.coverage["configurations"]
    assert 2 <= configs <= configurations.MAX
    assert record.execution["layers_built"] == configs  # each configuration built (hence traced) once
    assert record.examples >= 3 * configs  # values, regimes and batch sizes through those builds
    assert len(set(record.coverage["dims"]["batch"])) == 2 and record.coverage["dims"]["batch"][1] > 1


@pytest.mark.slow
def test_a_serialization_record_exports_each_configuration_once_and_round_trips_several_inputs(monkeypatch):
    import keras

    exports = []
    original = keras.Model.export
    monkeypatch.setattr(keras.Model, "export", lambda self, *a, **k: exports.append(1) or original(self, *a, **k))
    record = run_check(Target(LINEAR, "serialization", "float64"), profile="ci")
    assert record.verdict == "pass", record.message
    assert len(exports) == record.examples <= configurations.MAX + 1  # the coverage cases' and one drawn
    assert record.coverage["configurations"] <= configurations.MAX
    assert any(name.endswith("(input 3)") for name in record.metrics)  # three input sets through each export
