"""Keras 3 stochastic layers from seed 003 (twins in ``layers_torch.stochastic``).

``training`` is a call argument here; torch reads its module's ``training`` flag. In
inference both sides are the identity; in training each zeroes elements with probability
``rate`` and scales the rest by ``1 / (1 - rate)``, from its own random stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from harness.arguments import check_positive_int, check_rate
from layers_tf._serialization import serializable
from layers_tf.dense import Shape

__all__ = ["DropoutLayer", "MLPBlock"]


@serializable
class DropoutLayer(keras.layers.Layer):
    """Seed 003 ``DropoutLayer``: ``tf.nn.dropout(inputs, rate)`` when ``training``, else ``inputs``.

    ``keras.random.dropout`` is ``tf.nn.dropout``'s computation (stateless, on the TF
    backend) drawing from the layer's own seed generator, which is layer state but not a
    weight.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = check_rate(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool = False) -> Any:
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@serializable
class MLPBlock(keras.layers.Layer):
    """Seed 003 ``MLPBlock``: ``Dense(units, relu)`` per ``units_list`` entry, one shared ``Dropout`` after each.

    The dense layers are the list attribute ``dense_layers``; ``dropout`` is one
    ``keras.layers.Dropout(rate)`` (0.2, the tutorial's) called after every one of them.
    """

    def __init__(self, units_list: Sequence[int], rate: float = 0.2, **kwargs: Any) -> None:
        units = list(units_list)
        if not units:
            raise ValueError(f"Received an invalid value for `units_list`, expected one or more positive integers. "
                             f"Received: units_list={units_list!r}")
        for value in units:
            check_positive_int("units", value)
        super().__init__(**kwargs)
        self.units_list = units
        self.rate = check_rate(rate)
        self.dense_layers = [keras.layers.Dense(u, activation="relu", dtype=self.dtype_policy) for u in units]
        self.dropout = keras.layers.Dropout(self.rate, dtype=self.dtype_policy)

    def build(self, input_shape: Shape) -> None:
        shape = tuple(input_shape)
        for dense in self.dense_layers:
            dense.build(shape)
            shape = tuple(dense.compute_output_shape(shape))

    def call(self, inputs: Any, training: bool = False) -> Any:
        x = inputs
        for dense in self.dense_layers:
            x = self.dropout(dense(x), training=training)
        return x

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units_list[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units_list": list(self.units_list), "rate": self.rate}
