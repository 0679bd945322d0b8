"""Graph mode: compiled runs are compared with eager ones, and examples do not retrace needlessly."""

from __future__ import annotations

import pytest

from harness.cases import Case
from harness.check import Target
from harness.checks import evaluate
from harness.engine import BUILT
from harness.spec import LayerPair
from tests import broken_pairs as bp


@pytest.mark.slow
def test_examples_that_differ_only_in_batch_reuse_the_layers_and_their_trace():
    from harness.sides import tf_side

    target = Target(bp.correct_linear, "forward", "float32", mode="graph")
    BUILT.reset()
    start = tf_side.traces()
    for batch in (1, 3, 2, 4):
        evaluation = evaluate(target, Case({"batch": batch, "features": 3, "units": 2}, "normal", batch))
        assert evaluation.ok, [m for m in evaluation.metrics if not m.ok]
    assert BUILT.built == 1
    # one trace for the first shape, one generalised over the batch (reduce_retracing), then none
    assert tf_side.traces() - start <= 2
    evaluate(target, Case({"batch": 1, "features": 4, "units": 2}, "normal", 0))
    assert BUILT.built == 2  # another configuration is another layer


def _torch_regroup(p):
    return lambda x: x.reshape(-1, p["features"])  # reads the dim when called, not when built


def _tf_regroup(p):
    import keras

    return lambda x: keras.ops.reshape(x, (-1, p["features"]))


# A newcomer's PixelShuffle port read its channel count inside the returned function: a layer reused for
# another configuration then reshaped with the channel count it was built with.
LAZY = LayerPair(name="lazy_regroup", origin=bp.ORIGIN, torch=_torch_regroup, tf=_tf_regroup, dims=bp.DENSE_DIMS,
                 inputs=bp.X, checks=("forward",))


def test_a_dim_a_factory_reads_only_when_its_layer_is_called_still_makes_a_configuration():
    target = Target(LAZY, "forward", "float32", mode="graph")
    BUILT.reset()
    for batch, features in ((2, 3), (1, 3), (1, 4), (3, 4), (2, 3)):
        evaluation = evaluate(target, Case({"batch": batch, "features": features, "units": 1}, "normal", batch))
        assert evaluation.ok, [m for m in evaluation.metrics if not m.ok]
    assert BUILT.built == 2  # the batch reuses a layer; features, read at call time, does not
    assert "features" in BUILT.reads["lazy_regroup"] and "batch" not in BUILT.reads["lazy_regroup"]


@pytest.mark.slow
def test_a_layer_whose_python_needs_static_shapes_is_traced_per_shape_with_xla_and_says_so():
    """An unrolled Keras RNN cannot be traced over an unknown time axis ("Cannot unroll a RNN if the time dimension
    is undefined"): the trace reduce_retracing generalises over two lengths raises, so the layer is traced per
    input shape from then on, as under a fully defined input_signature, and the record names why."""
    from conformance.catalogue.recurrent import PAIRS
    from harness.sides import tf_side

    pair = next(p for p in PAIRS if p.name == "my_rnn_sequence_001")
    target = Target(pair, "gradient", "float32", mode="graph")
    BUILT.reset()
    start = tf_side.traces()
    shapes = ((2, 3), (1, 4), (2, 5), (1, 4))
    for seed, (batch, time) in enumerate(shapes):
        evaluation = evaluate(target, Case({"batch": batch, "time": time, "input_size": 2, "hidden": 3}, "normal",
                                           seed))
        assert evaluation.ok, [m.name for m in evaluation.metrics if not m.ok]
    assert BUILT.built == 1  # one configuration: the time axis is the input's, not the layer's
    said = evaluation.execution["tf"]
    assert said.startswith("tf.function(jit_compile=True), traced per input shape")  # still XLA
    assert "Cannot unroll a RNN if the time dimension is undefined" in said
    # the first shape, the generalised trace that raised, then each new shape once; the repeated shape reuses its trace
    assert tf_side.traces() - start == 1 + 1 + 2


def test_graph_mode_compares_each_side_compiled_with_itself_eager():
    target = Target(bp.correct_linear, "gradient", "float64", mode="graph")
    BUILT.reset()
    evaluation = evaluate(target, Case({"batch": 2, "features": 3, "units": 2}, "normal", 0))
    names = {m.name for m in evaluation.metrics}
    assert {"grad x", "grad weight", "grad bias"} <= names  # across frameworks, compiled
    assert any(n.endswith("[torch.compile vs eager]") for n in names)
    assert any(n.endswith("[tf.function vs eager]") for n in names)
    assert evaluation.execution["tf"] == "tf.function(jit_compile=True)"
    assert evaluation.ok


@pytest.mark.slow
def test_a_module_dynamo_does_not_compile_is_named_so_in_the_record_with_its_graph_break():
    """torch.compile runs nn.LSTM eagerly (a graph break): a record that said only "torch.compile" claimed otherwise."""
    from harness import registry
    from harness.check import run_check
    from harness.report.execution import execution_block

    record = run_check(Target(registry.load(()).pairs["atlas_lstm"], "forward", "float32", mode="graph"),
                       max_examples=1, profile="smoke")
    assert record.verdict == "pass", record.message
    x = record.execution
    assert x["torch_compiles"] == 0 and x["torch"].endswith("compiled nothing, dynamo ran the module eagerly")
    assert list(x["torch_graph_breaks"]) == ["Attempted to wrap RNN, GRU, or LSTM"]
    assert "Attempted to wrap RNN, GRU, or LSTM</code> x " in execution_block(record)
    compiled = run_check(Target(bp.correct_linear, "forward", "float32", mode="graph"), max_examples=1,
                         profile="smoke").execution
    assert compiled["torch_compiles"] >= 1 and "torch_graph_breaks" not in compiled
    assert not compiled["torch"].endswith("eagerly")
