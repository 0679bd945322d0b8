"""Pairs for the stateful layers (``layers_torch.stateful`` / ``layers_tf.stateful``).

A buffer updated in forward must agree after several calls, not only after one, so these
pairs run ``calls`` forward calls per example, and the ``state`` check compares the buffers
after every call.
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import ELEMENTWISE_LARGE, ELEMENTWISE_SMALL, SEED_001, TRAIN_STEP, twins
from harness.spec import DEFAULT_CHECKS, Bench, LayerPair, Link, Origin, Tensor

__all__ = ["PAIRS"]


_torch, _tf = twins("stateful")


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="running_mean_scale_001",
        origin=Origin(seed=SEED_001, tutorial_name="MyLayer", shown=("torch",), note="the parameter + buffer example"),
        torch=lambda p: _torch().RunningMeanScale(p["num_features"]),
        tf=lambda p: _tf().RunningMeanScale(p["num_features"]),
        dims={"batch": st.integers(1, 3), "num_features": st.integers(1, 8)},
        inputs=(Tensor("x", ("batch", "num_features")),),
        weights={"weight": "weight", "running_mean": Link("running_mean")},
        calls=3,
        checks=(*DEFAULT_CHECKS, "state"),
        description="x * weight; running_mean = 0.9 * running_mean + 0.1 * mean(x, 0) on every call.",
        train_step=TRAIN_STEP,
        # a scaling and a mean over the batch: elementwise, no FLOPs counted
        bench=Bench(
            small={"batch": ELEMENTWISE_SMALL["batch"], "num_features": ELEMENTWISE_SMALL["features"]},
            large={"batch": ELEMENTWISE_LARGE["batch"], "num_features": ELEMENTWISE_LARGE["features"]},
        ),
    ),
)
