"""Keras 3 twins of the tutorials' activations (``layers_torch.activations``).

Activation *names* need no lookup here: Keras layers resolve them with
``keras.activations.get``, which the torch side's ``get_activation`` mirrors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from layers_tf._serialization import serializable

__all__ = ["CenteredLayer", "CustomReLU", "Swish", "ThresholdReLU", "custom_relu"]


@serializable
class ThresholdReLU(keras.layers.Layer):
    """Seed 001 ``MyReLU``: ``x`` where ``x > threshold``, else 0 (so 0 at the threshold itself)."""

    def __init__(self, threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threshold = float(threshold)

    def call(self, inputs: Any) -> Any:
        return ops.where(inputs > self.threshold, inputs, ops.zeros_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "threshold": self.threshold}


@tf.custom_gradient
def custom_relu(x: tf.Tensor) -> tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]:
    """ReLU with seed 002's hand-written backward: the gradient is zeroed only where ``x < 0``.

    At exactly 0 the incoming gradient passes through (1), where ``tf.nn.relu`` gives 0.
    """

    def grad(upstream: tf.Tensor) -> tf.Tensor:
        return tf.where(x < 0, tf.zeros_like(upstream), upstream)

    return tf.maximum(x, tf.zeros_like(x)), grad


@serializable
class CustomReLU(keras.layers.Layer):
    """Seed 002 ``CustomReLU``: :func:`custom_relu` as a layer (gradient 1 at 0)."""

    def call(self, inputs: Any) -> Any:
        return custom_relu(inputs)


@serializable
class Swish(keras.layers.Layer):
    """Seed 002 ``Swish``: ``x * sigmoid(x)``."""

    def call(self, inputs: Any) -> Any:
        return inputs * ops.sigmoid(inputs)


@serializable
class CenteredLayer(keras.layers.Layer):
    """Seed 004 ``CenteredLayer``: subtract the mean of every element, batch included."""

    def call(self, inputs: Any) -> Any:
        return inputs - ops.mean(inputs)
