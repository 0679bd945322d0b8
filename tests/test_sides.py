"""The framework edges: same floating-point environment, VJPs, variables by attribute path."""

from __future__ import annotations

import numpy as np

from harness.sides import tf_side, torch_side

TINY = np.array([[1e-10, 2.0]], dtype=np.float32)


def test_both_sides_flush_subnormals_and_the_process_does_not_inherit_it():
    th = torch_side.run(lambda x: x * 1e-30, [TINY], {}, None, mode="eval", device="cpu")
    tf_ = tf_side.run(lambda x: x * 1e-30, [TINY], {}, None, mode="eval")
    assert th.outputs[0][0, 0] == tf_.outputs[0][0, 0] == 0.0  # 1e-40 is subnormal in float32
    assert th.outputs[0][0, 1] == np.float32(2e-30)
    assert np.float32(1e-40) != 0  # numpy and hypothesis still see IEEE subnormals


def test_vjp_uses_the_cotangent_and_reports_unused_parameters_as_none():
    import torch

    class Half(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.used = torch.nn.Parameter(torch.tensor([3.0]))
            self.unused = torch.nn.Parameter(torch.tensor([1.0]))

        def forward(self, x):
            return x * self.used

    x = np.array([[2.0]], dtype=np.float32)
    out = torch_side.run(Half(), [x], {}, lambda outs: [np.full_like(outs[0], 5.0)], mode="eval", device="cpu")
    assert out.input_grads[0][0, 0] == 15.0 and out.param_grads["used"][0] == 10.0
    assert out.param_grads["unused"] is None


def test_tf_variables_resolve_by_attribute_path_including_list_indices():
    import keras

    class Stack(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [keras.layers.Dense(2), keras.layers.Dense(3)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    layer = tf_side.build(lambda p: Stack(), {}, "float64", [np.zeros((1, 4))], {})
    key, entry = tf_side.resolve(layer, "blocks.1.kernel")
    assert entry.shape == (2, 3) and entry.trainable and key in tf_side.entries(layer)
    assert layer.blocks[1].kernel.dtype == "float64"
    assert tf_side.resolve(layer, "blocks.2.kernel") is None
    assert tf_side.resolve(layer, "blocks.1") is None  # a layer, not a variable
