"""The atlas: its translations, its lint, its weight maps, and ``conform map``.

The atlas pairs themselves run in the conformance suite (``conformance/catalogue/atlas.py``):
every correct configuration must pass, every convention must reproduce. Here the pieces the
pairs do not exercise alone: that each translation carries every setting (the lint finds no
difference between a module and its own translation, and finds the one a port changed), that
the lint reports every default mismatch of models built with each framework's defaults, and
that the atlas writes the same maps people wrote by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from harness import bridge, registry
from harness.atlas import ATLAS
from harness.atlas.match import map_layers
from harness.atlas.pairs import pairs
from harness.atlas.tool import build, compare, params_for
from harness.bridge import Entry
from harness.spec import Link, Part
from tests.e2e import conform

BUILTINS = Path(__file__).with_name("builtin_pairs.py")
ATLAS_PAIRS = {p.name: p for p in pairs(ATLAS)}
CORRECT = sorted(n for n, p in ATLAS_PAIRS.items() if p.origin.atlas["kind"] == "counterpart")


def test_the_atlas_covers_every_counterpart_the_issue_lists():
    torch_types = {t for cp in ATLAS for t in cp.torch}
    for name in ("Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d",
                 "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d",
                 "LayerNorm", "GroupNorm", "Embedding", "RNN", "LSTM", "GRU", "MultiheadAttention", "PReLU", "ELU",
                 "LeakyReLU", "GELU", "Softmax", "ZeroPad2d"):
        assert name in torch_types, name
    keras_types = {k for cp in ATLAS for k in cp.keras}
    for name in ("EinsumDense", "DepthwiseConv2D", "SeparableConv2D", "GlobalAveragePooling2D"):
        assert name in keras_types, name


def test_every_convention_states_its_measured_effect_and_declares_it_unless_the_defaults_agree():
    conventions = [p for p in ATLAS_PAIRS.values() if p.origin.atlas["kind"] == "convention"]
    assert len(conventions) >= 15
    for pair in conventions:
        atlas = pair.origin.atlas
        assert atlas["effect"].strip() and atlas["torch_default"] and atlas["keras_default"], pair.name
        if atlas["agrees"] == "no":
            assert pair.known_divergences and all(k.strict for k in pair.known_divergences), pair.name
            assert atlas["effect"] in pair.known_divergences[0].reason
        else:
            assert not pair.known_divergences, pair.name


@pytest.mark.parametrize("name", CORRECT)
def test_a_module_and_its_own_translations_both_ways_differ_in_no_setting(name):
    pair = ATLAS_PAIRS[name]
    params = params_for(pair, {})
    th, tf, _run = build(pair, params)
    cp = next(cp for cp in ATLAS if cp.name == pair.origin.atlas["counterpart"])
    mapping = map_layers(th, tf, root=cp)
    assert not mapping.unmatched, mapping.unmatched
    assert mapping.differences == []
    assert cp.differences(cp.to_torch(tf), tf) == []  # and back: Keras -> torch keeps every setting too


def test_the_lint_names_the_setting_a_port_left_at_the_keras_default():
    import keras
    import torch

    th = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3, eps=1e-5))
    tf = keras.Sequential([keras.layers.Dense(3), keras.layers.LayerNormalization()])
    tf(np.zeros((1, 4), "float32"))
    found = map_layers(th, tf)
    assert not found.unmatched
    [difference] = found.differences
    assert re.fullmatch(r"1: torch LayerNorm eps 1e-05, Keras layer_normalization(_\d+)? epsilon 0.001", difference)
    fixed = keras.Sequential([keras.layers.Dense(3), keras.layers.LayerNormalization(epsilon=1e-5)])
    fixed(np.zeros((1, 4), "float32"))
    assert map_layers(th, fixed).differences == []


def _settings(differences):
    return sorted(d.split(": ", 1)[1].split(" ")[2] for d in differences)


def test_the_lint_reports_every_default_mismatch_of_a_small_cnn_built_from_each_frameworks_defaults():
    import keras
    import torch

    th = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.LeakyReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ELU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(4, 2))
    tf = keras.Sequential([
        keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(), keras.layers.LeakyReLU(),
        keras.layers.MaxPooling2D(2), keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization(),
        keras.layers.ELU(), keras.layers.GlobalAveragePooling2D(keepdims=True), keras.layers.Flatten(),
        keras.layers.Dense(2)])
    tf(np.zeros((1, 12, 12, 3), "float32"))
    found = map_layers(th, tf)
    assert not found.unmatched, found.unmatched
    assert len(found.weights) == 2 * 2 + 2 * 5 + 2
    # both batch norms: epsilon and momentum; the leaky ReLU: its slope. ELU's alpha agrees (1.0 both)
    assert _settings(found.differences) == ["eps", "eps", "momentum", "momentum", "negative_slope"]


def test_the_lint_reports_every_default_mismatch_of_a_small_transformer_block():
    import keras
    import torch

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = torch.nn.MultiheadAttention(8, 2, batch_first=True)
            self.norm1 = torch.nn.LayerNorm(8)
            self.up = torch.nn.Linear(8, 16)
            self.act = torch.nn.GELU()
            self.down = torch.nn.Linear(16, 8)
            self.norm2 = torch.nn.LayerNorm(8)

    th = Block()
    attention = keras.layers.MultiHeadAttention(2, 4)
    layers = [keras.layers.LayerNormalization(), keras.layers.Dense(16), keras.layers.Activation("gelu"),
              keras.layers.Dense(8), keras.layers.LayerNormalization()]
    x = np.zeros((1, 3, 8), "float32")
    attention(x, x)
    keras.Sequential(layers)(x)
    tf = keras.layers.Layer()
    tf.attention, tf.norm1, tf.up, tf.act, tf.down, tf.norm2 = attention, *layers
    found = map_layers(th, tf)
    assert not found.unmatched, found.unmatched
    assert _settings(found.differences) == ["eps", "eps"]


def test_the_atlas_writes_the_maps_written_by_hand_for_the_builtin_pairs():
    catalogue = registry.load([str(BUILTINS)], builtin=False)
    counted = 0
    for pair in catalogue.pairs.values():
        if not pair.weights:
            continue
        params = params_for(pair, {})
        th, tf, run = build(pair, params)
        result = compare(pair, map_layers(th, tf, run), th, tf, params)
        assert not result.different, (pair.name, result.different)
        counted += len(result.same)
    assert counted >= 12


def test_auto_weights_refuse_a_model_the_atlas_cannot_match_with_every_reason():
    import keras
    import torch

    from harness.engine import auto_weights

    th = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    tf = keras.Sequential([keras.layers.Dense(3)])
    tf(np.zeros((1, 4), "float32"))
    with pytest.raises(bridge.WeightMapError) as caught:
        auto_weights("no_norm", th, tf)
    assert any("'1.weight'" in p and "no Keras LayerNormalization" in p for p in caught.value.problems)


def test_summed_parts_fill_one_variable_with_their_sum_and_each_gets_its_whole_gradient():
    entries = {"b_ih": Entry((3,), True), "b_hh": Entry((3,), True)}
    tf_entries = {"bias": Entry((3,), True)}
    weights = {"b_ih": Link("bias", part=Part(0, of=2, summed=True)),
               "b_hh": Link("bias", part=Part(1, of=2, summed=True))}
    slots = bridge.plan("p", weights, entries, lambda path: ("bias", tf_entries["bias"]) if path == "bias" else None,
                        tf_entries)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    assert np.array_equal(bridge.to_tf({"b_ih": a, "b_hh": b}, slots)["bias"], a + b)
    grads = bridge.from_tf({"bias": np.array([0.5, 1.0, 1.5])}, slots)
    assert np.array_equal(grads["b_ih"], [0.5, 1.0, 1.5]) and np.array_equal(grads["b_hh"], [0.5, 1.0, 1.5])


@pytest.mark.slow
def test_conform_map_prints_a_map_that_pastes_back_and_lints_with_strict(tmp_path):
    result = conform("map", "--pairs-from", str(BUILTINS), "builtin_conv2d_same", "builtin_batch_norm2d",
                     "--compare", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'weight': Link('kernel', CONV2D_OIHW_TO_HWIO)" in result.stdout
    assert "'running_var': Link('moving_variance', init='positive')" in result.stdout
    assert "the atlas reproduces 4 of 4 hand-written entries exactly" in result.stdout
    strict = conform("map", "atlas_batch_norm_eps", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert re.search(r"torch BatchNorm2d eps 1e-05, Keras batch_normalization(_\d+)? epsilon 0.001", strict.stdout)
    unknown = conform("map", "no_such_pair", cwd=tmp_path)
    assert unknown.returncode == 2 and "no_such_pair" in unknown.stderr


def _convention_record(verdict: str, error: float):
    from harness.results import Record

    atlas = {"kind": "convention", "counterpart": "layer_norm", "setting": "eps / epsilon", "torch": "nn.LayerNorm",
             "keras": "keras.layers.LayerNormalization", "torch_default": "1e-05", "keras_default": "0.001",
             "effect": "measured", "agrees": "no"}
    metrics = {"output": {"headroom": 50.0, "max_abs_error": error, "ok": False}} if error else {}
    return Record(pair="atlas_layer_norm_eps", check="forward", dtype="float64", device="cpu", mode="eval",
                  verdict=verdict, origin={"seed": "harness/atlas", "tutorial_name": "x", "atlas": atlas},
                  metrics=metrics, examples=10)


def test_the_gate_names_a_convention_that_changed_between_two_releases():
    from harness.gate import Side, Thresholds, gate

    def side(record, name):
        return Side([Path(name)], {record.key: record}, {})

    changed = gate(side(_convention_record("known-divergence", 3e-4), "old"),
                   side(_convention_record("fail", 0), "new"), Thresholds())
    [finding] = [f for f in changed.findings if f.kind == "convention changed"]
    assert finding.pair == "atlas_layer_norm_eps" and finding.crosses and changed.code == 1
    assert finding.baseline == "differ, as declared" and finding.candidate.startswith("changed")
    same = gate(side(_convention_record("known-divergence", 3e-4), "old"),
                side(_convention_record("known-divergence", 2e-4), "new"), Thresholds())
    assert not [f for f in same.findings if f.kind == "convention changed"]


def test_a_weights_auto_record_lists_the_map_it_used():
    from harness.check import Target, run_check

    record = run_check(Target(ATLAS_PAIRS["atlas_linear_dense"], "forward", "float64"), max_examples=3)
    assert record.verdict == "pass"
    assert record.weight_map["weight"] == "Link('kernel', TRANSPOSE)"


def test_two_directions_on_one_keras_cell_do_not_fit():
    """A torch bidirectional LSTM's map on a unidirectional Keras LSTM would put both directions on one cell."""
    import keras
    import torch

    tf = keras.layers.LSTM(3, return_sequences=True)
    tf(np.zeros((1, 2, 4), "float32"))
    found = map_layers(torch.nn.LSTM(4, 3, batch_first=True, bidirectional=True), tf)
    assert not found.matched and found.unmatched


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.slow
def test_conform_map_reproduces_the_real_model_examples_hand_written_maps(tmp_path):
    """HF BertModel vs keras_hub BertBackbone, HF ResNetModel vs keras_hub ResNetBackbone: the atlas's maps."""
    result = conform("map", "--pairs-from", str(EXAMPLES / "hf_bert.py"), "--pairs-from",
                     str(EXAMPLES / "hf_resnet.py"), "bert_backbone", "resnet_basic", "resnet_bottleneck",
                     "--dims", "layers=2,heads=2,head_dim=3,intermediate=5,vocab=7", "--compare", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "bert_backbone: the atlas reproduces 38 of 39 hand-written entries exactly" in out
    # keras_hub's PositionEmbedding is no Keras built-in: the one entry left, and said why
    assert "differs: embeddings.position_embeddings.weight: not mapped by the atlas" in out
    assert "resnet_basic: the atlas reproduces 30 of 30 hand-written entries exactly" in out
    assert "resnet_bottleneck: the atlas reproduces 45 of 45 hand-written entries exactly" in out
    # keras_hub pads with a ZeroPadding2D before each padded convolution: not a setting that differs
    assert "Conv2d padding" not in out
