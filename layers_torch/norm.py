"""PyTorch normalisation layers from the tutorials: Keras's dense block, two layer norms.

Seed 001's ``my_dense_block`` and functional MLP are Keras code; their torch twins convert
Keras's ``BatchNormalization`` defaults (epsilon 1e-3, momentum 0.99 meaning "keep 99% of
the old statistic") into ``nn.BatchNorm1d``'s terms (``eps=1e-3``, ``momentum=0.01``
meaning "take 1% of the new one"), and initialise each dense layer as Keras's ``Dense``
does (glorot_uniform kernel, zero bias) through :class:`layers_torch.dense.DenseWithActivation`.

Seed 002's ``LayerNorm`` and seed 003's ``LayerNormalization`` look alike but are two
formulas: the first divides by the *unbiased* standard deviation plus epsilon, the second
by the square root of the *biased* variance plus epsilon. Both are here, sharing their
``gamma``/``beta`` parameters through :class:`_FeatureNorm`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn

from harness.arguments import check_positive_int, check_positive_ints
from layers_torch.dense import DenseWithActivation

__all__ = [
    "KERAS_BATCH_NORM_EPSILON",
    "KERAS_BATCH_NORM_MOMENTUM",
    "DenseBlock",
    "FunctionalMLP",
    "LayerNorm",
    "LayerNormalization",
    "keras_batch_norm",
]

# keras.layers.BatchNormalization's defaults, in Keras's own meaning.
KERAS_BATCH_NORM_EPSILON = 1e-3
KERAS_BATCH_NORM_MOMENTUM = 0.99


def keras_batch_norm(num_features: int) -> nn.BatchNorm1d:
    """``nn.BatchNorm1d`` with ``keras.layers.BatchNormalization()``'s defaults.

    Keras updates ``moving = momentum * moving + (1 - momentum) * batch``; torch updates
    ``running = (1 - momentum) * running + momentum * batch``. So Keras's 0.99 is torch's
    0.01, and the epsilon is Keras's 1e-3, not torch's 1e-5. The momentum is computed as
    ``1 - 0.99`` (0.010000000000000009), the weight Keras itself gives the batch, not the
    literal 0.01.
    """
    check_positive_int("num_features", num_features)
    return nn.BatchNorm1d(num_features, eps=KERAS_BATCH_NORM_EPSILON, momentum=1.0 - KERAS_BATCH_NORM_MOMENTUM)


class DenseBlock(nn.Module):
    """Seed 001 ``my_dense_block``: ``Dense(units, activation)`` then ``BatchNormalization()``.

    The dense layer (``dense``) is initialised as Keras's ``Dense`` and applies the
    activation itself, as Keras's does, so a stage boundary after it means the same on both
    sides; ``batch_norm`` has Keras's defaults (:func:`keras_batch_norm`). Inputs are
    (batch, features), which ``BatchNorm1d`` normalises per feature.
    """

    def __init__(self, in_features: int, units: int, activation: str | None = "relu") -> None:
        super().__init__()
        self.dense = DenseWithActivation(in_features, units, activation)
        self.batch_norm = keras_batch_norm(units)

    def reset_parameters(self) -> None:
        self.dense.reset_parameters()
        self.batch_norm.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.batch_norm(self.dense(x))


class FunctionalMLP(nn.Module):
    """Seed 001's functional MLP: ``Input(in_features)``, one :class:`DenseBlock` per width, ``Dense(1)``.

    The tutorial's model is ``Input(10) -> dense_block(64) -> dense_block(32) -> Dense(1)``;
    those are the defaults. Blocks are ``blocks.0``, ``blocks.1``, ...; the final layer,
    ``head``, is a Keras-initialised dense layer without activation.
    """

    def __init__(self, in_features: int = 10, widths: Sequence[int] = (64, 32)) -> None:
        super().__init__()
        check_positive_int("in_features", in_features)
        self.in_features = in_features
        self.widths = check_positive_ints("widths", widths)
        sizes = (in_features, *self.widths)
        self.blocks = nn.ModuleList(DenseBlock(i, o) for i, o in pairwise(sizes))
        self.head = DenseWithActivation(sizes[-1], 1, activation=None)

    def reset_parameters(self) -> None:
        for block in self.blocks:
            block.reset_parameters()
        self.head.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, widths={self.widths}"


class _FeatureNorm(nn.Module):
    """``gamma * normalize(x) + beta`` over the last axis, gamma ones and beta zeros.

    Subclasses say how ``normalize`` treats the spread; the parameters, their
    initialisation and the repr are shared.
    """

    def __init__(self, features: int, eps: float = 1e-6) -> None:
        super().__init__()
        check_positive_int("features", features)
        if eps < 0:
            raise ValueError(f"Received an invalid value for `eps`, expected a value >= 0. Received: eps={eps!r}")
        self.features = features
        self.eps = float(eps)
        self.gamma = nn.Parameter(torch.empty(features))
        self.beta = nn.Parameter(torch.empty(features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.ones_(self.gamma)
        nn.init.zeros_(self.beta)

    def normalize(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self.gamma * self.normalize(x) + self.beta

    def extra_repr(self) -> str:
        return f"features={self.features}, eps={self.eps}"


class LayerNorm(_FeatureNorm):
    """Seed 002 ``LayerNorm``: ``gamma * (x - mean) / (std + eps) + beta``.

    ``std`` is ``Tensor.std``'s default, the *unbiased* (n - 1) estimate, and ``eps`` is
    added to it outside the square root. With one feature the unbiased std is 0/0: NaN.
    """

    def normalize(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        std = x.std(dim=-1, keepdim=True)
        return (x - mean) / (std + self.eps)


class LayerNormalization(_FeatureNorm):
    """Seed 003 ``LayerNormalization`` (Keras there): ``gamma * (x - mean) / sqrt(var + eps) + beta``.

    ``var`` is ``tf.nn.moments``'s *biased* (n) variance and ``eps`` is inside the square
    root. The tutorial calls the argument ``epsilon``; so does this twin.
    """

    def __init__(self, features: int, epsilon: float = 1e-6) -> None:
        super().__init__(features, eps=epsilon)

    def normalize(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        variance = x.var(dim=-1, keepdim=True, unbiased=False)
        return (x - mean) / torch.sqrt(variance + self.eps)
