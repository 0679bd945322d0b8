"""Keras 3 twins of the tutorials' stateful layers (``layers_torch.stateful``).

torch keeps state that is not learned in a buffer; Keras keeps it in a non-trainable weight,
updated with ``assign``. Both are checkpointed with the layer and neither is trained.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from harness.arguments import check_positive_int
from layers_tf._serialization import serializable
from layers_tf.dense import Shape

__all__ = ["RunningMeanScale"]

# The tutorial's update keeps 90% of the old mean and takes 10% of the batch's (written as
# two constants: 1 - 0.9 is not 0.1 in floating point).
_KEEP, _TAKE = 0.9, 0.1


@serializable
class RunningMeanScale(keras.layers.Layer):
    """Seed 001 ``MyLayer`` (parameter + buffer): ``x * weight``; every call updates ``running_mean``.

    ``weight`` is (num_features,), N(0, 1) as torch's ``randn``; ``running_mean`` is a
    non-trainable weight, zeros, assigned ``0.9 * running_mean + 0.1 * mean(x, axis=0)`` on
    every call, in training and inference alike, as the torch layer does.
    """

    def __init__(self, num_features: int, **kwargs: Any) -> None:
        check_positive_int("num_features", num_features)
        super().__init__(**kwargs)
        self.num_features = num_features
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: num_features})

    def build(self, input_shape: Shape) -> None:
        self.weight = self.add_weight(
            name="weight",
            shape=(self.num_features,),
            initializer=keras.initializers.RandomNormal(mean=0.0, stddev=1.0),
        )
        self.running_mean = self.add_weight(
            name="running_mean", shape=(self.num_features,), initializer="zeros", trainable=False
        )

    def call(self, inputs: Any) -> Any:
        batch_mean = ops.mean(inputs, axis=0)
        self.running_mean.assign(ops.add(ops.multiply(self.running_mean, _KEEP), ops.multiply(batch_mean, _TAKE)))
        return ops.multiply(inputs, self.weight)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_features": self.num_features}
