"""What porting a real model needs, each shown on a small pair (``tests/port_pairs.py``) and each able to fail.

Token ids and masks as inputs, keyed outputs (dicts, dataclass model outputs), weight maps
that reshape, split and join, stages deep in a model, and declarations scoped by the dims.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import version

import numpy as np
import pytest

from harness import Stage, bridge, registry
from harness.cases import Case
from harness.check import Target, run_check
from harness.checks.values import _localise
from harness.compare import policy_for
from harness.sides import Outcome, StageCall, named_leaves
from tests import port_pairs as pp


def run(pair, check="forward", dtype="float32", **kw):
    return run_check(Target(pair, check, dtype), max_examples=kw.pop("max_examples", 10), **kw)


# --- ids and masks --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", ["forward", "gradient"])
def test_token_ids_reach_both_sides_as_integers_and_take_no_gradient(check):
    record = run(pp.token_embedding, check)
    assert record.verdict == "pass", record.message
    assert record.coverage["non_degenerate"] > 0
    if check == "gradient":
        assert record.coverage["no_gradient"] == ["ids (int64)"]
        assert "grad weight" in record.metrics and "grad ids" not in record.metrics


def test_drawn_ids_stay_in_range_and_masks_keep_a_position_per_row():
    from harness.engine import draw_inputs

    for seed in range(20):
        case = Case({"batch": 3, "seq": 4, "vocab": 2, "dim": 1}, "large", seed)
        (ids,) = draw_inputs(pp.token_embedding, case, np.random.default_rng(seed), "float32")
        assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 2  # no regime scales ids
        x, mask = draw_inputs(pp.masked_mean, Case({"batch": 3, "seq": 4, "dim": 2}, "zeros", seed),
                              np.random.default_rng(seed), "float64")
        assert x.dtype == np.float64 and mask.dtype == np.bool_ and mask.any(axis=-1).all()


def test_a_masked_reduction_passes_with_its_mask_undifferentiated():
    record = run(pp.masked_mean, "gradient", "float64")
    assert record.verdict == "pass", record.message
    assert record.coverage["no_gradient"] == ["mask (bool)"] and "grad x" in record.metrics


def test_an_integer_tensor_without_a_range_is_refused_when_declared():
    from harness.spec import SpecError, Tensor

    with pytest.raises(SpecError, match="needs high="):
        Tensor("ids", ("batch",), dtype="int64")
    with pytest.raises(SpecError, match="dtype must be one of"):
        Tensor("ids", ("batch",), dtype="uint8")


# --- keyed outputs --------------------------------------------------------------------------------------------------


def test_named_leaves_key_dicts_dataclasses_and_tuples_and_drop_unset_outputs():
    out = pp.SumOutput(total=1, squares=(2, {"a": 3}))
    assert named_leaves(out) == [("total", 1), ("squares.0", 2), ("squares.1.a", 3)]
    assert named_leaves((4, [5])) == [("0", 4), ("1.0", 5)]
    assert named_leaves(6) == [("", 6)]


def test_keyed_outputs_are_matched_by_key_across_names_and_orders():
    for check in ("forward", "gradient"):
        record = run(pp.keyed_outputs, check)
        assert record.verdict == "pass", record.message
    assert {"output[total]", "output[squares]"} <= set(run(pp.keyed_outputs).metrics)


def test_a_wrong_keyed_output_is_named_by_its_key():
    record = run(pp.keyed_outputs_wrong)
    assert record.verdict == "fail"
    failing = [name for name, m in record.metrics.items() if not m["ok"]]
    assert failing == ["output[total]"]


def test_unmatched_output_keys_fail_and_say_which_keys():
    record = run(pp.keyed_outputs_unmapped)
    assert record.verdict == "fail"
    assert "output keys differ" in record.message
    assert "only torch: ['total', 'squares']" in record.message
    assert "only tf: ['sum_of_squares', 'sum']" in record.message


# --- weight maps that reshape, split and join -----------------------------------------------------------------------


@pytest.mark.parametrize("pair", [pp.split_heads, pp.packed_to_three, pp.three_to_fused], ids=lambda p: p.name)
def test_reshaping_splitting_and_joining_maps_pass_forward_and_gradient(pair):
    for check in ("forward", "gradient"):
        record = run(pair, check)
        assert record.verdict == "pass", record.message


def test_a_reshape_without_its_transpose_is_caught_where_the_shapes_fit():
    record = run(pp.split_heads_untransposed)
    assert record.verdict == "fail"
    assert record.minimal_case["params"]["hidden"] == 2  # a 1x1 weight is its own transpose


def test_a_map_may_name_the_keras_variable_path_and_a_wrong_path_lists_the_attribute_paths():
    assert run(pp.split_heads_by_variable_path, "gradient").verdict == "pass"
    wrong = replace(pp.deep_stages, weights={**pp.DEEP_MAP, "blocks.*.inner.lin.bias": "blocks.*.lin.bias"})
    record = run(wrong, max_examples=2)
    assert record.verdict == "error"
    assert "no TF variable is at that path" in record.message
    assert "'blocks.0.inner.lin.bias' (" in record.message  # the attribute path a Link takes, beside Keras's path


# --- stages ---------------------------------------------------------------------------------------------------------


def test_a_star_in_the_middle_of_a_stage_path_makes_one_stage_per_block():
    assert run(pp.deep_stages).verdict == "pass"
    record = run(pp.deep_stages_broken)
    assert record.verdict == "fail"
    assert record.localisation["first"] == "inner.1"


def test_a_stage_path_that_leads_nowhere_is_refused_before_anything_is_compared():
    record = run(pp.deep_stages_bad_path)
    assert record.verdict == "error" and record.examples == 0
    assert "torch stage 'inner': path 'blocks.*.innr' leads nowhere" in record.message


def test_localisation_ignores_a_stage_whose_difference_is_rounding_noise_against_the_composite():
    quiet = np.full((2, 2), 1e-12)
    th = Outcome([], stages=[StageCall("a", np.ones((2, 2)), None), StageCall("b", quiet, None)])
    tf_ = Outcome([], stages=[StageCall("a", np.ones((2, 2)), None), StageCall("b", quiet + 2.7e-17, None)])
    where = _localise(pp.deep_stages, _as_stages(th), _as_stages(tf_), policy_for("float64"), grad=False)
    assert where["first"] is None  # 2.7e-17 on values of 1e-12 is noise when the composite carries 1
    tf_.stages[1].output = quiet + 1e-6  # a difference the composite's float64 tolerance can see
    assert _localise(pp.deep_stages, _as_stages(th), _as_stages(tf_), policy_for("float64"), grad=False)["first"] \
        == "inner.1"


def _as_stages(outcome: Outcome) -> Outcome:
    """Name the calls as the pair's `inner` stage names them."""
    for i, call in enumerate(outcome.stages):
        call.name = f"inner.{i}"
    return outcome


def test_a_divergence_outside_the_declared_stages_names_the_undeclared_sublayers():
    record = run(replace(pp.deep_stages_broken, stages=(Stage("first", "blocks.0.inner", "blocks.0.inner"),)))
    assert record.verdict == "fail"
    assert "not declared as a stage: blocks.1.inner.lin (Linear)" in record.message


# --- declarations scoped by dims ------------------------------------------------------------------------------------


def test_a_declaration_scoped_by_the_dims_covers_its_corner_and_nothing_else():
    assert run(pp.scoped_declaration).verdict == "known-divergence"
    record = run(pp.misscoped_declaration)
    assert record.verdict == "fail"
    assert "outside its declared divergence's scope (a where= condition on the drawn params)" in record.message


# --- registration and environment -----------------------------------------------------------------------------------


def test_an_alias_registers_once_and_the_environment_records_what_the_pair_file_imports():
    catalogue = registry.load([pp.__file__], builtin=False)
    assert list(catalogue.pairs).count("token_embedding") == 1 and "embedding" not in catalogue.pairs
    found = registry.packages([pp.__file__])
    # imports at the top and inside the factories alike; the standard library is no package
    assert {"hypothesis", "torch", "keras"} <= set(found) and "dataclasses" not in found
    assert found["torch"] == version("torch")


def test_bridge_refuses_parts_that_do_not_tile_the_variable():
    entries = {"a": bridge.Entry((2, 3), True), "b": bridge.Entry((2, 3), True)}
    links = {"a": pp.Link("k", part=pp.Part(0, of=2, axis=1)), "b": pp.Link("k", part=pp.Part(0, of=2, axis=1))}
    with pytest.raises(bridge.WeightMapError, match="parts must be 0..of-1"):
        bridge.plan("p", links, entries, lambda path: (path, bridge.Entry((2, 6), True)),
                    {"k": bridge.Entry((2, 6), True)})


@pytest.mark.parametrize("pair", [pp.token_embedding, pp.masked_mean, pp.keyed_outputs], ids=lambda p: p.name)
def test_ids_masks_and_keyed_outputs_hold_compiled_and_through_a_save(pair):
    for check in ("forward", "gradient"):
        record = run_check(Target(pair, check, "float32", mode="graph"), max_examples=4)
        assert record.verdict == "pass", record.message
    record = run(pair, "serialization", max_examples=2)
    assert record.verdict == "pass", record.message


def test_a_scoped_declaration_whose_scope_is_never_drawn_says_so_instead_of_failing():
    record = run(pp.unreached_declaration)
    assert record.verdict == "pass"
    assert "none of the" in record.message and "drawn inside the declared divergence's scope" in record.message


def test_a_round_trip_that_returns_its_dict_in_another_order_is_matched_by_key():
    from harness.sides import in_order

    a, b = np.zeros(1), np.ones(2)
    # a SavedModel hands dict outputs back in an order of its own (sorted keys, here)
    assert in_order([("pooled", b), ("sequence", a)], ["sequence", "pooled"]) == (["sequence", "pooled"], [a, b])
    assert in_order([("0", b), ("1", a)], None) == (["0", "1"], [b, a])  # positional: as returned
    assert in_order([("x", b)], ["y"]) == (["x"], [b])  # keys that differ: as returned, for the check to report
