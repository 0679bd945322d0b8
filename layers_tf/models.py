"""Keras 3 twins of the tutorials' compositions (``layers_torch.models``).

Sub-layers take the parent's dtype policy, so a model built with ``dtype="float64"`` is
float64 throughout. Sub-layers that twin a torch ``nn.Linear`` are initialised as one
(:func:`layers_tf.dense.torch_linear_dense`). Every composite builds all its sub-layers in
``build``, so a branch that one call does not take still has its variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import keras
from keras import ops

from harness.arguments import check_positive_int, check_positive_ints
from layers_tf._serialization import serializable
from layers_tf.dense import DenseBias, ReLULinear, Shape, torch_linear_dense

__all__ = ["ConditionalLayer", "MultiLayer", "MyModel", "MyNetwork", "ReLULinearStack"]


def _build_chain(layers: Sequence[keras.layers.Layer], input_shape: Shape) -> Shape:
    """Build each layer on the previous one's output shape; return the last output shape."""
    shape = tuple(input_shape)
    for layer in layers:
        layer.build(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return shape


@serializable
class MultiLayer(keras.layers.Layer):
    """Seed 000 ``MultiLayer``: ``Dense`` layers from ``layer_sizes``, no activation between.

    ``layer_sizes`` is the input size followed by each layer's output size; the layers are the
    list attribute ``layers`` (``layers.0.kernel``, ...), as torch's ``ModuleList``.
    """

    def __init__(self, layer_sizes: Sequence[int], **kwargs: Any) -> None:
        sizes = list(check_positive_ints("layer_sizes", layer_sizes, at_least=2))
        super().__init__(**kwargs)
        self.layer_sizes = sizes
        self.layers = [torch_linear_dense(i, o, dtype=self.dtype_policy) for i, o in pairwise(sizes)]
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: sizes[0]})

    def build(self, input_shape: Shape) -> None:
        _build_chain(self.layers, input_shape)

    def call(self, inputs: Any) -> Any:
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.layer_sizes[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer_sizes": list(self.layer_sizes)}


@serializable
class ConditionalLayer(keras.layers.Layer):
    """Seed 000 ``ConditionalLayer``: two ``Dense`` branches; the Python bool ``condition`` picks one.

    Both branches are built in ``build`` whatever the first call's condition.
    """

    def __init__(self, in_features: int = 10, out_features: int = 5, **kwargs: Any) -> None:
        check_positive_int("out_features", out_features)
        super().__init__(**kwargs)
        self.in_features = in_features
        self.out_features = out_features
        self.branch1 = torch_linear_dense(in_features, out_features, dtype=self.dtype_policy)
        self.branch2 = torch_linear_dense(in_features, out_features, dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: in_features})

    def build(self, input_shape: Shape) -> None:
        self.branch1.build(input_shape)
        self.branch2.build(input_shape)

    def call(self, inputs: Any, condition: bool) -> Any:
        return self.branch1(inputs) if condition else self.branch2(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.out_features)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "in_features": self.in_features, "out_features": self.out_features}


@serializable
class MyNetwork(keras.Model):
    """Seed 001 ``MyNetwork``: Dense -> ReLU -> Dense."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, **kwargs: Any) -> None:
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("output_size", output_size)
        super().__init__(**kwargs)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.fc1 = torch_linear_dense(input_size, hidden_size, dtype=self.dtype_policy)
        self.fc2 = torch_linear_dense(hidden_size, output_size, dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_size})

    def build(self, input_shape: Shape) -> None:
        _build_chain([self.fc1, self.fc2], input_shape)

    def call(self, inputs: Any) -> Any:
        return self.fc2(ops.relu(self.fc1(inputs)))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "output_size": self.output_size,
        }


@serializable
class MyModel(keras.Model):
    """Seed 001 ``MyModel``: DenseBias(hidden, relu) -> DenseBias(num_classes, softmax).

    The tutorial's hidden width is 64; it is an argument here with that default.
    """

    def __init__(self, num_classes: int, hidden: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.hidden = hidden
        self.dense1 = DenseBias(hidden, activation="relu", dtype=self.dtype_policy)
        self.dense2 = DenseBias(num_classes, activation="softmax", dtype=self.dtype_policy)

    def build(self, input_shape: Shape) -> None:
        _build_chain([self.dense1, self.dense2], input_shape)

    def call(self, inputs: Any) -> Any:
        return self.dense2(self.dense1(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes, "hidden": self.hidden}


@serializable
class ReLULinearStack(keras.Model):
    """Seed 004 ``nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))`` with the sizes as arguments.

    The two :class:`ReLULinear` layers are the list attribute ``linears`` (a ``keras.Model``
    owns ``layers`` as a read-only property), matching torch's ``0.*`` and ``1.*``.
    """

    def __init__(self, in_units: int = 64, hidden: int = 8, units: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_units = in_units
        self.hidden = hidden
        self.units = units
        self.linears = [
            ReLULinear(in_units, hidden, dtype=self.dtype_policy),
            ReLULinear(hidden, units, dtype=self.dtype_policy),
        ]

    def build(self, input_shape: Shape) -> None:
        _build_chain(self.linears, input_shape)

    def call(self, inputs: Any) -> Any:
        x = inputs
        for linear in self.linears:
            x = linear(x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "in_units": self.in_units, "hidden": self.hidden, "units": self.units}
