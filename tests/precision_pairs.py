"""Pairs that compute the same function where one side is, on purpose, the less accurate one.

They let the tests know the right answer to "which framework is off": the side that adds and
subtracts 1e4 around ``x`` loses float32 digits (and nothing a float64 tolerance can see), the
side that rounds through float32 inside a float64 run is off by float32 rounding. A pair file
(``conform run --pairs-from tests/precision_pairs.py``), used by ``tests/test_oracle.py``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import LayerPair, Origin, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="planted precision effect")
DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4)}
X = (Tensor("x", ("batch", "features")),)


def _torch_times_three(_p):
    return lambda x: x * 3.0


def _tf_times_three_through_1e4(_p):
    import tensorflow as tf

    return lambda x: ((x + tf.constant(1e4, x.dtype)) - tf.constant(1e4, x.dtype)) * 3.0


def _torch_times_three_in_float32(_p):
    return lambda x: (x.float() * 3.0).to(x.dtype)


def _tf_times_three(_p):
    return lambda x: x * 3.0


def _torch_leaky_relu(_p):
    import torch

    return torch.nn.LeakyReLU(0.01)


def _keras_leaky_relu(_p):
    import keras

    return keras.layers.LeakyReLU(negative_slope=0.01)


tf_loses_digits = LayerPair(
    name="tf_loses_digits", origin=ORIGIN, torch=_torch_times_three, tf=_tf_times_three_through_1e4, dims=DIMS,
    inputs=X, description="3x; TF computes 3((x + 1e4) - 1e4), which float32 rounds to multiples of 1e-3",
)
torch_rounds_through_float32 = LayerPair(
    name="torch_rounds_through_float32", origin=ORIGIN, torch=_torch_times_three_in_float32, tf=_tf_times_three,
    dims=DIMS, inputs=X, description="3x; torch computes it in float32 whatever the dtype",
)
leaky_relu_slope_0_01 = LayerPair(
    name="leaky_relu_slope_0_01", origin=Origin(seed="tests", tutorial_name="nn.LeakyReLU / keras LeakyReLU"),
    torch=_torch_leaky_relu, tf=_keras_leaky_relu, dims=DIMS, inputs=X,
    description="both 0.01; TF's LeakyRelu op keeps alpha as a float32 attribute, in float64 too",
)
