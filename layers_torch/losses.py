"""PyTorch loss functions from the tutorials (paired with ``layers_tf.losses``)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["custom_loss"]


def custom_loss(outputs: Tensor, targets: Tensor) -> Tensor:
    """Seed 001 ``custom_loss``: mean squared error, torch's argument order ``(outputs, targets)``.

    The Keras twin takes ``(targets, outputs)``, Keras's ``(y_true, y_pred)`` order.
    """
    return torch.mean((outputs - targets) ** 2)
