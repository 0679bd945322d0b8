"""Shape and regularisation: nn.Flatten against Flatten, nn.Dropout against Dropout.

nn.Flatten on torch's NCHW reads the values channel by channel (C, H, W); Keras's Flatten on
its native NHWC reads them pixel by pixel (H, W, C). Same shape, another order: a Dense after
it sees its inputs permuted. The Keras layer computing torch's function on NHWC puts the
channels first again before flattening (``Permute((3, 1, 2))``), which is what a port that
keeps torch's Linear weights needs. Dropout agrees in inference (identity) and drops with
the same rate and 1 / (1 - rate) scaling in training (the ``statistics`` check).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.spec import Dropout, Params, Tensor

BATCH = st.integers(1, 3)
X2 = (Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),)

_CHW = "channels, then height, then width (torch's NCHW order)"
_HWC = "height, then width, then channels (NHWC order)"


def _flatten_accepts(m: Any) -> str | None:
    if m.start_dim != 1 or m.end_dim != -1:
        return (f"start_dim={m.start_dim}, end_dim={m.end_dim}: Keras's Flatten flattens every axis after the batch "
                "(use a Reshape)")
    return None


def _flatten_to_keras(_m: Any) -> Any:
    """Flatten in torch's order from an NHWC image: channels first again, then flatten (4-d inputs: a module
    does not say its input's rank, and flattening after a 2-d convolution is the case a port meets)."""
    k = keras()
    return k.Sequential([k.layers.Permute((3, 1, 2)), k.layers.Flatten()])


def _keras_order(layer: Any) -> str:
    """The order Keras flattens an NHWC input in: torch's where a Permute((3, 1, 2)) puts the channels first."""
    subs = list(getattr(layer, "layers", (layer,)))
    flatten = next((s for s in subs if type(s).__name__ == "Flatten"), None)
    if flatten is None:
        raise AttributeError(f"no Flatten in Keras layer {layer.name!r}")
    before = subs[:subs.index(flatten)]
    if before and type(before[-1]).__name__ == "Permute" and tuple(before[-1].dims) == (3, 1, 2):
        return _CHW
    if flatten.get_config().get("data_format") == "channels_first":
        return "width, channels, height (data_format='channels_first' on an NHWC input)"
    return _HWC


def _keras_to_flatten(layer: Any) -> Any:
    if _keras_order(layer) != _CHW:
        raise ValueError(f"Keras {layer.name}: flattens an NHWC input in {_keras_order(layer)} order; nn.Flatten on "
                         "NCHW reads channels first")
    return torch_nn().Flatten()


FLATTEN = Counterpart(
    wraps=True,
    name="flatten",
    torch=("Flatten",),
    keras=("Flatten",),
    to_keras=_flatten_to_keras,
    to_torch=_keras_to_flatten,
    # no setting for the order: whether it matters depends on the spatial size reaching the Flatten (none after a
    # global pool), which a module does not say; the element_order convention states it instead
    settings=(
        Setting("start_dim", "start_dim", lambda _layer: 1, torch_default=1, keras_default=1),
        Setting("end_dim", "end_dim", lambda _layer: -1, torch_default=-1, keras_default=-1),
    ),
    accepts=_flatten_accepts,
    examples=(
        Example("flatten", lambda p: torch_nn().Flatten(),
                dims={"batch": BATCH, "channels": st.integers(1, 4), "height": st.integers(1, 5),
                      "width": st.integers(1, 5)},
                inputs=X2,
                description="nn.Flatten on NCHW vs Sequential([Permute((3, 1, 2)), Flatten()]) on NHWC: both read "
                            "channels first, so a Linear after it keeps its weights."),
    ),
    conventions=(
        Convention(
            "element_order", setting="order",
            torch_default="C, H, W (NCHW)", keras_default="H, W, C (its NHWC input)",
            effect=("Same shape (N, C*H*W), the values permuted: torch puts x[c, h, w] at c*H*W + h*W + w, Keras at "
                    "(h*W + w)*C + c; 6 of the 8 positions of a 1x2x2x2 input differ (the first and last agree), max "
                    "|diff| 1.2 (5.3 over 200 draws). One channel, or a 1x1 image (after a global pool), agrees. "
                    "Measured in float64 with N(0,1) inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 "
                    "draws); reproduce with conform run --pairs atlas_flatten_element_order --checks forward --dtype "
                    "float64."),
            torch=lambda p: torch_nn().Flatten(),
            tf=lambda p: keras().layers.Flatten(),
            dims={"batch": BATCH, "channels": st.integers(2, 4), "height": st.integers(2, 4),
                  "width": st.integers(1, 4)},
            inputs=X2,
        ),
    ),
)


def _dropout(p: Params) -> Any:
    return torch_nn().Dropout(p["rate"])


DROPOUT = Counterpart(
    name="dropout",
    keeps_layout=True,
    torch=("Dropout",),
    keras=("Dropout",),
    to_keras=lambda m: keras().layers.Dropout(m.p),
    to_torch=lambda layer: torch_nn().Dropout(layer.rate),
    settings=(
        Setting("rate", "p", "rate", torch_default=0.5, keras_default=None,
                meaning="the drop probability (Keras has no default)"),
        Setting("noise_shape", lambda _m: None, "noise_shape", torch_default=None, keras_default=None,
                meaning="nn.Dropout drops every value independently"),
    ),
    examples=(
        Example("dropout", _dropout,
                dims={"batch": BATCH, "features": st.integers(1, 8), "rate": st.sampled_from([0.0, 0.2, 0.5, 0.9])},
                inputs=(Tensor("x", ("batch", "features")),),
                spec={"dropout": Dropout(rate="rate")},
                description="nn.Dropout(p) vs Dropout(p): the identity in inference; in training each drops about "
                            "p of the values and scales the rest by 1 / (1 - p) (the statistics check)."),
    ),
)

COUNTERPARTS = (FLATTEN, DROPOUT)
