"""The built-in catalogue: one module per family, each defining ``PAIRS``.

Every module here is loaded by :func:`harness.registry.load`. Factories import the layer
modules lazily (through :func:`twins`), so listing the catalogue loads no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from itertools import pairwise
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from harness.layouts import TRANSPOSE
from harness.spec import DEFAULT_CHECKS, KnownDivergence, Link, Params, TorchOnly, TrainStep

SEED_000 = "000_4a42d213cdc6ab68.txt"
SEED_001 = "001_891ade5985017d1d.txt"
SEED_002 = "002_6d5a8be370592a52.txt"
SEED_003 = "003_a97a8166b70c951e.txt"
SEED_004 = "004_c5cf47aaaa4f9704.txt"


def twins(family: str) -> tuple[Callable[[], ModuleType], Callable[[], ModuleType]]:
    """Lazy importers of ``layers_torch.<family>`` and ``layers_tf.<family>``."""
    return (lambda: import_module(f"layers_torch.{family}")), (lambda: import_module(f"layers_tf.{family}"))


WeightMap = dict[str, Link | TorchOnly | str]


def _custom_loss_torch() -> Callable[..., Any]:
    return import_module("layers_torch.losses").custom_loss


def _custom_loss_tf() -> Callable[..., Any]:
    keras_order = import_module("layers_tf.losses").custom_loss
    return lambda outputs, targets: keras_order(targets, outputs)  # Keras's loss takes (y_true, y_pred)


# Every pair with parameters is trained with the tutorial's own loss, the custom_loss pair.
# The learning rate is 1/8, exact in float32: Keras keeps an optimiser's learning rate in a
# float32 variable even for float64 weights, so 0.1 would update float64 weights with
# 0.10000000149 (tests/test_training.py shows it) and every float64 comparison would measure that.
TRAIN_STEP = TrainStep(torch_loss=_custom_loss_torch, tf_loss=_custom_loss_tf, lr=0.125, steps=5)

# Batch normalisation in training mode, as every batch-norm pair declares it.
RUNNING_VARIANCE = KnownDivergence(
    "state",
    reason=(
        "torch updates running_var with the unbiased batch variance (sum of squares / (n - 1)), Keras updates "
        "moving_variance with the biased one (/ n), n = values per channel in the batch: after one training "
        "call they differ by momentum x biased variance / (n - 1) (tests/test_batch_norm_statistics.py "
        "measures both rules). The running means must still agree, so only running_var is declared"
    ),
    modes=("train",),
    tensors=("state *running_var*",),
)
BATCH_NORM_TRAINING: dict[str, Any] = {
    "modes": ("eval", "train", "graph"),
    "checks": (*DEFAULT_CHECKS, "state"),
    # torch raises "Expected more than 1 value per channel when training" for a batch of one
    # value per channel, where Keras normalises it to beta: training batches have two or more
    "train_dims": {"batch": st.integers(2, 3)},
    "known_divergences": (RUNNING_VARIANCE,),
}


_NO_COUNTER = "Keras keeps no batch counter; only momentum=None would read it"


def inside(path: str, name: str) -> str:
    """``name`` inside the sub-layer at ``path`` ("" for the pair's layer itself)."""
    return f"{path}.{name}" if path else name


def dense_map(torch_path: str = "", tf_path: str | None = None, *, bias: bool = True) -> WeightMap:
    """torch's (out, in) ``weight`` (and ``bias``) -> Keras's (in, out) ``kernel`` (and ``bias``)."""
    tf_path = torch_path if tf_path is None else tf_path
    weights: WeightMap = {inside(torch_path, "weight"): Link(inside(tf_path, "kernel"), TRANSPOSE)}
    if bias:
        weights[inside(torch_path, "bias")] = inside(tf_path, "bias")
    return weights


def batch_norm_map(torch_path: str = "", tf_path: str | None = None) -> WeightMap:
    """A torch ``BatchNorm*d`` -> a Keras ``BatchNormalization``; the running variance is drawn positive."""
    tf_path = torch_path if tf_path is None else tf_path
    return {
        inside(torch_path, "weight"): inside(tf_path, "gamma"),
        inside(torch_path, "bias"): inside(tf_path, "beta"),
        inside(torch_path, "running_mean"): Link(inside(tf_path, "moving_mean")),
        inside(torch_path, "running_var"): Link(inside(tf_path, "moving_variance"), init="positive"),
        inside(torch_path, "num_batches_tracked"): TorchOnly(_NO_COUNTER),
    }


# Benchmark sizes of the (batch, features) pairs that compute elementwise (activations, losses,
# dropout, a batch norm): a few microseconds of arithmetic small, a million elements large.
ELEMENTWISE_SMALL: Params = {"batch": 32, "features": 256}
ELEMENTWISE_LARGE: Params = {"batch": 256, "features": 4096}


def dense_flops(rows: int, *widths: int) -> float:
    """Forward FLOPs of a chain of dense layers ``widths[0] -> widths[1] -> ...`` applied to ``rows`` rows.

    Each layer is a (rows, in) x (in, out) matmul, 2 FLOPs per multiply-add; biases and
    activations are elementwise and not counted.
    """
    return float(sum(2 * rows * n_in * n_out for n_in, n_out in pairwise(widths)))
