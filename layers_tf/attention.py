"""Keras 3 attention layers from the tutorials (twins in ``layers_torch.attention``).

:class:`AttentionLayer` is seed 001's Keras version, a bare (d, 1) scoring weight, by
default; ``use_bias=True`` adds the bias torch's ``nn.Linear(d, 1)`` has, which makes it
the torch version's exact twin. :class:`SelfAttention` twins seed 002's torch layer (its
dense layers initialised as ``nn.Linear``) and :class:`MultiHeadSelfAttention` is seed 003's
Keras ``SelfAttention``; both attend through :func:`_attend`.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from harness.arguments import check_heads, check_positive_int
from layers_tf._serialization import serializable
from layers_tf.dense import Shape, torch_linear_dense

__all__ = ["AttentionLayer", "MultiHeadSelfAttention", "SelfAttention"]


def _attend(query: Any, key: Any, value: Any, scale: float) -> Any:
    """``softmax(query @ key^T / scale) @ value`` over the last two axes.

    ``scale`` is a Python float: the tutorial's ``tf.cast(head_dim, tf.float32)`` would
    refuse to divide a float64 tensor.
    """
    scores = ops.divide(ops.matmul(query, ops.swapaxes(key, -2, -1)), scale)
    return ops.matmul(ops.softmax(scores, axis=-1), value)


def _build_all(layers: list[keras.layers.Layer], input_shape: Shape) -> None:
    """Build every layer on the same input shape."""
    for layer in layers:
        layer.build(input_shape)


@serializable
class AttentionLayer(keras.layers.Layer):
    """Seed 001 ``AttentionLayer`` (Keras version): attention pooling over the sequence.

    ``softmax(x @ W (+ b), axis=1)`` weights a sum of ``x`` over the sequence:
    (batch, seq, d) -> (batch, d). ``W`` is (d, 1), random_normal, named
    ``attention_weight`` as in the tutorial. The tutorial has no bias (``use_bias=False``,
    the default); ``use_bias=True`` adds a (1,) bias ``b``, zero-initialised, for the
    torch version's ``nn.Linear(d, 1)``. A bias shifts every position's score equally,
    which the softmax ignores, so both settings compute the same function; they differ in
    their parameters.
    """

    def __init__(self, use_bias: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)
        self.input_spec = keras.InputSpec(ndim=3)

    def build(self, input_shape: Shape) -> None:
        self.W = self.add_weight(name="attention_weight", shape=(input_shape[-1], 1), initializer="random_normal")
        self.b = self.add_weight(name="attention_bias", shape=(1,), initializer="zeros") if self.use_bias else None

    def call(self, inputs: Any) -> Any:
        scores = ops.matmul(inputs, self.W)  # (batch, seq, 1)
        if self.b is not None:
            scores = ops.add(scores, self.b)
        attention_weights = ops.softmax(scores, axis=1)
        return ops.sum(ops.multiply(inputs, attention_weights), axis=1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "use_bias": self.use_bias}


@serializable
class SelfAttention(keras.layers.Layer):
    """Seed 002 ``SelfAttention`` (torch there): one head, ``softmax(Q K^T / sqrt(d)) V``.

    ``query``, ``key`` and ``value`` are ``Dense(embed_dim)`` initialised as torch's
    ``nn.Linear``; there is no output projection.
    """

    def __init__(self, embed_dim: int, **kwargs: Any) -> None:
        check_positive_int("embed_dim", embed_dim)
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.scale = embed_dim**0.5
        self.query = torch_linear_dense(embed_dim, embed_dim, dtype=self.dtype_policy)
        self.key = torch_linear_dense(embed_dim, embed_dim, dtype=self.dtype_policy)
        self.value = torch_linear_dense(embed_dim, embed_dim, dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: embed_dim})

    def build(self, input_shape: Shape) -> None:
        _build_all([self.query, self.key, self.value], input_shape)

    def call(self, inputs: Any) -> Any:
        return _attend(self.query(inputs), self.key(inputs), self.value(inputs), self.scale)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "embed_dim": self.embed_dim}


@serializable
class MultiHeadSelfAttention(keras.layers.Layer):
    """Seed 003 ``SelfAttention``: ``num_heads`` heads of ``embed_dim // num_heads``.

    The tutorial's layer with Keras-style argument checks instead of its ``assert``, and the
    scale ``sqrt(head_dim)`` as a Python float (see :func:`_attend`). The four dense layers
    keep Keras's defaults.
    """

    def __init__(self, embed_dim: int, num_heads: int, **kwargs: Any) -> None:
        check_heads(embed_dim, num_heads)
        super().__init__(**kwargs)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.query_dense = keras.layers.Dense(embed_dim, dtype=self.dtype_policy)
        self.key_dense = keras.layers.Dense(embed_dim, dtype=self.dtype_policy)
        self.value_dense = keras.layers.Dense(embed_dim, dtype=self.dtype_policy)
        self.combine_heads = keras.layers.Dense(embed_dim, dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: embed_dim})

    def build(self, input_shape: Shape) -> None:
        _build_all([self.query_dense, self.key_dense, self.value_dense, self.combine_heads], input_shape)

    def separate_heads(self, x: Any, batch_size: Any) -> Any:
        """(batch, seq, embed_dim) -> (batch, num_heads, seq, head_dim)."""
        x = ops.reshape(x, (batch_size, -1, self.num_heads, self.head_dim))
        return ops.transpose(x, axes=(0, 2, 1, 3))

    def call(self, inputs: Any) -> Any:
        batch_size = ops.shape(inputs)[0]
        query = self.separate_heads(self.query_dense(inputs), batch_size)
        key = self.separate_heads(self.key_dense(inputs), batch_size)
        value = self.separate_heads(self.value_dense(inputs), batch_size)
        output = _attend(query, key, value, math.sqrt(self.head_dim))
        output = ops.reshape(ops.transpose(output, axes=(0, 2, 1, 3)), (batch_size, -1, self.embed_dim))
        return self.combine_heads(output)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "embed_dim": self.embed_dim, "num_heads": self.num_heads}
