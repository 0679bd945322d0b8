"""PyTorch stochastic layers from the tutorials: dropout, alone and shared inside an MLP.

Seed 003 shows them in Keras, where ``training`` is a call argument; torch reads the
module's ``self.training`` flag (``.train()`` / ``.eval()``) instead. In inference both are
the identity; in training both zero each element with probability ``rate`` and scale the
survivors by ``1 / (1 - rate)``, with different random streams, so only the statistics can
agree there.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch.nn.functional as F
from torch import Tensor, nn

from harness.arguments import check_positive_int, check_rate
from layers_torch.dense import DenseWithActivation

__all__ = ["DropoutLayer", "MLPBlock"]


class DropoutLayer(nn.Module):
    """Seed 003 ``DropoutLayer`` (Keras there): dropout with ``rate`` in training, identity otherwise."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_rate(rate)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.rate, training=self.training)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class MLPBlock(nn.Module):
    """Seed 003 ``MLPBlock`` (Keras there): ``Dense(units, relu)`` per ``units_list`` entry, one shared dropout.

    The dense layers (``dense_layers.0``, ...) are initialised as Keras's ``Dense``
    (glorot_uniform, zero bias) and apply the ReLU themselves, as Keras's do. The single
    ``dropout`` module (rate 0.2, the tutorial's) is applied after every one of them.
    Torch needs the input width, ``in_features``, up front.
    """

    def __init__(self, in_features: int, units_list: Sequence[int], rate: float = 0.2) -> None:
        super().__init__()
        check_positive_int("in_features", in_features)
        units = list(units_list)
        if not units:
            raise ValueError(f"Received an invalid value for `units_list`, expected one or more positive integers. "
                             f"Received: units_list={units_list!r}")
        self.in_features = in_features
        self.units_list = units
        self.dense_layers = nn.ModuleList(DenseWithActivation(i, o) for i, o in pairwise([in_features, *units]))
        self.dropout = nn.Dropout(check_rate(rate))

    def forward(self, x: Tensor) -> Tensor:
        for dense in self.dense_layers:
            x = self.dropout(dense(x))
        return x

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, units_list={self.units_list}"
