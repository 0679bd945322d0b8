"""The built-in catalogue: one module per family, each defining ``PAIRS``.

Every module here is loaded by :func:`harness.registry.load`. Factories import the layer
modules lazily (through :func:`twins`), so listing the catalogue loads no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from types import ModuleType

from harness.bridge import TRANSPOSE
from harness.spec import Link, TorchOnly

SEED_000 = "000_4a42d213cdc6ab68.txt"
SEED_001 = "001_891ade5985017d1d.txt"
SEED_002 = "002_6d5a8be370592a52.txt"
SEED_003 = "003_a97a8166b70c951e.txt"
SEED_004 = "004_c5cf47aaaa4f9704.txt"


def twins(family: str) -> tuple[Callable[[], ModuleType], Callable[[], ModuleType]]:
    """Lazy importers of ``layers_torch.<family>`` and ``layers_tf.<family>``."""
    return (lambda: import_module(f"layers_torch.{family}")), (lambda: import_module(f"layers_tf.{family}"))


WeightMap = dict[str, Link | TorchOnly | str]

# Batch-norm pairs skip training mode until the training-mode checks exist; what they will meet:
BN_TRAIN_SKIP = (
    "training-mode checks come with the training-mode issue; batch statistics need more than one value "
    "per channel (torch refuses a batch of 1 at 1x1), and torch updates running_var with the unbiased batch "
    "variance where Keras updates moving_variance with the biased one, so the buffers will differ (outputs agree)"
)


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
