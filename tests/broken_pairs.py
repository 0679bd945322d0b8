"""Deliberately broken pairs: each plants one porting bug that the harness must catch.

This is also a pair file in the user-facing sense (``conform run --pairs-from
tests/broken_pairs.py`` runs it), which is how the CLI tests use it. Frameworks are imported
inside the factories so that merely loading the file stays cheap.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import TRANSPOSE, KnownDivergence, LayerPair, Link, Origin, Stage, Tensor

ORIGIN = Origin(seed="tests", tutorial_name="planted bug")
DENSE_DIMS = {"batch": st.integers(1, 4), "features": st.integers(1, 6), "units": st.integers(1, 6)}
SQUARE_DIMS = {"batch": st.integers(1, 4), "features": st.integers(1, 6), "units": lambda p: p["features"]}
X = (Tensor("x", ("batch", "features")),)
LINEAR_MAP = {"weight": Link("kernel", TRANSPOSE), "bias": "bias"}


def torch_linear(p):
    import torch

    return torch.nn.Linear(p["features"], p["units"])


def tf_dense(p, **kwargs):
    import keras

    return keras.layers.Dense(p["units"], **kwargs)


def _torch_detached(p):
    import torch

    class DetachedLinear(torch.nn.Module):
        """004's tutorial bug: ``.data`` cuts the parameters out of the graph."""

        def __init__(self, features: int, units: int):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(features, units))

        def forward(self, x):
            return x @ self.weight.data

    return DetachedLinear(p["features"], p["units"])


def _tf_matmul(p):
    import keras

    class MatMul(keras.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], p["units"]))

        def call(self, x):
            return x @ self.kernel

    return MatMul()


def _layer_norm(eps: float, framework: str):
    """A parameter-free normalisation over the last axis with a given epsilon."""
    if framework == "torch":
        import torch

        return lambda x: (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + eps)
    import tensorflow as tf

    def norm(x):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) / tf.sqrt(var + eps)

    return norm


def _softmax(axis: int, framework: str):
    if framework == "torch":
        import torch

        return lambda x: torch.softmax(x, dim=axis)
    import tensorflow as tf

    return lambda x: tf.nn.softmax(x, axis=axis)


def _torch_relu_handwritten(_p):
    """A hand-written backward that passes gradient at exactly 0 (``<`` instead of ``<=``)."""
    import torch

    class Relu(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x >= 0).to(grad.dtype)

    return Relu.apply


def _tf_relu(_p):
    import tensorflow as tf

    return tf.nn.relu


def _tf_raises(_p):
    def broken(x):
        raise RuntimeError("this TF twin is not implemented yet")

    return broken


def _identity(_p):
    return lambda x: x * 1.0


missing_transpose = LayerPair(
    name="missing_transpose", origin=ORIGIN, torch=torch_linear, tf=tf_dense, dims=SQUARE_DIMS, inputs=X,
    weights={"weight": "kernel", "bias": "bias"},  # (out, in) copied into (in, out) as is: fits only if square
    description="torch Linear weight copied into Dense kernel without the transpose",
)
detached_gradient = LayerPair(
    name="detached_gradient", origin=ORIGIN, torch=_torch_detached, tf=_tf_matmul, dims=DENSE_DIMS, inputs=X,
    weights={"weight": "kernel"}, description="the torch side reads .data: no parameter gradient",
)
wrong_epsilon = LayerPair(
    name="wrong_epsilon", origin=ORIGIN, torch=lambda p: _layer_norm(1e-5, "torch"),
    tf=lambda p: _layer_norm(1e-6, "tf"), dims=DENSE_DIMS, inputs=X,
    description="normalisation epsilon 1e-5 on one side, 1e-6 on the other",
)
softmax_wrong_axis = LayerPair(
    name="softmax_wrong_axis", origin=ORIGIN, torch=lambda p: _softmax(-1, "torch"),
    tf=lambda p: _softmax(0, "tf"), dims=DENSE_DIMS, inputs=X,
    description="softmax over the features on one side, over the batch on the other",
)
gradient_at_zero = LayerPair(
    name="gradient_at_zero", origin=ORIGIN, torch=_torch_relu_handwritten, tf=_tf_relu, dims=DENSE_DIMS, inputs=X,
    description="hand-written ReLU backward that differs from the built-in only at exactly 0",
)
bias_one_side = LayerPair(
    name="bias_one_side", origin=ORIGIN, torch=torch_linear, tf=lambda p: tf_dense(p, use_bias=False),
    dims=DENSE_DIMS, inputs=X, weights=LINEAR_MAP, description="torch has a bias, the Keras twin has none",
)
raises_in_tf = LayerPair(
    name="raises_in_tf", origin=ORIGIN, torch=_identity, tf=_tf_raises, dims=DENSE_DIMS, inputs=X,
    description="the TF side raises: an error record, and the run goes on",
)
declared_but_equal = LayerPair(
    name="declared_but_equal", origin=ORIGIN, torch=_identity, tf=_identity, dims=DENSE_DIMS, inputs=X,
    known_divergences=(KnownDivergence("forward", "declared, but both sides are the identity"),),
    description="a declared divergence that does not reproduce must fail (strict)",
)
declared_and_small = LayerPair(
    name="declared_and_small", origin=ORIGIN, torch=lambda _p: lambda x: x * (1.0 + 1e-12), tf=_identity,
    dims=DENSE_DIMS, inputs=X,
    known_divergences=(KnownDivergence("forward", "torch scales by 1 + 1e-12: below float64's tolerance"),),
    description="a declared divergence below the fixed tolerance but far beyond the noise floor is present, not gone",
)
declared_and_real = LayerPair(
    name="declared_and_real", origin=ORIGIN, torch=_torch_relu_handwritten, tf=_tf_relu, dims=DENSE_DIMS, inputs=X,
    known_divergences=(KnownDivergence("gradient", "hand-written backward passes gradient at 0"),),
    description="a declared divergence that reproduces is reported as such, not as a failure",
)
correct_linear = LayerPair(
    name="correct_linear", origin=ORIGIN, torch=torch_linear, tf=tf_dense, dims=DENSE_DIMS, inputs=X,
    weights=LINEAR_MAP, description="the control: a correct port passes",
)


def _torch_running_mean(p):
    import torch

    class RunningMean(torch.nn.Module):
        """001's MyLayer: a buffer updated in forward with momentum 0.1."""

        def __init__(self, features: int):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(features))
            self.register_buffer("running_mean", torch.zeros(features))

        def forward(self, x):
            self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(0)
            return x * self.weight

    return RunningMean(p["features"])


def _tf_running_mean(p, keep: float = 0.9):
    import keras

    class RunningMean(keras.layers.Layer):
        def build(self, input_shape):
            self.weight = self.add_weight(name="weight", shape=(input_shape[-1],))
            self.running_mean = self.add_weight(name="running_mean", shape=(input_shape[-1],), trainable=False,
                                                initializer="zeros")

        def call(self, x):
            self.running_mean.assign(keep * self.running_mean + (1 - keep) * keras.ops.mean(x, axis=0))
            return x * self.weight

    return RunningMean()


def _torch_two_stage(p):
    import torch

    first = torch.nn.Sequential(torch.nn.Linear(p["features"], p["units"]), torch.nn.Tanh())
    return torch.nn.Sequential(first, torch.nn.Linear(p["units"], p["units"]))


def _tf_two_stage(p, bias_twice: bool = False):
    import keras

    class BiasTwice(keras.layers.Dense):
        def call(self, x):
            return super().call(x) + self.bias

    class TwoStage(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.first = keras.layers.Dense(p["units"], activation="tanh")
            self.second = (BiasTwice if bias_twice else keras.layers.Dense)(p["units"])

        def call(self, x):
            return self.second(self.first(x))

    return TwoStage()


STATE_DIMS = {"batch": st.integers(1, 4), "features": st.integers(1, 6)}
STATE_MAP = {"weight": "weight", "running_mean": "running_mean"}
TWO_STAGE_MAP = {"0.0.weight": Link("first.kernel", TRANSPOSE), "0.0.bias": "first.bias",
                 "1.weight": Link("second.kernel", TRANSPOSE), "1.bias": "second.bias"}
TWO_STAGES = (Stage("first", "0", "first"), Stage("second", "1", "second"))

buffer_wrong_coefficient = LayerPair(
    name="buffer_wrong_coefficient", origin=ORIGIN, torch=_torch_running_mean,
    tf=lambda p: _tf_running_mean(p, keep=0.8), dims=STATE_DIMS, inputs=(Tensor("x", ("batch", "features")),),
    weights=STATE_MAP, calls=3, description="running buffer updated with 0.8/0.2 instead of 0.9/0.1",
)
buffer_right_coefficient = LayerPair(
    name="buffer_right_coefficient", origin=ORIGIN, torch=_torch_running_mean, tf=_tf_running_mean,
    dims=STATE_DIMS, inputs=(Tensor("x", ("batch", "features")),), weights=STATE_MAP, calls=3,
    description="the control for the buffer: same coefficient on both sides",
)
second_stage_bug = LayerPair(
    name="second_stage_bug", origin=ORIGIN, torch=_torch_two_stage,
    tf=lambda p: _tf_two_stage(p, bias_twice=True), dims=DENSE_DIMS, inputs=X, weights=TWO_STAGE_MAP,
    stages=TWO_STAGES, description="the second of two stages adds its bias twice on the TF side",
)
skipped_train_gradient = LayerPair(
    name="skipped_train_gradient", origin=ORIGIN, torch=_identity, tf=_identity, dims=DENSE_DIMS, inputs=X,
    modes=("eval", "train"), skip_modes={"train:gradient": "a defect breaks training-mode gradients"},
    description="one check of one mode skipped, with its reason; the mode's other checks run",
)
skipped_train_mode = LayerPair(
    name="skipped_train_mode", origin=ORIGIN, torch=_identity, tf=_identity, dims=DENSE_DIMS, inputs=X,
    modes=("eval", "train"), skip_modes={"train": "not checkable yet"},
    description="train mode declared but skipped, with its reason",
)
parameters_mismatch = LayerPair(
    name="parameters_mismatch", origin=ORIGIN, torch=torch_linear, tf=lambda p: tf_dense(p, use_bias=False),
    dims=DENSE_DIMS, inputs=X, weights={"weight": Link("kernel", TRANSPOSE)}, checks=("parameters",),
    description="the parameters check reports the bias only torch has",
)


def torch_relu_stage(p):
    """ReLU with the hand-written backward of ``gradient_at_zero``, then a scaling stage."""
    import torch

    relu = _torch_relu_handwritten(p)

    class Relu(torch.nn.Module):
        def forward(self, x):
            return relu(x)

    class Scale(torch.nn.Module):
        def forward(self, x):
            return 2.0 * x

    return torch.nn.Sequential(Relu(), Scale())


def tf_relu_stage(p):
    import keras

    class Relu(keras.layers.Layer):
        def call(self, x):
            return keras.ops.relu(x)

    class Scale(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    class Both(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.relu, self.scale = Relu(), Scale()

        def call(self, x):
            return self.scale(self.relu(x))

    return Both()


RELU_STAGES = (Stage("relu", "0", "relu"), Stage("scale", "1", "scale"))
