"""Keras 3 twins of the tutorials' convolutional layers (``layers_torch.conv``).

Every layer here is channels-last (NHWC), the Keras default; the torch twins are NCHW and the
pairs permute activations between the two. Where a torch layer's result depends on the layout
it is undone here: :class:`Flatten` flattens in torch's (C, H, W) order (:class:`NaiveFlatten`
is the Keras order, kept for the pair that shows the difference).

The blocks twin torch modules, so their convolutions are torch's: :class:`TorchConv2D` pads
explicitly and symmetrically as ``nn.Conv2d(padding=p)`` (Keras's ``'same'`` is TF's, which
is asymmetric for strides above 1), batch norms use torch's epsilon and momentum, and every
initialiser is torch's default. Sub-layers take the parent's dtype policy and are named like
the torch sub-modules (lists where torch has ``nn.Sequential``), so weight maps read
``block.0.weight -> block.0.kernel``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from harness.arguments import check_non_negative_int, check_padding, check_positive_int
from layers_tf._serialization import serializable
from layers_tf.dense import Shape, _kaiming_uniform_sqrt5, torch_linear_dense
from layers_tf.models import _build_chain

__all__ = [
    "ConvBlock",
    "CustomConv2D",
    "DownBlock",
    "Flatten",
    "NaiveFlatten",
    "ResidualBlock",
    "SEBlock",
    "SimpleUNet",
    "TorchConv2D",
    "UpBlock",
    "torch_conv_transpose2d",
]

# SimpleUNet pools three times and its transposed convolutions double back exactly.
_UNET_FACTOR = 8


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _torch_bias_init(fan_in: int) -> keras.initializers.Initializer:
    """torch's default conv/linear bias: U(+-1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(minval=-bound, maxval=bound)


def _torch_batch_norm(dtype: Any) -> keras.layers.BatchNormalization:
    """``nn.BatchNorm2d``'s defaults in Keras: eps 1e-5 (Keras: 1e-3), momentum 0.1 in torch's sense.

    torch updates ``running = (1 - m) * running + m * batch`` and Keras ``moving = m * moving +
    (1 - m) * batch``, so torch's momentum 0.1 is Keras's 0.9 (Keras's default is 0.99).
    """
    return keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, dtype=dtype)


def _output_shape(layers: Sequence[keras.layers.Layer], input_shape: Shape) -> Shape:
    """The output shape of ``layers`` applied in sequence, without building them."""
    shape = tuple(input_shape)
    for layer in layers:
        shape = tuple(layer.compute_output_shape(shape))
    return shape


def _call_chain(layers: Sequence[keras.layers.Layer], x: Any, training: bool | None) -> Any:
    """Apply ``layers`` in sequence, passing ``training`` on (batch norms read it; others ignore it)."""
    for layer in layers:
        x = layer(x, training=training)
    return x


@serializable
class TorchConv2D(keras.layers.Conv2D):
    """torch's ``nn.Conv2d(in_channels, filters, kernel_size, strides, padding)`` as a Keras ``Conv2D``.

    ``padding`` is torch's: an integer, zeros added symmetrically on every spatial side before
    a ``'valid'`` convolution. Keras's ``'same'`` is not a substitute in general: for a stride
    above 1 (or an even kernel) TF puts the odd pixel only after. Initialisers are torch's
    defaults, kaiming_uniform(a=sqrt(5)) kernel and U(+-1/sqrt(fan_in)) bias, which is why
    ``in_channels`` is an argument (Keras's bias initialiser never sees the fan-in).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: int = 0,
        use_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_non_negative_int("padding", padding)
        kernel_height, kernel_width = _pair(kernel_size)
        kwargs.setdefault("kernel_initializer", _kaiming_uniform_sqrt5())
        kwargs.setdefault("bias_initializer", _torch_bias_init(in_channels * kernel_height * kernel_width))
        super().__init__(filters, kernel_size, strides=strides, padding="valid", use_bias=use_bias, **kwargs)
        self.in_channels = in_channels
        self.explicit_padding = padding

    def _padded_shape(self, input_shape: Shape) -> Shape:
        p = 2 * self.explicit_padding
        spatial = slice(1, 3) if self.data_format == "channels_last" else slice(2, 4)
        shape = list(input_shape)
        shape[spatial] = [None if d is None else d + p for d in shape[spatial]]
        return tuple(shape)

    def call(self, inputs: Any) -> Any:
        p = self.explicit_padding
        if p:
            spatial = [[p, p], [p, p]]
            if self.data_format == "channels_last":
                inputs = ops.pad(inputs, [[0, 0], *spatial, [0, 0]])
            else:
                inputs = ops.pad(inputs, [[0, 0], [0, 0], *spatial])
        return super().call(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return super().compute_output_shape(self._padded_shape(input_shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "in_channels": self.in_channels, "padding": self.explicit_padding}


def torch_conv_transpose2d(
    in_channels: int, out_channels: int, kernel_size: int, strides: int, **kwargs: Any
) -> keras.layers.Conv2DTranspose:
    """A ``'valid'`` Keras ``Conv2DTranspose`` initialised as torch's ``nn.ConvTranspose2d``.

    torch computes a transposed convolution's fan-in from its weight's dim 1, which is
    ``out_channels``: kernel and bias are both bounded by ``1/sqrt(out_channels * k * k)``.
    Keras's fan-in of the (k, k, out, in) kernel is the same product, so VarianceScaling agrees.
    """
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    check_positive_int("kernel_size", kernel_size)
    return keras.layers.Conv2DTranspose(
        out_channels,
        kernel_size,
        strides=strides,
        padding="valid",
        kernel_initializer=_kaiming_uniform_sqrt5(),
        bias_initializer=_torch_bias_init(out_channels * kernel_size * kernel_size),
        **kwargs,
    )


@serializable
class Flatten(keras.layers.Layer):
    """Seed 002 ``Flatten`` on a channels-last input, flattened in torch's channels-first order.

    torch flattens an NCHW tensor as (C, H, W); Keras's ``Flatten`` flattens NHWC as (H, W, C),
    the same numbers in another order, so any layer after it would see permuted features.
    This moves the channels to axis 1 first, so both twins agree element for element.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.input_spec = keras.InputSpec(min_ndim=2)

    def call(self, inputs: Any) -> Any:
        rank = len(inputs.shape)
        channels_first = ops.transpose(inputs, (0, rank - 1, *range(1, rank - 1)))
        return ops.reshape(channels_first, (ops.shape(inputs)[0], -1))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


@serializable
class NaiveFlatten(keras.layers.Flatten):
    """Keras's ``Flatten`` on a channels-last input: (H, W, C) order, what a naive port of ``Flatten`` writes.

    It agrees with torch's ``x.view(b, -1)`` on NCHW only when C == 1 or H * W == 1. Kept for
    the pair that declares that divergence; use :class:`Flatten` to match torch.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("data_format", None)  # get_config writes it back; the order is the point
        super().__init__(data_format="channels_last", **kwargs)


@serializable
class CustomConv2D(keras.layers.Layer):
    """Seed 003 ``CustomConv2D``: ``tf.nn.conv2d`` with a square kernel, strides, TF padding, bias, activation.

    ``padding`` is ``'same'`` or ``'valid'`` (any case: the tutorial upper-cases it for
    ``tf.nn.conv2d``). Kernel (k, k, in, filters) glorot_uniform, bias zeros, activation by name
    (relu by default). The tutorial passes the weight names positionally, which Keras 3 refuses.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: str = "same",
        activation: Any = "relu",
        **kwargs: Any,
    ) -> None:
        check_positive_int("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        check_positive_int("strides", strides)
        padding = check_padding(padding)
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape: Shape) -> None:
        in_channels = input_shape[-1]
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: in_channels})
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel", shape=(k, k, in_channels, self.filters), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs: Any) -> Any:
        outputs = tf.nn.conv2d(
            inputs, self.kernel, strides=[1, self.strides, self.strides, 1], padding=self.padding.upper()
        )
        return self.activation(outputs + self.bias)

    def _output_size(self, size: int | None) -> int | None:
        if size is None:
            return None
        if self.padding == "same":
            return -(-size // self.strides)
        return (size - self.kernel_size) // self.strides + 1

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        batch, height, width, _ = input_shape
        return (batch, self._output_size(height), self._output_size(width), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "activation": keras.activations.serialize(self.activation),
        }


@serializable
class ConvBlock(keras.layers.Layer):
    """Seed 002 ``ConvBlock``: ``TorchConv2D(use_bias=False) -> BatchNormalization -> ReLU`` in ``block``.

    The convolution pads as torch's ``nn.Conv2d(padding=padding)``; the batch norm has torch's
    epsilon and momentum. ``block.0`` is the convolution, ``block.1`` the batch norm, as in torch.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        **kwargs: Any,
    ) -> None:
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
        ):
            check_positive_int(name, value)
        check_non_negative_int("padding", padding)
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.block = [
            TorchConv2D(
                in_channels,
                out_channels,
                kernel_size,
                strides=stride,
                padding=padding,
                use_bias=False,
                dtype=self.dtype_policy,
            ),
            _torch_batch_norm(self.dtype_policy),
            keras.layers.ReLU(dtype=self.dtype_policy),
        ]
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: in_channels})

    def build(self, input_shape: Shape) -> None:
        _build_chain(self.block, input_shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return _call_chain(self.block, inputs, training)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return _output_shape(self.block, input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
        }


@serializable
class ResidualBlock(keras.layers.Layer):
    """Seed 002 ``ResidualBlock``: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``, 3x3 convs with bias.

    The convolutions pad 1 on every side as torch's (for a 3x3 kernel at stride 1 that is also
    Keras's ``'same'``; :class:`TorchConv2D` says so without relying on it).
    """

    def __init__(self, channels: int, **kwargs: Any) -> None:
        check_positive_int("channels", channels)
        super().__init__(**kwargs)
        self.channels = channels
        self.conv1 = TorchConv2D(channels, channels, 3, padding=1, dtype=self.dtype_policy)
        self.bn1 = _torch_batch_norm(self.dtype_policy)
        self.conv2 = TorchConv2D(channels, channels, 3, padding=1, dtype=self.dtype_policy)
        self.bn2 = _torch_batch_norm(self.dtype_policy)
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def build(self, input_shape: Shape) -> None:
        _build_chain([self.conv1, self.bn1, self.conv2, self.bn2], input_shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        out = ops.relu(self.bn1(self.conv1(inputs), training=training))
        out = self.bn2(self.conv2(out), training=training)
        return ops.relu(out + inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels}


@serializable
class SEBlock(keras.layers.Layer):
    """Seed 002 ``SEBlock``: squeeze (global average), excite (Dense-ReLU-Dense-sigmoid), scale.

    ``squeeze`` keeps the (1, 1) spatial dims, as torch's ``AdaptiveAvgPool2d(1)``; the Dense
    layers are initialised as ``nn.Linear``. The bottleneck is ``channels // reduction`` wide,
    so ``channels >= reduction``.
    """

    def __init__(self, channels: int, reduction: int = 16, **kwargs: Any) -> None:
        check_positive_int("channels", channels)
        check_positive_int("reduction", reduction)
        if channels < reduction:
            raise ValueError(
                "Received an invalid value for `reduction`, expected at most `channels` (the bottleneck is "
                f"channels // reduction wide). Received: channels={channels}, reduction={reduction}"
            )
        super().__init__(**kwargs)
        self.channels = channels
        self.reduction = reduction
        hidden = channels // reduction
        self.squeeze = keras.layers.GlobalAveragePooling2D(keepdims=True, dtype=self.dtype_policy)
        self.excitation = [
            torch_linear_dense(channels, hidden, dtype=self.dtype_policy),
            keras.layers.ReLU(dtype=self.dtype_policy),
            torch_linear_dense(hidden, channels, dtype=self.dtype_policy),
            keras.layers.Activation("sigmoid", dtype=self.dtype_policy),
        ]
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def build(self, input_shape: Shape) -> None:
        self.squeeze.build(input_shape)
        _build_chain(self.excitation, (input_shape[0], self.channels))

    def call(self, inputs: Any) -> Any:
        y = ops.reshape(self.squeeze(inputs), (-1, self.channels))
        for layer in self.excitation:
            y = layer(y)
        return inputs * ops.reshape(y, (-1, 1, 1, self.channels))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "reduction": self.reduction}


@serializable
class DownBlock(keras.layers.Layer):
    """Seed 002 ``DownBlock``: ``ConvBlock -> ConvBlock -> MaxPooling2D(2)`` in ``block``.

    It returns the pooled tensor; with ``return_skip=True``, ``(pooled, features)`` where
    ``features`` is the second ConvBlock's output before pooling (:class:`SimpleUNet`'s skip).
    """

    def __init__(self, in_channels: int, out_channels: int, return_skip: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.return_skip = return_skip
        self.block = [
            ConvBlock(in_channels, out_channels, dtype=self.dtype_policy),
            ConvBlock(out_channels, out_channels, dtype=self.dtype_policy),
            keras.layers.MaxPooling2D(2, dtype=self.dtype_policy),
        ]

    def build(self, input_shape: Shape) -> None:
        _build_chain(self.block, input_shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        features = _call_chain(self.block[:2], inputs, training)
        pooled = self.block[2](features)
        return (pooled, features) if self.return_skip else pooled

    def compute_output_shape(self, input_shape: Shape) -> Shape | tuple[Shape, Shape]:
        features = _output_shape(self.block[:2], input_shape)
        pooled = tuple(self.block[2].compute_output_shape(features))
        return (pooled, features) if self.return_skip else pooled

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "return_skip": self.return_skip,
        }


@serializable
class UpBlock(keras.layers.Layer):
    """Seed 002 ``UpBlock``: ``Conv2DTranspose(k=2, s=2)``, concatenate ``skip`` on channels, two ConvBlocks.

    The upsampled tensor comes first in the concatenation (the last axis here, torch's dim 1);
    ``skip`` must have ``out_channels`` channels and twice the input's height and width.
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.up = torch_conv_transpose2d(in_channels, out_channels, 2, 2, dtype=self.dtype_policy)
        self.conv = [
            ConvBlock(out_channels * 2, out_channels, dtype=self.dtype_policy),
            ConvBlock(out_channels, out_channels, dtype=self.dtype_policy),
        ]
        # an input spec checks the first argument only; ``build`` checks the skip
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: in_channels})

    def _concat_shape(self, inputs_shape: Shape) -> Shape:
        up_shape = self.up.compute_output_shape(inputs_shape)
        return (*up_shape[:-1], 2 * self.out_channels)

    def build(self, inputs_shape: Shape, skip_shape: Shape) -> None:
        if len(skip_shape) != 4 or skip_shape[-1] != self.out_channels:
            raise ValueError(
                f"UpBlock expects a 4-D skip with out_channels={self.out_channels} channels on the last axis. "
                f"Received: skip_shape={tuple(skip_shape)}"
            )
        self.up.build(inputs_shape)
        _build_chain(self.conv, self._concat_shape(inputs_shape))

    def call(self, inputs: Any, skip: Any, training: bool | None = None) -> Any:
        x = ops.concatenate([self.up(inputs), skip], axis=-1)
        return _call_chain(self.conv, x, training)

    def compute_output_shape(self, inputs_shape: Shape, skip_shape: Shape) -> Shape:
        return _output_shape(self.conv, self._concat_shape(inputs_shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "in_channels": self.in_channels, "out_channels": self.out_channels}


@serializable
class SimpleUNet(keras.Model):
    """Seed 002 ``SimpleUNet``: three DownBlocks, a two-ConvBlock bottom, three UpBlocks, a 1x1 conv.

    Widths are ``base, 2 base, 4 base, 8 base`` (the tutorial's ``base`` is 64); height and
    width must be divisible by 8. As in ``layers_torch.conv.SimpleUNet``, the skips are each
    DownBlock's features before its pool: the tutorial passes the pooled outputs, whose sizes
    cannot match the upsampled tensors they are concatenated with (see the torch twin).
    ``bottom`` is a list, as the torch ``nn.Sequential`` (``bottom.0``, ``bottom.1``).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, base: int = 64, **kwargs: Any) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        check_positive_int("base", base)
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.base = base
        dtype = self.dtype_policy
        self.down1 = DownBlock(in_channels, base, return_skip=True, dtype=dtype)
        self.down2 = DownBlock(base, 2 * base, return_skip=True, dtype=dtype)
        self.down3 = DownBlock(2 * base, 4 * base, return_skip=True, dtype=dtype)
        self.bottom = [ConvBlock(4 * base, 8 * base, dtype=dtype), ConvBlock(8 * base, 8 * base, dtype=dtype)]
        self.up3 = UpBlock(8 * base, 4 * base, dtype=dtype)
        self.up2 = UpBlock(4 * base, 2 * base, dtype=dtype)
        self.up1 = UpBlock(2 * base, base, dtype=dtype)
        self.final = TorchConv2D(base, out_channels, 1, dtype=dtype)
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: in_channels})

    def build(self, input_shape: Shape) -> None:
        _, height, width, _ = input_shape
        if any(d is not None and d % _UNET_FACTOR for d in (height, width)):
            raise ValueError(
                f"SimpleUNet expects a height and width divisible by {_UNET_FACTOR}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        skips = []
        shape = tuple(input_shape)
        for down in (self.down1, self.down2, self.down3):
            down.build(shape)
            shape, skip = down.compute_output_shape(shape)
            skips.append(skip)
        shape = _build_chain(self.bottom, shape)
        for up, skip in zip((self.up3, self.up2, self.up1), reversed(skips), strict=True):
            up.build(shape, skip)
            shape = up.compute_output_shape(shape, skip)
        self.final.build(shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        p1, s1 = self.down1(inputs, training=training)
        p2, s2 = self.down2(p1, training=training)
        p3, s3 = self.down3(p2, training=training)
        bottom = _call_chain(self.bottom, p3, training)
        u3 = self.up3(bottom, s3, training=training)
        u2 = self.up2(u3, s2, training=training)
        u1 = self.up1(u2, s1, training=training)
        return self.final(u1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.out_channels)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "base": self.base,
        }
