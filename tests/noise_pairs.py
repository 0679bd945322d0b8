"""Planted pairs for the noise floor (:mod:`harness.noise`): rounding it must tolerate, a difference it must catch.

A pair file in the user-facing sense (``conform run --pairs-from tests/noise_pairs.py``).
"""

from __future__ import annotations

import os
from dataclasses import replace

from conformance.catalogue import TRAIN_STEP
from conformance.catalogue.conv import PAIRS as CONV_PAIRS
from harness import LayerPair
from harness.spec import TrainStep
from tests.broken_pairs import DENSE_DIMS, LINEAR_MAP, ORIGIN, X, tf_dense, torch_linear

UNET = next(p for p in CONV_PAIRS if p.name == "simple_unet_002")
DOWN_BLOCK = next(p for p in CONV_PAIRS if p.name == "down_block_002")
# issue 22's second case: a batch norm's bias (one element) after an SGD step, 1.63e-14 apart, 21 times its own spread
DOWN_BLOCK_CASE = ('{"params":{"batch":3,"height":5,"in_channels":2,"out_channels":1,"width":7},'
                   '"regime":"normal","seed":158}')
# The case that failed a fixed 1e-9 on an AMD EPYC (issue 22): 3.5e-9 after five SGD steps, rounding only.
UNET_CASE = ('{"params":{"base":2,"batch":2,"height":8,"in_channels":2,"out_channels":2,"width":8},'
             '"regime":"normal","seed":340}')


def _scaled_loss(factor: float):
    """The catalogue's Keras loss times ``factor``: the gradient of every step scaled alike."""

    def make():
        loss = TRAIN_STEP.tf_loss()
        return lambda outputs, targets: loss(outputs, targets) * factor

    return make


# One ulp of float64 more in the loss each step: a drift of one rounding per step, which five SGD steps through
# batch norms over batches of two amplify as they amplify every other rounding. Must pass.
unet_one_ulp_drift = replace(
    UNET, name="unet_one_ulp_drift",
    train_step=TrainStep(TRAIN_STEP.torch_loss, _scaled_loss(1 + 2.0**-52), TRAIN_STEP.lr, TRAIN_STEP.steps),
    known_divergences=(), description="the catalogue's U-Net, its Keras loss one ulp larger: rounding drift")

# A loss scale that differs in the tenth digit: weights differ by ~1e-11 after five steps, below the fixed
# float64 tolerance (1e-9) and five orders above the floor of a linear layer. Must fail.
linear_loss_off_in_tenth_digit = LayerPair(
    name="linear_loss_off_in_tenth_digit", origin=ORIGIN, torch=torch_linear, tf=tf_dense, dims=DENSE_DIMS,
    inputs=X, weights=LINEAR_MAP, checks=(),
    train_step=TrainStep(TRAIN_STEP.torch_loss, _scaled_loss(1 + 1e-10), TRAIN_STEP.lr, TRAIN_STEP.steps),
    description="Keras's loss is 1 + 1e-10 times torch's: a real difference smaller than the fixed tolerance")

linear_trains_alike = replace(linear_loss_off_in_tenth_digit, name="linear_trains_alike", train_step=TRAIN_STEP,
                              description="the control: the same pair with the same loss")


def _tf_dense_off_on_one_thread(p):
    """Dense whose output is 5e-11 off (close to the float64 tolerance: sensitive), and 1e-6 off on one thread."""
    import keras

    factor = 1 + (1e-6 if os.environ.get("CONFORM_THREADS") == "1" else 5e-11)

    class Off(keras.layers.Dense):
        def call(self, x):
            return super().call(x) * factor

    return Off(p["units"])


# For `conform robust`: passes on the base configuration, near its tolerance; fails where CONFORM_THREADS=1.
linear_off_on_one_thread = LayerPair(
    name="linear_off_on_one_thread", origin=ORIGIN, torch=torch_linear, tf=_tf_dense_off_on_one_thread,
    dims=DENSE_DIMS, inputs=X, weights=LINEAR_MAP, checks=("forward",), modes=("eval",),
    description="a verdict that depends on the thread count, for conform robust to find")
