"""Converter pairs: the probe reads a converter's weight map exactly, names what is arithmetic, and every check fails
on a planted converter bug (``tests/converter_pairs.py``).

The probe is tested where its answer can be checked by hand (a ``Dense`` kernel is torch's
weight transposed) and through whole records, as a user meets it: a converter that scales a
weight is refused for gradients with the variable, the tensor and the factor; one that swaps
two attention heads fails forward, localised to its block; tied weights sum their gradients.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from harness import TRANSPOSE, Converter, LayerPair, Link, bridge, converters
from harness.check import Target, run_check
from harness.sides import tf_side, torch_side
from harness.spec import SpecError
from tests import converter_pairs as cp
from tests.e2e import ROOT, conform, records

PAIRS = ROOT / "tests" / "converter_pairs.py"
README = ROOT / "README.md"


def run(pair, check="gradient", dtype="float64", **kw):
    return run_check(Target(pair, check, dtype), max_examples=kw.pop("max_examples", 6), **kw)


def probed(pair, dtype="float64", **params):
    """The pair's torch module at ``params``, a thunk converting it as it stands, and the probe's map."""
    th = torch_side.build(pair.torch, params, dtype, "cpu", 0)

    def convert():
        return tf_side.build(lambda _: pair.tf.convert(th), params, dtype, [], {})

    return th, convert, converters.probe(pair.name, pair.tf.name, th, convert, dtype)


def float_keys(model):
    return [k for k, v in tf_side.state(model).items() if np.issubdtype(v.dtype, np.floating)]


# --- a converter that only moves values: read exactly ----------------------------------------------------------------


def test_the_probed_map_of_a_transposing_converter_pulls_gradients_back_as_the_hand_written_map_does():
    th, convert, index = probed(cp.dense_converted, n_in=3, n_out=2)
    model = convert()
    keys = float_keys(model)
    assert [index.describe(landing) for landing in index.landings] == ["'weight' (2, 3): transpose",
                                                                       "'bias' (2,): identity"]
    hand = bridge.plan("dense", {"weight": Link("stack.0.kernel", TRANSPOSE), "bias": Link("stack.0.bias")},
                       torch_side.entries(th), lambda path: tf_side.resolve(model, path), tf_side.entries(model))
    rng = np.random.default_rng(0)
    grads = {k: rng.standard_normal(v.shape) for k, v in tf_side.state(model).items() if k in keys}
    probed_back, hand_back = bridge.from_tf(grads, index.slots(keys)), bridge.from_tf(grads, hand)
    assert probed_back.keys() == hand_back.keys() == {"weight", "bias"}
    for name in hand_back:
        np.testing.assert_array_equal(probed_back[name], hand_back[name])


@pytest.mark.parametrize("check", ["parameters", "forward", "gradient"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_correct_converter_passes_every_check_it_declares(check, dtype):
    record = run(cp.dense_converted, check, dtype)
    assert record.verdict == "pass", record.message
    if check != "forward":  # the record lists the probed map, as it lists an atlas-resolved one
        assert set(record.weight_map) == {"weight", "bias"} and "/kernel (" in record.weight_map["weight"]


def test_the_probe_costs_two_conversions_for_a_converter_that_only_moves_values():
    calls = []
    counting = Converter(lambda m: calls.append(1) or cp.to_dense(m), "counted")
    pair = LayerPair(name="counted", origin=cp.ORIGIN, torch=cp.torch_linear, tf=counting, dims=cp.DENSE_DIMS,
                     inputs=cp.X, checks=("gradient",))
    probed(pair, n_in=3, n_out=2)
    assert len(calls) == 2


# --- arithmetic: named, and refused ---------------------------------------------------------------------------------


def test_the_probe_names_a_converter_that_scales_a_weight_its_variable_tensor_and_factor():
    with pytest.raises(converters.ConverterMapError) as caught:
        probed(cp.dense_scaled, n_in=3, n_out=2)
    problems = caught.value.problems
    assert len(problems) == 2
    assert "kernel" in problems[0] and "(stack.0.kernel) (3, 2): torch 'weight' scaled by 2, laid out by transpose" \
        in problems[0], problems
    assert "(stack.0.bias) (2,): torch 'bias' scaled by 2" in problems[1], problems
    assert "only move values" in str(caught.value)


def test_a_scaling_converter_passes_forward_but_its_gradient_and_parameters_are_refused_with_the_factor():
    assert run(cp.dense_scaled, "forward", "float32").verdict == "pass"  # the Rescaling(0.5) hides it there
    gradient = run(cp.dense_scaled, "gradient")
    assert gradient.verdict == "error" and "torch 'weight' scaled by 2" in gradient.message
    parameters = run(cp.dense_scaled, "parameters")
    assert parameters.verdict == "fail" and "torch 'bias' scaled by 2" in parameters.message


def test_the_probe_names_an_offset_and_a_mix_of_tensors():
    with pytest.raises(converters.ConverterMapError, match=r"torch 'bias' offset by 0.5"):
        probed(cp.dense_offset, n_in=2, n_out=3)
    with pytest.raises(converters.ConverterMapError) as caught:
        probed(cp.dense_summed, n_in=2, n_out=3)
    (problem,) = caught.value.problems
    assert "bias" in problem and "combine several torch tensors" in problem
    assert "'linear.bias'" in problem and "'shift'" in problem


def test_a_computation_the_codes_cannot_show_is_caught_on_the_examples_own_weights():
    _, _, index = probed(cp.dense_abs, n_in=2, n_out=3)  # every code is positive: abs() moves them unchanged
    assert index.describe(index.landings[0]) == "'weight' (3, 2): transpose"
    record = run(cp.dense_abs)
    assert record.verdict == "error", record.message
    assert "differ from the values it moved at the probe" in record.message and "'weight'" in record.message


def test_a_float32_cast_is_invisible_in_float32_and_a_named_finding_in_float64():
    assert run(cp.dense_cast, dtype="float32").verdict == "pass"
    record = run(cp.dense_cast, dtype="float64")
    assert record.verdict == "fail"
    finding = next(m for name, m in record.metrics.items() if name.startswith("converter "))
    assert "rounds torch 'weight' through float32" in finding["note"]


def test_a_float16_cast_that_rounds_the_probes_codes_is_still_read_and_named():
    _, _, index = probed(cp.dense_half, "float32", n_in=3, n_out=2)  # codes from 4096: float16 keeps 11 bits
    assert index.describe(index.landings[0]) == "'weight' (2, 3): transpose"
    record = run(cp.dense_half, dtype="float32")
    assert record.verdict == "fail"
    assert "through float16" in next(m["note"] for n, m in record.metrics.items() if n.startswith("converter "))


def test_the_parameters_check_names_a_torch_parameter_the_converter_drops():
    record = run(cp.dense_dropped, "parameters")
    assert record.verdict == "fail"
    assert "torch parameter 'bias'" in record.message and "moves 0 of its" in record.message
    assert "do not come from torch" in record.message


# --- a planted head swap: forward fails, localised --------------------------------------------------------------------


def test_a_converter_that_swaps_two_attention_heads_fails_forward_localised_to_its_block():
    assert run(cp.attention_converted, "forward", "float32").verdict == "pass"
    record = run(cp.attention_swapped, "forward", "float32")
    assert record.verdict == "fail", record.message
    assert record.localisation["first"] == "block.1", record.localisation
    assert record.minimal_case["params"]["seq"] >= 2  # one key position: attention ignores the queries


def test_an_attention_converters_map_splits_the_packed_projection_and_its_gradients_pass():
    _, convert, index = probed(cp.attention_converted, batch=1, seq=2, heads=2, head_dim=4, embed=8)
    described = [index.describe(landing) for landing in index.landings[:2]]
    assert described == ["'block.0.in_proj_weight' (24, 8): slice [0:8, :], transpose, reshape (8, 2, 4)",
                         "'block.0.in_proj_bias' (24,): slice [0:8], reshape (2, 4)"]
    assert run(cp.attention_converted, "gradient", "float64", max_examples=3).verdict == "pass"


# --- tied weights -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", [cp.tied_layers, cp.tied_halves], ids=lambda p: p.name)
def test_one_torch_value_in_two_keras_places_gets_the_sum_of_their_gradients(pair):
    record = run(pair)
    assert record.verdict == "pass", record.message
    assert "grad linear.weight" in record.metrics


def test_the_tied_checks_fail_if_gradients_were_not_summed(monkeypatch):
    def last_only(self, x):
        grads = [np.asarray(g) for g in (x if self.parts > 1 else (x,))]
        out = np.zeros(int(np.prod(self.torch_shape)))
        for source, grad in zip(self.sources, grads, strict=True):
            out[source[source >= 0]] = grad[source >= 0]  # overwrites: the first place's gradient is lost
        return out.reshape(self.torch_shape)

    monkeypatch.setattr(converters.Gather, "inverse", last_only)
    for pair in (cp.tied_layers, cp.tied_halves):
        record = run(pair)
        assert record.verdict == "fail" and not record.metrics["grad linear.weight"]["ok"], pair.name


def test_gather_scatter_adds_an_element_that_sits_twice():
    gather = converters.Gather("g", (2,), (np.array([0, 1, 0]), np.array([[1]])))
    first, second = gather.forward(np.array([5.0, 7.0]))
    np.testing.assert_array_equal(first, [5.0, 7.0, 5.0])
    np.testing.assert_array_equal(second, [[7.0]])
    np.testing.assert_array_equal(gather.inverse([np.array([1.0, 2.0, 3.0]), np.array([[10.0]])]), [4.0, 12.0])


# --- declaring one -------------------------------------------------------------------------------------------------


def test_a_converter_pair_declares_no_weight_map_and_no_check_that_moves_values_back():
    spec = {"origin": cp.ORIGIN, "torch": cp.torch_linear, "tf": Converter(cp.to_dense), "dims": cp.DENSE_DIMS,
            "inputs": cp.X}
    with pytest.raises(SpecError, match="probed off its converter; leave weights= out"):
        LayerPair(name="mapped", weights={"weight": "kernel"}, **spec)
    with pytest.raises(SpecError, match=r"checks \['state'\]"):
        LayerPair(name="stateful", checks=("forward", "state"), **spec)
    assert LayerPair(name="fine", **spec).describe()["weights"] == {"converter": "to_dense"}
    with pytest.raises(SpecError, match="Received: convert='to_dense'"):
        Converter("to_dense")


def test_from_pretrained_names_a_keras_hub_backbone():
    with pytest.raises(SpecError, match="Received: backbone='keras_hub.models.BertBackbone'"):
        converters.from_pretrained("keras_hub.models.BertBackbone")
    assert converters.from_pretrained("BertBackbone").name.startswith("keras_hub.models.BertBackbone.from_preset")


def test_conform_map_prints_a_converters_probed_map():
    result = conform("map", "--pairs-from", str(PAIRS), "dense_converted", "attention_converted", "dense_scaled",
                     "--dims", "n_in=3,n_out=2,heads=2", "--strict", cwd=ROOT)
    out = result.stdout
    assert "(stack.0.kernel) (3, 2) <- 'weight' (2, 3): transpose" in out, out + result.stderr
    assert "(block.1.query_dense.kernel) (8, 2, 4) <- 'block.1.in_proj_weight' (24, 8): slice [0:8, :], transpose, " \
           "reshape (8, 2, 4)" in out
    assert "torch 'weight' scaled by 2, laid out by transpose" in out
    assert result.returncode == 1  # --strict: the scaling converter's two problems are findings


def test_a_frozen_torch_parameter_is_kept_and_takes_no_gradient():
    def frozen(p):
        linear = cp.torch_linear(p)
        linear.bias.requires_grad_(False).zero_()  # a released checkpoint's zero, not trained
        return linear

    pair = LayerPair(name="frozen_bias", origin=cp.ORIGIN, torch=frozen, tf=Converter(cp.to_dense), dims=cp.DENSE_DIMS,
                     inputs=cp.X, checks=("gradient",))
    record = run(pair)
    assert record.verdict == "pass", record.message
    assert "grad weight" in record.metrics and "grad bias" not in record.metrics


@pytest.mark.slow
def test_the_readme_converter_example_runs_and_passes(tmp_path):
    text = README.read_text().split("<!-- converter-example", 1)[1]
    (tmp_path / "my_converter.py").write_text(re.search(r"```python\n(.*?)```", text, re.S).group(1))
    result = subprocess.run([sys.executable, "-m", "harness", "run", "--pairs-from", "my_converter.py",
                             "--profile", "smoke", "--out", "out"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(tmp_path / "out")
    assert {r["verdict"] for r in found} == {"pass"}, [r["message"][:300] for r in found]
    assert len(found) == 2 * 5  # forward and gradient (eval, graph) and serialization, in two dtypes
