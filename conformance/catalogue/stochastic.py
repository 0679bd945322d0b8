"""Pairs for the stochastic layers (``layers_torch.stochastic`` / ``layers_tf.stochastic``).

In inference both sides are deterministic and must agree exactly. In training the two
random streams differ, so training mode is compared by the ``statistics`` check: on each side
the drop fraction matches the declared rate, kept values are scaled by 1 / (1 - rate), and
masks are fresh on every call (see :mod:`harness.statistics`).
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import ELEMENTWISE_LARGE, ELEMENTWISE_SMALL, SEED_003, dense_flops, twins
from harness.layouts import TRANSPOSE
from harness.spec import Bench, Dropout, LayerPair, Link, Origin, Params, Stage, Tensor

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 3)
_SIZE = st.integers(1, 8)
_MODES = ("eval", "train", "graph")

_torch, _tf = twins("stochastic")


def _mlp_flops(p: Params) -> float:
    """The dense layers in_features -> units_list[0] -> ...; the dropouts are elementwise."""
    return dense_flops(p["batch"], p["in_features"], *p["units_list"])


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="dropout_layer_003",
        origin=Origin(seed=SEED_003, tutorial_name="DropoutLayer", shown=("tf",)),
        torch=lambda p: _torch().DropoutLayer(p["rate"]),
        tf=lambda p: _tf().DropoutLayer(p["rate"]),
        dims={"batch": _BATCH, "features": _SIZE, "rate": st.sampled_from([0.0, 0.2, 0.5, 0.9])},
        inputs=(Tensor("x", ("batch", "features")),),
        modes=_MODES,
        dropout=Dropout(rate="rate"),
        # elementwise: no FLOPs counted; rate 0.2, the tutorial MLPBlock's
        bench=Bench(small={**ELEMENTWISE_SMALL, "rate": 0.2}, large={**ELEMENTWISE_LARGE, "rate": 0.2}),
        description="tf.nn.dropout when training, identity otherwise; F.dropout under module.training.",
    ),
    LayerPair(
        name="mlp_block_003",
        origin=Origin(seed=SEED_003, tutorial_name="MLPBlock", shown=("tf",),
                      note="the tutorial's units_list [64, 32, 16] is drawn: one to three layers of small widths"),
        torch=lambda p: _torch().MLPBlock(p["in_features"], p["units_list"]),
        tf=lambda p: _tf().MLPBlock(p["units_list"]),
        dims={
            "batch": _BATCH,
            "in_features": _SIZE,
            "units_list": st.lists(_SIZE, min_size=1, max_size=3),
        },
        inputs=(Tensor("x", ("batch", "in_features")),),
        weights={"dense_layers.*.weight": Link("dense_layers.*.kernel", TRANSPOSE),
                 "dense_layers.*.bias": "dense_layers.*.bias"},
        modes=_MODES,
        # one shared dropout module, called after every dense layer: each call is observed
        dropout=Dropout(rate=0.2, torch="dropout", tf="dropout"),
        stages=(Stage("dense", "dense_layers.*", "dense_layers.*"),),
        # the tutorial's widths [64, 32, 16], and eight times them
        bench=Bench(
            small={"batch": 32, "in_features": 64, "units_list": [64, 32, 16]},
            large={"batch": 256, "in_features": 512, "units_list": [512, 256, 128]},
            flops=_mlp_flops,
        ),
        description=(
            "Dense(relu) layers from units_list, one shared Dropout(0.2) after each. No train_step: "
            "its training forward is random on each side."
        ),
    ),
)
