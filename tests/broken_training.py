"""Planted bugs for the checks beyond one inference forward: state, statistics, serialisation,
training steps and compiled execution. Each has a control that must pass.

Like ``broken_pairs.py``, a pair file in the user-facing sense; frameworks load inside the
factories only.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import RUNNING_VARIANCE, TRAIN_STEP, batch_norm_map
from harness import TRANSPOSE, LayerPair, Link
from harness.spec import DEFAULT_CHECKS, Dropout
from tests.broken_pairs import DENSE_DIMS, LINEAR_MAP, ORIGIN, X, tf_dense, torch_linear

RATE_DIMS = {"batch": st.integers(1, 4), "features": st.integers(1, 6), "rate": st.sampled_from([0.2, 0.5])}
BN_DIMS = {"batch": st.integers(2, 4), "features": st.integers(1, 4)}


def _torch_dropout(p):
    import torch

    return torch.nn.Dropout(p["rate"])


def _keras_dropout(p, rate_factor: float = 1.0):
    import keras

    return keras.layers.Dropout(p["rate"] * rate_factor)


def _keras_fixed_mask(p):
    """Dropout that draws its mask once and reuses it: right rate, right scale, not random per call."""
    import keras
    import numpy as np

    class FixedMask(keras.layers.Layer):
        def call(self, x, training=False):
            if not training:
                return x
            if not hasattr(self, "mask"):
                rng = np.random.default_rng(0)
                keep = rng.random(tuple(x.shape)) >= p["rate"]
                self.mask = keep.astype(keras.backend.standardize_dtype(x.dtype)) / (1 - p["rate"])
            return x * self.mask

    return FixedMask()


def _torch_batch_norm(p, momentum: float):
    import torch

    return torch.nn.BatchNorm1d(p["features"], eps=1e-3, momentum=momentum)


def _keras_batch_norm(_p):
    import keras

    return keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3)


def _scale(framework: str, complete_config: bool):
    """A layer ``x * factor``; the Keras one may forget ``factor`` in ``get_config``."""

    def make(p):
        if framework == "torch":
            import torch

            class Scale(torch.nn.Module):
                def forward(self, x):
                    return x * p["factor"]

            return Scale()
        import keras

        @keras.saving.register_keras_serializable("tests", "Scale" if complete_config else "ForgetfulScale")
        class Scale(keras.layers.Layer):
            def __init__(self, factor=1.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def get_config(self):
                extra = {"factor": self.factor} if complete_config else {}
                return {**super().get_config(), **extra}

        return Scale(p["factor"])

    return make


def _keras_constrained_dense(p):
    """A Dense whose kernel the optimiser clips to >= 0 after every step; the torch port forgot it."""
    import keras

    return keras.layers.Dense(p["units"], kernel_constraint=keras.constraints.NonNeg())


def _keras_eager_only_branch(_p):
    """A layer that takes another code path when traced, as code guarded by executing_eagerly() does."""
    import keras
    import tensorflow as tf

    class EagerOnly(keras.layers.Layer):
        def call(self, x):
            return x if tf.executing_eagerly() else x * 1.5

    return EagerOnly()


def _identity(_p):
    return lambda x: x * 1.0


SCALE_DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 4), "factor": st.sampled_from([2.0, 3.0])}

wrong_dropout_rate = LayerPair(
    name="wrong_dropout_rate", origin=ORIGIN, torch=_torch_dropout, tf=lambda p: _keras_dropout(p, 0.5),
    dims=RATE_DIMS, inputs=X, modes=("eval", "train"), dropout=Dropout("rate"),
    description="the Keras twin drops with half the declared rate",
)
right_dropout_rate = LayerPair(
    name="right_dropout_rate", origin=ORIGIN, torch=_torch_dropout, tf=_keras_dropout, dims=RATE_DIMS,
    inputs=X, modes=("eval", "train"), dropout=Dropout("rate"), description="the control: built-in dropouts",
)
fixed_dropout_mask = LayerPair(
    name="fixed_dropout_mask", origin=ORIGIN, torch=_torch_dropout, tf=_keras_fixed_mask, dims=RATE_DIMS,
    inputs=X, modes=("eval", "train"), dropout=Dropout("rate"),
    description="the Keras twin draws one mask and reuses it on every call",
)
momentum_unconverted = LayerPair(
    name="momentum_unconverted", origin=ORIGIN, torch=lambda p: _torch_batch_norm(p, momentum=0.99),
    tf=_keras_batch_norm, dims=BN_DIMS, inputs=X, weights=batch_norm_map(), modes=("train",),
    checks=(*DEFAULT_CHECKS, "state"), known_divergences=(RUNNING_VARIANCE,),
    description="Keras's momentum 0.99 passed to torch as is (torch's meaning: 0.01)",
)
momentum_converted = LayerPair(
    name="momentum_converted", origin=ORIGIN, torch=lambda p: _torch_batch_norm(p, momentum=1 - 0.99),
    tf=_keras_batch_norm, dims=BN_DIMS, inputs=X, weights=batch_norm_map(), modes=("train",),
    checks=(*DEFAULT_CHECKS, "state"), known_divergences=(RUNNING_VARIANCE,),
    description="the control: momentum converted; only the declared running-variance rule differs",
)
config_forgets_argument = LayerPair(
    name="config_forgets_argument", origin=ORIGIN, torch=_scale("torch", True), tf=_scale("tf", False),
    dims=SCALE_DIMS, inputs=X, description="the Keras layer's get_config leaves out `factor`",
)
config_complete = LayerPair(
    name="config_complete", origin=ORIGIN, torch=_scale("torch", True), tf=_scale("tf", True), dims=SCALE_DIMS,
    inputs=X, description="the control: get_config has every argument",
)
forgotten_constraint = LayerPair(
    name="forgotten_constraint", origin=ORIGIN, torch=torch_linear, tf=_keras_constrained_dense, dims=DENSE_DIMS,
    inputs=X, weights={"weight": Link("kernel", TRANSPOSE), "bias": "bias"}, train_step=TRAIN_STEP,
    description="Keras clips the kernel to >= 0 after each optimiser step; the torch port has no constraint",
)
trained_linear = LayerPair(
    name="trained_linear", origin=ORIGIN, torch=torch_linear, tf=tf_dense, dims=DENSE_DIMS, inputs=X,
    weights=LINEAR_MAP, train_step=TRAIN_STEP, description="the control: a correct port trains alike",
)
eager_only_branch = LayerPair(
    name="eager_only_branch", origin=ORIGIN, torch=_identity, tf=_keras_eager_only_branch, dims=DENSE_DIMS,
    inputs=X, modes=("eval", "graph"), description="the TF layer computes something else when traced",
)
