"""Pairs for the parameter-free layers (``layers_torch.activations`` / ``layers_tf.activations``)."""

from __future__ import annotations

from importlib import import_module

from hypothesis import strategies as st

from conformance.catalogue import ELEMENTWISE_LARGE, ELEMENTWISE_SMALL, SEED_001, SEED_002, SEED_003, SEED_004, twins
from harness.spec import Bench, KnownDivergence, LayerPair, Origin, Tensor

__all__ = ["PAIRS"]


_SIZES = {"batch": st.integers(1, 4), "features": st.integers(1, 12)}
_X = (Tensor("x", ("batch", "features")),)
# Elementwise (or a mean and a subtraction): no FLOPs counted.
_BENCH = Bench(small=ELEMENTWISE_SMALL, large=ELEMENTWISE_LARGE)


_torch, _tf = twins("activations")


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="threshold_relu_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyReLU", shown=("torch",)),
        torch=lambda p: _torch().ThresholdReLU(p["threshold"]),
        tf=lambda p: _tf().ThresholdReLU(p["threshold"]),
        dims={**_SIZES, "threshold": st.sampled_from([0.0, 0.5, -0.25])},
        inputs=_X,
        special_values=lambda p: [p["threshold"]],
        bench=Bench(small={**ELEMENTWISE_SMALL, "threshold": 0.0}, large={**ELEMENTWISE_LARGE, "threshold": 0.0}),
        description="where(x > threshold, x, 0): 0 at the threshold itself, value and gradient.",
    ),
    LayerPair(
        name="custom_relu_002",
        origin=Origin(seed=SEED_002, tutorial_name="CustomReLU", shown=("torch",)),
        torch=lambda p: _torch().CustomReLU(),
        tf=lambda p: _tf().CustomReLU(),
        dims=_SIZES,
        inputs=_X,
        bench=_BENCH,
        description=(
            "clamp(min=0) with a hand-written backward (gradient zeroed where x < 0, so 1 at 0): "
            "torch.autograd.Function vs tf.custom_gradient."
        ),
    ),
    LayerPair(
        name="custom_relu_vs_builtin_002",
        origin=Origin(
            seed=SEED_002, tutorial_name="CustomReLU", shown=("torch",), note="compared with TF's built-in tf.nn.relu"
        ),
        torch=lambda p: _torch().CustomReLU(),
        tf=lambda p: import_module("tensorflow").nn.relu,
        dims=_SIZES,
        inputs=_X,
        known_divergences=(
            KnownDivergence(
                "gradient",
                reason=(
                    "the hand-written backward zeroes the gradient only where x < 0, so at exactly "
                    "x == 0 it passes the gradient through (1); tf.nn.relu's gradient there is 0"
                ),
            ),
        ),
        bench=_BENCH,
        description="The tutorial's CustomReLU against tf.nn.relu: same values, different gradient at 0.",
    ),
    LayerPair(
        name="swish_002",
        origin=Origin(seed=SEED_002, tutorial_name="Swish", shown=("torch",)),
        torch=lambda p: _torch().Swish(),
        tf=lambda p: _tf().Swish(),
        dims=_SIZES,
        inputs=_X,
        bench=_BENCH,
        description="x * sigmoid(x).",
    ),
    LayerPair(
        name="centered_layer_004",
        origin=Origin(seed=SEED_004, tutorial_name="CenteredLayer", shown=("torch",)),
        torch=lambda p: _torch().CenteredLayer(),
        tf=lambda p: _tf().CenteredLayer(),
        dims=_SIZES,
        inputs=_X,
        bench=_BENCH,
        description="X - X.mean() over every element, batch included: each output depends on the whole batch.",
    ),
    LayerPair(
        name="gelu_by_name_003",
        origin=Origin(seed=SEED_003, tutorial_name="DenseWithActivation", shown=("tf",),
                      note="its activation-by-name lookup, for 'gelu' alone"),
        torch=lambda p: _torch().get_activation("gelu"),
        tf=lambda p: import_module("keras").activations.get("gelu"),
        dims=_SIZES,
        inputs=_X,
        known_divergences=tuple(
            KnownDivergence(
                check,
                "TF 2.21's tf.nn.gelu(approximate=False) builds its 1/sqrt(2) constant with "
                "math_ops.cast(0.7071067811865476, dtype), which rounds it through float32 first; "
                "in float64 the result is off by ~1e-8 relative (torch matches math.erf to 1e-16).",
                dtypes=("float64",),
            )
            for check in ("forward", "gradient")
        ),
        bench=_BENCH,
        description="The exact GELU both lookups return for 'gelu'; equal in float32, not in float64.",
    ),
)
