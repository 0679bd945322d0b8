"""Keras 3 twins of the tutorials' loss functions (``layers_torch.losses``)."""

from __future__ import annotations

from typing import Any

from keras import ops

__all__ = ["custom_loss"]


def custom_loss(targets: Any, outputs: Any) -> Any:
    """Seed 001 ``custom_loss``: mean squared error, Keras's argument order ``(targets, outputs)``.

    This is Keras's ``(y_true, y_pred)`` order; the torch twin takes ``(outputs, targets)``.
    """
    return ops.mean(ops.square(outputs - targets))
