"""Pairs for the dense layers (``layers_torch.dense`` / ``layers_tf.dense``).

torch keeps a dense weight as (out, in) and Keras as (in, out), so most maps transpose;
the seed 004 layers multiply by ``W`` itself and map one to one.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.catalogue import (
    SEED_000,
    SEED_001,
    SEED_002,
    SEED_003,
    SEED_004,
    TRAIN_STEP,
    dense_flops,
    dense_map,
    twins,
)
from harness import frameworks
from harness.layouts import TRANSPOSE
from harness.spec import Bench, Builtin, KnownDivergence, LayerPair, Link, Origin, Params, Tensor

__all__ = ["PAIRS"]


# Names that keras.activations.get and layers_torch.activations.get_activation both know.
# "gelu" is checked on its own (``gelu_by_name_003``): TF's float64 exact GELU is a measured,
# declared divergence, and declaring it here would excuse every other activation in float64.
_ACTIVATIONS = st.sampled_from(
    [None, "linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish"]
)
_SIZES = {"batch": st.integers(1, 4), "in_features": st.integers(1, 12), "units": st.integers(1, 12)}
_X = (Tensor("x", ("batch", "in_features")),)
_KERNEL = {"weight": Link("kernel", TRANSPOSE)}
_KERNEL_BIAS = dense_map()


_torch, _tf = twins("dense")


def _dense_flops(p: Params) -> float:
    """One (batch, in_features) x (in_features, units) matmul."""
    return dense_flops(p["batch"], p["in_features"], p["units"])


def _square_flops(p: Params) -> float:
    """Demo's (batch, n) x (n, n) matmul."""
    return dense_flops(p["batch"], p["n"], p["n"])


def _linear_torch(p: Params) -> Any:
    return frameworks.torch().nn.Linear(p["in_features"], p["units"])


def _dense_keras(p: Params) -> Any:
    return frameworks.keras().layers.Dense(p["units"])


_BENCH_SMALL = {"batch": 32, "in_features": 64, "units": 64}
_BENCH_LARGE = {"batch": 256, "in_features": 512, "units": 512}
_BENCH = Bench(small=_BENCH_SMALL, large=_BENCH_LARGE, flops=_dense_flops)
# relu: the common choice, and the default of the tutorials' activation layers
_BENCH_ACTIVATION = Bench(
    small={**_BENCH_SMALL, "activation": "relu"}, large={**_BENCH_LARGE, "activation": "relu"}, flops=_dense_flops
)


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="linear_wrapper_000",
        origin=Origin(seed=SEED_000, tutorial_name="MyLinear", shown=("torch",)),
        torch=lambda p: _torch().LinearWrapper(p["in_features"], p["units"]),
        tf=lambda p: _tf().LinearWrapper(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights={"linear.weight": Link("linear.kernel", TRANSPOSE), "linear.bias": "linear.bias"},
        description="A module wrapping nn.Linear vs a layer wrapping keras.layers.Dense.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="dense_no_bias_000",
        origin=Origin(seed=SEED_000, tutorial_name="MyDense", shown=("tf",)),
        torch=lambda p: _torch().DenseNoBias(p["in_features"], p["units"]),
        tf=lambda p: _tf().DenseNoBias(p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights=_KERNEL,
        description="x @ kernel, glorot_uniform, no bias.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="dense_no_bias_activation_000",
        origin=Origin(seed=SEED_000, tutorial_name="MyDenseWithActivation", shown=("tf",)),
        torch=lambda p: _torch().DenseNoBiasActivation(p["in_features"], p["units"], p["activation"]),
        tf=lambda p: _tf().DenseNoBiasActivation(p["units"], p["activation"]),
        dims={**_SIZES, "activation": _ACTIVATIONS},
        inputs=_X,
        weights=_KERNEL,
        description="x @ kernel (he_normal, no bias), then an activation looked up by name on both sides.",
        train_step=TRAIN_STEP,
        bench=_BENCH_ACTIVATION,
    ),
    LayerPair(
        name="dense_bias_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyDense", shown=("tf",)),
        torch=lambda p: _torch().DenseBias(p["in_features"], p["units"], p["activation"]),
        tf=lambda p: _tf().DenseBias(p["units"], p["activation"]),
        dims={**_SIZES, "activation": _ACTIVATIONS},
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="x @ w + b (random_normal kernel, zero bias), then an optional activation by name.",
        train_step=TRAIN_STEP,
        bench=_BENCH_ACTIVATION,
    ),
    LayerPair(
        name="raw_linear_002",
        origin=Origin(seed=SEED_002, tutorial_name="MyLinear", shown=("torch",)),
        torch=lambda p: _torch().RawLinear(p["in_features"], p["units"]),
        tf=lambda p: _tf().RawLinear(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="Raw nn.Parameter weight (out, in) and bias, x @ W.T + b.",
        train_step=TRAIN_STEP,
        bench=Bench(
            small=_BENCH_SMALL,
            large=_BENCH_LARGE,
            flops=_dense_flops,
            builtin=Builtin(name="nn.Linear / Dense", torch=_linear_torch, tf=_dense_keras),
        ),
    ),
    LayerPair(
        name="demo_002",
        origin=Origin(
            seed=SEED_002, tutorial_name="Demo", shown=("torch",), note="the tutorial's size 3 is the argument n"
        ),
        torch=lambda p: _torch().Demo(p["n"]),
        tf=lambda p: _tf().Demo(p["n"]),
        dims={"batch": st.integers(1, 4), "n": st.integers(1, 12)},
        inputs=(Tensor("x", ("batch", "n")),),
        weights={"learnable": "learnable"},
        description=(
            "x @ learnable; the plain tensor attribute must stay out of both sides' parameters "
            "(a TF variable for it, even a non-trainable one, fails the weight map)."
        ),
        train_step=TRAIN_STEP,
        bench=Bench(small={"batch": 32, "n": 64}, large={"batch": 256, "n": 512}, flops=_square_flops),
    ),
    LayerPair(
        name="kaiming_linear_002",
        origin=Origin(seed=SEED_002, tutorial_name="MyLayer", shown=("torch",), note="the reset_parameters example"),
        torch=lambda p: _torch().KaimingLinear(p["in_features"], p["units"]),
        tf=lambda p: _tf().KaimingLinear(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="x @ W.T + b with reset_parameters: kaiming_uniform(a=sqrt(5)) weight, zero bias.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="repr_linear_002",
        origin=Origin(seed=SEED_002, tutorial_name="MyLayer", shown=("torch",), note="the extra_repr example"),
        torch=lambda p: _torch().ReprLinear(p["in_features"], p["units"]),
        tf=lambda p: _tf().ReprLinear(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights=_KERNEL,
        description="x @ W.T without bias; torch's extra_repr, Keras's get_config.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="simple_dense_003",
        origin=Origin(seed=SEED_003, tutorial_name="SimpleDense", shown=("tf",)),
        torch=lambda p: _torch().SimpleDense(p["in_features"], p["units"]),
        tf=lambda p: _tf().SimpleDense(p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="x @ w + b, glorot_uniform kernel, zero bias.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="dense_with_activation_003",
        origin=Origin(seed=SEED_003, tutorial_name="DenseWithActivation", shown=("tf",)),
        torch=lambda p: _torch().DenseWithActivation(p["in_features"], p["units"], p["activation"]),
        tf=lambda p: _tf().DenseWithActivation(p["units"], p["activation"]),
        dims={**_SIZES, "activation": _ACTIVATIONS},
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="x @ kernel + bias, then an activation by name (relu by default).",
        train_step=TRAIN_STEP,
        bench=_BENCH_ACTIVATION,
    ),
    LayerPair(
        name="custom_dense_003",
        origin=Origin(seed=SEED_003, tutorial_name="CustomDense", shown=("tf",)),
        torch=lambda p: _torch().CustomDense(p["in_features"], p["units"], p["activation"]),
        tf=lambda p: _tf().CustomDense(p["units"], p["activation"]),
        dims={**_SIZES, "activation": _ACTIVATIONS},
        inputs=_X,
        weights=_KERNEL_BIAS,
        description="DenseWithActivation with a config round trip (get_config / from_config) on the Keras side.",
        train_step=TRAIN_STEP,
        bench=_BENCH_ACTIVATION,
    ),
    LayerPair(
        name="relu_linear_004",
        origin=Origin(
            seed=SEED_004,
            tutorial_name="MyLinear",
            shown=("torch",),
            note="the tutorial's .data is replaced by the parameters themselves",
        ),
        torch=lambda p: _torch().ReLULinear(p["in_features"], p["units"]),
        tf=lambda p: _tf().ReLULinear(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights={"weight": "kernel", "bias": "bias"},
        description="relu(X @ W + b) with W (in_units, units): the layer the tutorial meant, gradients included.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
    LayerPair(
        name="detached_relu_linear_004",
        origin=Origin(
            seed=SEED_004,
            tutorial_name="MyLinear",
            shown=("torch",),
            note="the tutorial's code as written, .data included",
        ),
        torch=lambda p: _torch().DetachedReLULinear(p["in_features"], p["units"]),
        tf=lambda p: _tf().DetachedReLULinear(p["in_features"], p["units"]),
        dims=_SIZES,
        inputs=_X,
        weights={"weight": "kernel", "bias": "bias"},
        known_divergences=(
            KnownDivergence(
                "gradient",
                reason=(
                    "the tutorial computes with weight.data and bias.data, which detach them from "
                    "autograd: torch gives W and b no gradient at all while the Keras layer does "
                    "(forward values and the input gradient still agree)"
                ),
            ),
            KnownDivergence(
                "train_step",
                reason="with no gradient, torch's SGD never moves W and b; the Keras layer trains",
            ),
        ),
        description="Seed 004's MyLinear with its .data bug on the torch side vs a correct Keras layer.",
        train_step=TRAIN_STEP,
        bench=_BENCH,
    ),
)
