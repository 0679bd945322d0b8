"""PyTorch activations from the tutorials, and the one activation-by-name lookup.

Keras layers take ``activation="relu"`` and resolve it with ``keras.activations.get``; every
torch twin that takes an activation name resolves it with :func:`get_activation` here, so
both sides agree on what a name means (softmax over the last axis, exact GELU, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "Activation",
    "CenteredLayer",
    "CustomReLU",
    "CustomReLUFunction",
    "Swish",
    "ThresholdReLU",
    "custom_relu",
    "get_activation",
]

Activation = Callable[[Tensor], Tensor]


def _linear(x: Tensor) -> Tensor:
    return x


def _softmax(x: Tensor) -> Tensor:
    return F.softmax(x, dim=-1)


# Keras's names and defaults: softmax over the last axis, elu alpha 1, exact (erf) GELU.
_ACTIVATIONS: dict[str, Activation] = {
    "linear": _linear,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": _softmax,
    "silu": F.silu,
    "swish": F.silu,
    "gelu": F.gelu,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
}


def get_activation(name: str | None) -> Activation:
    """The activation called ``name`` in Keras (``None`` is the identity, as in Keras)."""
    if name is None:
        return _linear
    try:
        return _ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown activation; expected None or one of {sorted(_ACTIVATIONS)}. Received: activation={name!r}"
        ) from None


class ThresholdReLU(nn.Module):
    """Seed 001 ``MyReLU``: ``x`` where ``x > threshold``, else 0 (so 0 at the threshold itself)."""

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = float(threshold)

    def forward(self, x: Tensor) -> Tensor:
        return torch.where(x > self.threshold, x, torch.zeros_like(x))

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}"


class CustomReLUFunction(torch.autograd.Function):
    """Seed 002's ``CustomReLU`` autograd function: clamp at 0, hand-written backward.

    The backward zeroes the gradient only where ``x < 0``, so at exactly 0 it passes the
    incoming gradient through (1, where the built-in ReLU gives 0).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[x < 0] = 0
        return grad_input


def custom_relu(x: Tensor) -> Tensor:
    """ReLU with the hand-written backward of :class:`CustomReLUFunction`."""
    return CustomReLUFunction.apply(x)


class CustomReLU(nn.Module):
    """Seed 002's ``CustomReLUModule``: :func:`custom_relu` as a module (gradient 1 at 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return custom_relu(x)


class Swish(nn.Module):
    """Seed 002 ``Swish``: ``x * sigmoid(x)``."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(x)


class CenteredLayer(nn.Module):
    """Seed 004 ``CenteredLayer``: subtract the mean of every element, batch included."""

    def forward(self, x: Tensor) -> Tensor:
        return x - x.mean()
