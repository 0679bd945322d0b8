"""Keras 3 recurrent layers from the tutorials (twins in ``layers_torch.recurrent``).

Seed 001's Keras ``MyRNNCell`` has one bias ``b``; its torch cell has two (one per
``nn.Linear``). ``split_bias=True`` gives this cell torch's two, ``b_ih`` and ``b_hh``: the
same function whenever ``b == b_ih + b_hh``, but a different parameter set, which trains
differently (each bias gets the full gradient, so the sum moves twice as fast).

A Keras cell is called ``cell(inputs, states) -> (output, new_states)``; :class:`CellStep`
calls it as torch calls its cell, ``step(x, h) -> h``. :class:`RNNSequence` is the
tutorial's ``keras.layers.RNN(cell, return_sequences=True, return_state=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from harness.arguments import check_positive_int
from layers_tf._serialization import serializable
from layers_tf.dense import Shape

__all__ = ["CellStep", "MyRNNCell", "RNNSequence"]


@serializable
class MyRNNCell(keras.layers.Layer):
    """Seed 001 ``MyRNNCell`` (Keras version): ``h = tanh(x @ W_ih + h_prev @ W_hh + b)``.

    ``W_ih`` (input, units) and ``W_hh`` (units, units) are random_normal, the bias zero, as
    in the tutorial. ``split_bias=True`` replaces ``b`` by ``b_ih + b_hh``, torch's two
    biases. ``state_size`` makes it a cell for ``keras.layers.RNN``; the layers holding it
    (``RNN``, :class:`CellStep`) serialise it into their own config and rebuild it by name.
    """

    def __init__(self, units: int, split_bias: bool = False, **kwargs: Any) -> None:
        check_positive_int("units", units)
        super().__init__(**kwargs)
        self.units = units
        self.split_bias = bool(split_bias)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape: Shape) -> None:
        self.W_ih = self.add_weight(name="W_ih", shape=(input_shape[-1], self.units), initializer="random_normal")
        self.W_hh = self.add_weight(name="W_hh", shape=(self.units, self.units), initializer="random_normal")
        if self.split_bias:
            self.b_ih = self.add_weight(name="b_ih", shape=(self.units,), initializer="zeros")
            self.b_hh = self.add_weight(name="b_hh", shape=(self.units,), initializer="zeros")
        else:
            self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")

    def bias(self) -> Any:
        """The bias the cell adds: ``b``, or ``b_ih + b_hh`` with ``split_bias``."""
        return ops.add(self.b_ih, self.b_hh) if self.split_bias else self.b

    def call(self, inputs: Any, states: Sequence[Any]) -> tuple[Any, list[Any]]:
        prev_output = states[0]
        h = ops.tanh(ops.matmul(inputs, self.W_ih) + ops.matmul(prev_output, self.W_hh) + self.bias())
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "split_bias": self.split_bias}


@serializable
class CellStep(keras.layers.Layer):
    """One step of a Keras RNN cell, called as torch calls its cell: ``step(x, h) -> h``.

    ``cell(x, [h])`` returns ``(output, [h'])``; this returns the new state alone, so the
    step has one output on both sides. The cell is the attribute ``cell``, as in
    ``keras.layers.RNN``.
    """

    def __init__(self, cell: keras.layers.Layer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell = cell

    def build(self, input_shape: Shape) -> None:
        if not self.cell.built:  # a cell rebuilt from a config arrives built
            self.cell.build(input_shape)

    def call(self, inputs: Any, state: Any) -> Any:
        _, new_states = self.cell(inputs, [state])
        return new_states[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cell": keras.saving.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CellStep:
        config = dict(config)
        cell = keras.saving.deserialize_keras_object(config.pop("cell"))
        return cls(cell, **config)


@serializable
class RNNSequence(keras.layers.RNN):
    """``keras.layers.RNN(cell, return_sequences=True, return_state=True)``, the tutorial's usage.

    Called on (batch, time, features) from a zero state, it returns ``[outputs, h]``: every
    step's output (batch, time, units) and the last state (batch, units), as torch's
    ``RNNSequence`` returns ``(outputs, h)``. The two flags are fixed, so they are left out
    of the config; the rest of ``keras.layers.RNN``'s arguments pass through.

    With ``unroll=False`` (the default, the tutorial's) the TF backend runs a
    ``tf.while_loop`` and calls the cell one extra time first, on step 0, only to learn the
    output's dtype and shape; ``unroll=True`` calls it exactly once per step.
    """

    def __init__(self, cell: keras.layers.Layer, **kwargs: Any) -> None:
        super().__init__(cell, return_sequences=True, return_state=True, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("return_sequences")
        config.pop("return_state")
        return config
