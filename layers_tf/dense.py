"""Keras 3 twins of the tutorials' dense layers (``layers_torch.dense``).

Most are one computation, ``activation(x @ kernel (+ bias))``, with different initialiser,
bias and activation defaults, so they share :class:`_Affine`. The kernel is Keras's
(in, out); the pairs map torch's (out, in) ``weight`` onto it with a transpose. Initialisers
mirror the torch side's: glorot_uniform = ``xavier_uniform_``, he_normal = a normal
truncated at 2 stddevs, random_normal = N(0, 0.05), and torch's ``randn`` and
``kaiming_uniform_(a=sqrt(5))`` are spelled out below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import keras
from keras import ops

from harness.arguments import check_positive_int
from layers_tf._serialization import serializable

__all__ = [
    "CustomDense",
    "Demo",
    "DenseBias",
    "DenseNoBias",
    "DenseNoBiasActivation",
    "DenseWithActivation",
    "DetachedReLULinear",
    "KaimingLinear",
    "LinearWrapper",
    "ReLULinear",
    "RawLinear",
    "ReprLinear",
    "SimpleDense",
    "torch_linear_dense",
]

Shape = tuple[int | None, ...]


def _standard_normal() -> keras.initializers.Initializer:
    """torch's ``randn``: N(0, 1)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=1.0)


def _kaiming_uniform_sqrt5() -> keras.initializers.Initializer:
    """torch's ``kaiming_uniform_(w, a=sqrt(5))`` (``nn.Linear``'s weight): U(+-1/sqrt(fan_in))."""
    return keras.initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_in", distribution="uniform")


def torch_linear_dense(in_features: int, units: int, **kwargs: Any) -> keras.layers.Dense:
    """A Keras ``Dense`` initialised as torch's ``nn.Linear(in_features, units)``.

    Both kernel and bias are U(+-1/sqrt(in_features)), where Keras's defaults would be
    glorot_uniform and zeros.
    """
    check_positive_int("in_features", in_features)
    bound = 1.0 / math.sqrt(in_features)
    return keras.layers.Dense(
        units,
        kernel_initializer=_kaiming_uniform_sqrt5(),
        bias_initializer=keras.initializers.RandomUniform(minval=-bound, maxval=bound),
        **kwargs,
    )


class _Affine(keras.layers.Layer):
    """``activation(x @ kernel (+ bias))``: the computation the dense twins share.

    ``in_features``, when given, is enforced through the input spec (torch-style twins take
    it as an argument); ``_CONFIG`` maps each subclass's constructor arguments to the
    attributes ``get_config`` reads them from, so every subclass round-trips.

    A subclass passes its caller's ``**kwargs`` on as one mapping, ``layer_kwargs``, for
    ``keras.layers.Layer`` alone, which refuses an unknown keyword. Spread into this
    signature, a setting the subclass does not take as an argument
    (``SimpleDense(4, activation="relu")``) would be honoured, yet missing from
    ``get_config`` and so lost in a save/load round trip.
    """

    _CONFIG: ClassVar[Mapping[str, str]] = {"units": "units"}

    def __init__(
        self,
        units: int,
        layer_kwargs: Mapping[str, Any],
        *,
        in_features: int | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
    ) -> None:
        check_positive_int("units", units)
        if in_features is not None:
            check_positive_int("in_features", in_features)
        super().__init__(**layer_kwargs)
        self.units = units
        self.in_features = in_features
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.input_spec = keras.InputSpec(min_ndim=2, axes=None if in_features is None else {-1: in_features})

    def build(self, input_shape: Shape) -> None:
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )

    def call(self, inputs: Any) -> Any:
        outputs = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = ops.add(outputs, self.bias)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for argument, attribute in self._CONFIG.items():
            value = getattr(self, attribute)
            config[argument] = keras.activations.serialize(value) if attribute == "activation" else value
        return config


@serializable
class DenseNoBias(_Affine):
    """Seed 000 ``MyDense``: ``x @ kernel``, glorot_uniform, no bias."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, kwargs, use_bias=False)


@serializable
class DenseNoBiasActivation(_Affine):
    """Seed 000 ``MyDenseWithActivation``: he_normal kernel, no bias, activation by name."""

    _CONFIG: ClassVar[Mapping[str, str]] = {"units": "units", "activation": "activation"}

    def __init__(self, units: int, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(units, kwargs, activation=activation, use_bias=False, kernel_initializer="he_normal")


@serializable
class DenseBias(_Affine):
    """Seed 001 ``MyDense``: ``x @ w + b``, random_normal kernel, zero bias, activation by name."""

    _CONFIG: ClassVar[Mapping[str, str]] = {"units": "units", "activation": "activation"}

    def __init__(self, units: int, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(units, kwargs, activation=activation, kernel_initializer="random_normal")


@serializable
class SimpleDense(_Affine):
    """Seed 003 ``SimpleDense``: glorot_uniform kernel, zero bias, no activation."""

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        super().__init__(units, kwargs)


@serializable
class DenseWithActivation(_Affine):
    """Seed 003 ``DenseWithActivation``: glorot_uniform kernel, zero bias, activation (relu).

    The tutorial passes the weight name positionally (``add_weight('kernel', ...)``), which
    Keras 3 refuses (its first parameter is ``shape``); here it is ``name=``.
    """

    _CONFIG: ClassVar[Mapping[str, str]] = {"units": "units", "activation": "activation"}

    def __init__(self, units: int, activation: Any = "relu", **kwargs: Any) -> None:
        super().__init__(units, kwargs, activation=activation)


@serializable
class CustomDense(DenseWithActivation):
    """Seed 003 ``CustomDense``: a dense layer that round-trips through its config.

    The tutorial adds ``get_config`` (units, serialised activation) and ``from_config``
    (``cls(**config)``) to :class:`DenseWithActivation`; here every layer has that
    ``get_config``, and Keras 3's ``Layer.from_config`` is ``cls(**config)`` already.
    """


@serializable
class RawLinear(_Affine):
    """Seed 002 ``MyLinear``: raw parameters, ``randn`` kernel, zero bias, ``x @ W + b``."""

    _CONFIG: ClassVar[Mapping[str, str]] = {"in_features": "in_features", "out_features": "units"}

    def __init__(self, in_features: int, out_features: int, **kwargs: Any) -> None:
        super().__init__(out_features, kwargs, in_features=in_features, kernel_initializer=_standard_normal())


@serializable
class KaimingLinear(_Affine):
    """Seed 002 ``MyLayer`` (reset_parameters): kaiming_uniform(a=sqrt(5)) kernel, zero bias."""

    _CONFIG: ClassVar[Mapping[str, str]] = {"in_features": "in_features", "out_features": "units"}

    def __init__(self, in_features: int, out_features: int, **kwargs: Any) -> None:
        super().__init__(
            out_features, kwargs, in_features=in_features, kernel_initializer=_kaiming_uniform_sqrt5()
        )


@serializable
class ReprLinear(_Affine):
    """Seed 002 ``MyLayer`` (extra_repr): ``randn`` kernel, no bias.

    torch's ``extra_repr`` (``in_features=..., out_features=...``) has its Keras analogue in
    ``get_config``, which reports exactly those two arguments.
    """

    _CONFIG: ClassVar[Mapping[str, str]] = {"in_features": "in_features", "out_features": "units"}

    def __init__(self, in_features: int, out_features: int, **kwargs: Any) -> None:
        super().__init__(
            out_features, kwargs, in_features=in_features, use_bias=False, kernel_initializer=_standard_normal()
        )


@serializable
class ReLULinear(_Affine):
    """Seed 004 ``MyLinear``: kernel (in_units, units) and bias ``randn``, ``relu(X @ W + b)``."""

    _CONFIG: ClassVar[Mapping[str, str]] = {"in_units": "in_features", "units": "units"}

    def __init__(self, in_units: int, units: int, **kwargs: Any) -> None:
        super().__init__(
            units,
            kwargs,
            in_features=in_units,
            activation="relu",
            kernel_initializer=_standard_normal(),
            bias_initializer=_standard_normal(),
        )


@serializable
class DetachedReLULinear(ReLULinear):
    """The correct twin of torch's ``DetachedReLULinear`` (seed 004's ``.data`` bug).

    Keras has no ``.data``: this layer's parameters get their gradients, as the tutorial
    meant. The pair declares the gradient divergence that torch's bug causes.
    """


@serializable
class LinearWrapper(keras.layers.Layer):
    """Seed 000 ``MyLinear``: a layer that only wraps a ``Dense`` (initialised as ``nn.Linear``)."""

    def __init__(self, in_features: int, out_features: int, **kwargs: Any) -> None:
        check_positive_int("out_features", out_features)
        super().__init__(**kwargs)
        self.in_features = in_features
        self.out_features = out_features
        self.linear = torch_linear_dense(in_features, out_features, dtype=self.dtype_policy)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: in_features})

    def build(self, input_shape: Shape) -> None:
        self.linear.build(input_shape)

    def call(self, inputs: Any) -> Any:
        return self.linear(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.out_features)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "in_features": self.in_features, "out_features": self.out_features}


@serializable
class Demo(keras.layers.Layer):
    """Seed 002 ``Demo``: a learnable (n, n) weight next to a plain, non-learnable tensor.

    ``not_learnable`` is a constant tensor, not a Keras variable (not even a non-trainable
    one), so the layer's weights are exactly torch's ``state_dict``: ``learnable`` alone.
    """

    def __init__(self, n: int = 3, **kwargs: Any) -> None:
        check_positive_int("n", n)
        super().__init__(**kwargs)
        self.n = n
        self.not_learnable = keras.random.normal((n, n), dtype=self.compute_dtype)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: n})

    def build(self, input_shape: Shape) -> None:
        self.learnable = self.add_weight(name="learnable", shape=(self.n, self.n), initializer=_standard_normal())

    def call(self, inputs: Any) -> Any:
        return ops.matmul(inputs, self.learnable)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.n)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}
