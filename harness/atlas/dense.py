"""nn.Linear against Dense and EinsumDense: the (out, in) weight is the transposed (in, out) kernel."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from harness.atlas.core import Counterpart, Example, Setting, keras, torch_nn
from harness.layouts import TRANSPOSE
from harness.spec import Link, Tensor


def _linear_to_dense(m: Any) -> Any:
    return keras().layers.Dense(m.out_features, use_bias=m.bias is not None)


def _dense_to_linear(layer: Any) -> Any:
    return torch_nn().Linear(layer.kernel.shape[0], layer.units, bias=layer.use_bias)


def _linear_weights(m: Any) -> dict[str, Link]:
    return {"weight": Link("kernel", TRANSPOSE), **({"bias": Link("bias")} if m.bias is not None else {})}


def _units(layer: Any) -> int:
    """Dense's units; an EinsumDense's outputs per input feature (keras_hub's (hidden, heads, head_dim) kernel: heads x
    head_dim, what one nn.Linear computes)."""
    if type(layer).__name__ == "EinsumDense":
        return int(math.prod(layer.kernel.shape[1:]))
    return int(layer.units)


def _has_bias(layer: Any) -> bool:
    return bool(layer.bias_axes) if type(layer).__name__ == "EinsumDense" else bool(layer.use_bias)


def _linear(p: Any) -> Any:
    return torch_nn().Linear(p["in_features"], p["units"], bias=p["bias"])


LINEAR = Counterpart(
    name="linear",
    torch=("Linear",),
    keras=("Dense", "EinsumDense"),
    to_keras=_linear_to_dense,
    to_torch=_dense_to_linear,
    weights=_linear_weights,
    settings=(
        Setting("out_features", "out_features", _units),
        Setting("bias", lambda m: m.bias is not None, _has_bias, torch_default=True, keras_default=True),
    ),
    examples=(
        Example("linear_dense", _linear,
                dims={"batch": st.integers(1, 3), "seq": st.integers(1, 3), "in_features": st.integers(1, 8),
                      "units": st.integers(1, 8), "bias": st.booleans()},
                inputs=(Tensor("x", ("batch", "seq", "in_features")),),
                description="nn.Linear vs Dense, with or without bias, on a 3-d input (both act on the last axis)."),
    ),
)


def _linear_to_einsum(m: Any) -> Any:
    return keras().layers.EinsumDense("abc,cd->abd", output_shape=(None, m.out_features),
                                      bias_axes="d" if m.bias is not None else None)


EINSUM = Counterpart(
    name="linear_einsum",
    torch=(),  # a second Keras form of nn.Linear: conform map matches Linear through LINEAR
    label="nn.Linear",
    keras=("EinsumDense",),
    to_keras=_linear_to_einsum,
    to_torch=lambda layer: torch_nn().Linear(layer.kernel.shape[0], _units(layer), bias=_has_bias(layer)),
    weights=_linear_weights,
    settings=LINEAR.settings,
    examples=(
        Example("linear_einsum_dense", _linear,
                dims={"batch": st.integers(1, 3), "seq": st.integers(1, 3), "in_features": st.integers(1, 8),
                      "units": st.integers(1, 8), "bias": st.booleans()},
                inputs=(Tensor("x", ("batch", "seq", "in_features")),),
                description="nn.Linear vs EinsumDense('abc,cd->abd'), keras_hub's form of a projection."),
    ),
)

COUNTERPARTS = (LINEAR, EINSUM)
