"""Activations: ReLU, LeakyReLU, ELU, PReLU, GELU, Softmax and the plain functions, torch module against Keras layer.

The traps: LeakyReLU's slope (torch 0.01, Keras 0.3), Softmax's axis (torch's implicit ``dim``
is 0 for a 3-d input, Keras's is -1), and GELU, whose Keras layer is exact like torch's while
``keras.ops.gelu`` defaults to the tanh approximation.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import ledger
from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.spec import DEFAULT_CHECKS, Link, Tensor

DIMS = {"batch": st.integers(1, 3), "features": st.integers(1, 6)}
X = (Tensor("x", ("batch", "features")),)
SEQ_DIMS = {"batch": st.integers(1, 3), "seq": st.integers(2, 4), "features": st.integers(2, 5)}
X_SEQ = (Tensor("x", ("batch", "seq", "features")),)


def _zero(_p: Any) -> list[float]:
    return [0.0]


def _module(name: str, **kwargs: Any):
    def factory(_p: Any) -> Any:
        return getattr(torch_nn(), name)(**kwargs)

    return factory


def _example(name: str, torch: Any, description: str, **extra: Any) -> Example:
    return Example(name, torch, dims=extra.pop("dims", DIMS), inputs=extra.pop("inputs", X),
                   checks=extra.pop("checks", DEFAULT_CHECKS), description=description, spec=extra)


RELU = Counterpart(
    name="relu", torch=("ReLU",), keras=("ReLU",), keeps_layout=True,
    to_keras=lambda m: keras().layers.ReLU(),
    to_torch=lambda layer: torch_nn().ReLU(),
    settings=(Setting("negative_slope", lambda m: 0.0, "negative_slope", 0.0, 0.0),
              Setting("max_value", lambda m: None, "max_value", None, None)),
    examples=(_example("relu", _module("ReLU"), "ReLU; both take gradient 0 at exactly 0.", special_values=_zero),),
)

LEAKY_RELU = Counterpart(
    name="leaky_relu", torch=("LeakyReLU",), keras=("LeakyReLU",), keeps_layout=True,
    to_keras=lambda m: keras().layers.LeakyReLU(negative_slope=m.negative_slope),
    to_torch=lambda layer: torch_nn().LeakyReLU(negative_slope=layer.negative_slope),
    settings=(Setting("negative_slope", "negative_slope", "negative_slope", 0.01, 0.3),),
    # 0.25 is exact in float32: TF keeps the slope as a float32 attribute even in float64
    examples=(_example("leaky_relu", _module("LeakyReLU", negative_slope=0.25),
                       "LeakyReLU with the same slope, 0.25 (exact in float32, as TF keeps it).",
                       special_values=_zero),),
    conventions=(Convention(
        "negative_slope", "negative_slope", "0.01", "0.3",
        effect="every negative input x comes out as 0.01 x in torch and 0.3 x in Keras: 0.29 |x| apart",
        torch=_module("LeakyReLU"), tf=lambda _p: keras().layers.LeakyReLU(), dims=DIMS, inputs=X,
        spec={"special_values": lambda _p: [-1.0]}),),
)

ELU = Counterpart(
    name="elu", torch=("ELU",), keras=("ELU",), keeps_layout=True,
    to_keras=lambda m: keras().layers.ELU(alpha=m.alpha),
    to_torch=lambda layer: torch_nn().ELU(alpha=layer.alpha),
    settings=(Setting("alpha", "alpha", "alpha", 1.0, 1.0),),
    examples=(_example("elu", _module("ELU", alpha=0.5), "ELU with alpha 0.5 on both sides.", special_values=_zero),),
    conventions=(Convention(
        "alpha", "alpha", "1.0", "1.0", effect="the defaults agree: ELU(1.0) on both sides", agrees=True,
        torch=_module("ELU"), tf=lambda _p: keras().layers.ELU(), dims=DIMS, inputs=X),),
)


def _prelu_to_keras(m: Any) -> Any:
    # one slope shared by every feature (torch's default), or one per feature of a (batch, features) input
    return keras().layers.PReLU(shared_axes=[1] if m.num_parameters == 1 else None)


PRELU = Counterpart(
    name="prelu", torch=("PReLU",), keras=("PReLU",),
    to_keras=_prelu_to_keras,
    to_torch=lambda layer: torch_nn().PReLU(num_parameters=int(layer.alpha.shape[-1])),
    weights=lambda m: {"weight": Link("alpha")},
    settings=(Setting("num_parameters", "num_parameters", lambda layer: int(layer.alpha.shape[-1]), 1, None),),
    # the gradient at exactly 0 differs (the convention below): it is checked there, everywhere else too
    examples=(
        _example("prelu_per_feature", lambda p: torch_nn().PReLU(num_parameters=p["features"]),
                 "PReLU with one slope per feature against PReLU() on (batch, features).", special_values=_zero,
                 checks=("forward", "serialization")),
        _example("prelu_shared", _module("PReLU"),
                 "PReLU with one shared slope (torch's default) against PReLU(shared_axes=[1]).",
                 special_values=_zero, checks=("forward", "serialization")),
    ),
    conventions=(Convention(
        "gradient_at_zero", "d/dx at x = 0", "the slope (x > 0 ? 1 : a)", "0 (relu(x) - a relu(-x))",
        effect=("at an input of exactly 0 torch's gradient is the slope a, Keras's is 0 (both subgradients); "
                "elsewhere the two agree: 0.0132 apart at a = 0.0132 in the minimal case"),
        torch=lambda p: torch_nn().PReLU(num_parameters=p["features"]), tf=lambda _p: keras().layers.PReLU(),
        dims=DIMS, inputs=X, check="gradient", checks=("gradient",), modes=("eval", "train", "graph"),
        tensors=("grad x",), regimes=("zeros", "special"), spec={"special_values": _zero}),),
)


def _activation(name: str, torch_class: str, keras_name: str, description: str) -> Counterpart:
    return Counterpart(
        name=name, torch=(torch_class,), keras=("Activation",), keeps_layout=True,
        to_keras=lambda m: keras().layers.Activation(keras_name),
        to_torch=lambda layer: getattr(torch_nn(), torch_class)(),
        settings=(Setting("activation", lambda m: keras_name, "activation", keras_name, keras_name),),
        examples=(_example(name, _module(torch_class), description),),
    )


GELU_FLOAT64 = tuple(ledger.declared("tf-gelu-exact-float64", check, dtypes=("float64",))
                     for check in ("forward", "gradient"))

GELU = Counterpart(
    name="gelu", torch=("GELU",), keras=("Activation",), keeps_layout=True,
    to_keras=lambda m: keras().layers.Activation("gelu"),
    to_torch=lambda layer: torch_nn().GELU(),
    accepts=lambda m: None if m.approximate == "none" else (
        "GELU(approximate='tanh') has no serialisable Keras layer: Activation('gelu') is exact"),
    settings=(Setting("approximate", "approximate", "activation", "none", "gelu",
                      to_keras=lambda a: "gelu" if a == "none" else "gelu (approximate)"),),
    examples=(_example("gelu", _module("GELU"), "Exact GELU: nn.GELU() against Activation('gelu').",
                       known_divergences=GELU_FLOAT64),),
    conventions=(
        Convention(
            "ops_approximate", "approximate (keras.ops.gelu)", "'none' (exact)", "True (tanh approximation)",
            effect=("a port that calls keras.ops.gelu(x) gets the tanh approximation: up to 4.73e-4 apart from the "
                    "exact GELU, at |x| = 2.70 (float64, 200,001 points in [-6, 6])"),
            torch=_module("GELU"), tf=lambda _p: keras().layers.Activation(keras().ops.gelu), dims=DIMS, inputs=X,
            spec={"special_values": lambda _p: [-2.0, 2.0]}),
    ),
)

SOFTMAX = Counterpart(
    name="softmax", torch=("Softmax",), keras=("Softmax",),
    to_keras=lambda m: keras().layers.Softmax(axis=-1 if m.dim is None else m.dim),
    to_torch=lambda layer: torch_nn().Softmax(dim=layer.axis),
    accepts=lambda m: None if m.dim in (-1, None) else "a softmax over a torch axis other than the last: its Keras "
                                                       "axis depends on the layout",
    settings=(Setting("axis", "dim", "axis", None, -1),),
    examples=(_example("softmax", _module("Softmax", dim=-1), "Softmax over the last axis of a 3-d input.",
                       dims=SEQ_DIMS, inputs=X_SEQ),),
    conventions=(Convention(
        "implicit_dim", "dim / axis", "None (axis 0 for a 3-d input, with a warning)", "-1",
        effect="torch normalises over the batch axis of a 3-d input, Keras over the features: every value differs",
        torch=_module("Softmax"), tf=lambda _p: keras().layers.Softmax(),
        dims={**SEQ_DIMS, "batch": st.integers(2, 3)}, inputs=X_SEQ),),
)

COUNTERPARTS = (
    RELU, LEAKY_RELU, ELU, PRELU, GELU, SOFTMAX,
    _activation("sigmoid", "Sigmoid", "sigmoid", "The logistic sigmoid."),
    _activation("tanh", "Tanh", "tanh", "The hyperbolic tangent."),
    _activation("silu", "SiLU", "silu", "SiLU (swish), x * sigmoid(x)."),
)
