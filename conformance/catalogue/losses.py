"""Pairs for the loss functions (``layers_torch.losses`` / ``layers_tf.losses``): functions, not layers."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.catalogue import ELEMENTWISE_LARGE, ELEMENTWISE_SMALL, SEED_001, twins
from harness.spec import Bench, LayerPair, Origin, Tensor

__all__ = ["PAIRS"]



_torch, _tf = twins("losses")


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="custom_loss_001",
        origin=Origin(seed=SEED_001, tutorial_name="custom_loss", shown=("torch", "tf")),
        torch=lambda p: _torch().custom_loss,
        # The one place the argument orders meet: torch's is (outputs, targets), Keras's
        # (targets, outputs); both sides are called as (outputs, targets).
        tf=lambda p: lambda outputs, targets: _tf().custom_loss(targets, outputs),
        dims={"batch": st.integers(1, 4), "features": st.integers(1, 12)},
        inputs=(Tensor("outputs", ("batch", "features")), Tensor("targets", ("batch", "features"))),
        # a squared difference and a mean: elementwise, no FLOPs counted
        bench=Bench(small=ELEMENTWISE_SMALL, large=ELEMENTWISE_LARGE),
        description=(
            "Mean squared error. The tutorial's two versions take their arguments in opposite "
            "orders (torch (outputs, targets), TF (targets, outputs)); the TF factory swaps them."
        ),
    ),
)
