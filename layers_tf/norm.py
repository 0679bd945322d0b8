"""Keras 3 normalisation layers from the tutorials (twins in ``layers_torch.norm``).

Seed 001's ``my_dense_block`` is a *function* in the functional API; it stays one here
(:func:`dense_block`, :func:`functional_mlp`), each layer named so that the harness can
address it with ``model.get_layer(name)``. :class:`DenseBlock` is the same computation as a
layer, for checking the block alone. Both use Keras's own ``Dense`` and
``BatchNormalization`` with their defaults, as the tutorial does.

Seed 002's ``LayerNorm`` (torch there: unbiased std, epsilon outside the square root) and
seed 003's ``LayerNormalization`` (biased variance, epsilon inside) are two formulas that
share their ``gamma``/``beta`` weights through :class:`_FeatureNorm`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import ops

from harness.arguments import check_positive_int, check_positive_ints
from layers_tf._serialization import serializable
from layers_tf.dense import Shape

__all__ = ["DenseBlock", "LayerNorm", "LayerNormalization", "dense_block", "functional_mlp"]


def dense_block(
    x: Any, units: int, activation: Any = "relu", *, name: str | None = None, dtype: Any = None
) -> Any:
    """Seed 001 ``my_dense_block``: ``Dense(units, activation)`` then ``BatchNormalization()`` on ``x``.

    The tutorial's function with two keyword-only additions: ``name`` names the layers
    ``{name}_dense`` and ``{name}_bn`` (so a weight map can say ``block1_dense.kernel``
    rather than depend on Keras's auto-numbered names), and ``dtype`` is passed to both
    (``None``: the global dtype policy, as in the tutorial).
    """
    check_positive_int("units", units)
    dense_name = None if name is None else f"{name}_dense"
    bn_name = None if name is None else f"{name}_bn"
    x = keras.layers.Dense(units, activation=activation, name=dense_name, dtype=dtype)(x)
    return keras.layers.BatchNormalization(name=bn_name, dtype=dtype)(x)


def functional_mlp(
    in_features: int = 10, widths: Sequence[int] = (64, 32), *, dtype: Any = None, name: str = "functional_mlp"
) -> keras.Model:
    """Seed 001's functional model: ``Input(in_features)``, a :func:`dense_block` per width, ``Dense(1)``.

    The tutorial's ``Input(10) -> dense_block(64) -> dense_block(32) -> Dense(1)`` are the
    defaults. Blocks are named ``block1``, ``block2``, ... (layers ``block1_dense``,
    ``block1_bn``, ...) and the last layer ``head``.

    The ``Input`` takes the dtype policy's compute dtype: a functional model casts what it
    is called with to its inputs' dtype, so a float32 ``Input`` would round float64 data.
    """
    check_positive_int("in_features", in_features)
    sizes = check_positive_ints("widths", widths)
    policy = keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()
    inputs = keras.Input(shape=(in_features,), dtype=policy.compute_dtype, name="inputs")
    x = inputs
    for index, units in enumerate(sizes, start=1):
        x = dense_block(x, units, name=f"block{index}", dtype=policy)
    outputs = keras.layers.Dense(1, name="head", dtype=policy)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


@serializable
class DenseBlock(keras.layers.Layer):
    """Seed 001 ``my_dense_block`` as a layer: ``dense`` (``Dense(units, activation)``) then ``batch_norm``.

    Both sub-layers keep Keras's defaults (glorot_uniform/zeros; epsilon 1e-3, momentum 0.99).
    """

    def __init__(self, units: int, activation: Any = "relu", **kwargs: Any) -> None:
        check_positive_int("units", units)
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.dense = keras.layers.Dense(units, activation=activation, dtype=self.dtype_policy)
        self.batch_norm = keras.layers.BatchNormalization(dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(min_ndim=2)

    def build(self, input_shape: Shape) -> None:
        self.dense.build(input_shape)
        self.batch_norm.build(self.dense.compute_output_shape(input_shape))

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.batch_norm(self.dense(inputs), training=training)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
        }


class _FeatureNorm(keras.layers.Layer):
    """``gamma * normalize(x) + beta`` over the last axis, gamma ones and beta zeros.

    ``features``, when given, is enforced through the input spec (the torch-style twin takes
    it as an argument). Subclasses say how ``normalize`` treats the spread, and pass their
    caller's ``**kwargs`` as ``layer_kwargs``, for ``keras.layers.Layer`` alone (see
    ``layers_tf.dense._Affine``): ``LayerNormalization(features=4)`` is refused, not
    honoured and then lost by ``get_config``.
    """

    def __init__(self, layer_kwargs: Mapping[str, Any], *, features: int | None = None, epsilon: float = 1e-6) -> None:
        if features is not None:
            check_positive_int("features", features)
        if epsilon < 0:
            raise ValueError(
                f"Received an invalid value for `epsilon`, expected a value >= 0. Received: epsilon={epsilon!r}"
            )
        super().__init__(**layer_kwargs)
        self.features = features
        self.epsilon = float(epsilon)
        self.input_spec = keras.InputSpec(min_ndim=1, axes=None if features is None else {-1: features})

    def build(self, input_shape: Shape) -> None:
        # The tutorial passes the name positionally (add_weight('gamma', ...)); Keras 3's first
        # parameter is the shape, so it is name= here.
        self.gamma = self.add_weight(name="gamma", shape=input_shape[-1:], initializer="ones")
        self.beta = self.add_weight(name="beta", shape=input_shape[-1:], initializer="zeros")

    def normalize(self, inputs: Any) -> Any:
        raise NotImplementedError

    def call(self, inputs: Any) -> Any:
        return ops.add(ops.multiply(self.gamma, self.normalize(inputs)), self.beta)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)


@serializable
class LayerNorm(_FeatureNorm):
    """Seed 002 ``LayerNorm`` (torch there): ``gamma * (x - mean) / (std + eps) + beta``.

    ``std`` is the *unbiased* standard deviation, ``sqrt(sum((x - mean)^2) / (n - 1))``, as
    torch's ``Tensor.std`` (Keras's ``ops.std`` and ``ops.var`` are biased), and ``eps`` is
    added outside the square root. With one feature it is 0/0: NaN, as in torch.
    """

    def __init__(self, features: int, eps: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(kwargs, features=features, epsilon=eps)

    @property
    def eps(self) -> float:
        return self.epsilon

    def normalize(self, inputs: Any) -> Any:
        n = inputs.shape[-1]
        centered = ops.subtract(inputs, ops.mean(inputs, axis=-1, keepdims=True))
        variance = ops.divide(ops.sum(ops.square(centered), axis=-1, keepdims=True), float(n - 1))
        return ops.divide(centered, ops.add(ops.sqrt(variance), self.epsilon))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "features": self.features, "eps": self.epsilon}


@serializable
class LayerNormalization(_FeatureNorm):
    """Seed 003 ``LayerNormalization``: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    ``mean`` and the *biased* ``var`` come from ``ops.moments``, Keras's ``tf.nn.moments``.
    Not to be confused with ``keras.layers.LayerNormalization`` (epsilon 1e-3 by default).
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(kwargs, epsilon=epsilon)

    def normalize(self, inputs: Any) -> Any:
        mean, variance = ops.moments(inputs, axes=[-1], keepdims=True)
        return ops.divide(ops.subtract(inputs, mean), ops.sqrt(ops.add(variance, self.epsilon)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}
