"""PyTorch convolutional layers from the tutorials: flattening, convolutions and the blocks built on them.

The Keras twins in ``layers_tf.conv`` receive channels-last (NHWC) tensors where these receive
NCHW, so two traps are spelled out here rather than left to the reader: flattening order (torch
flattens (C, H, W), Keras (H, W, C)) and TF's ``'same'`` padding, which for a stride above 1 pads
asymmetrically (the extra pixel at the bottom/right) where ``nn.Conv2d(padding=k // 2)`` pads both
sides. :class:`CustomConv2D` reproduces TF exactly; :class:`NaiveCustomConv2D` is the naive port,
kept for the pair that shows the difference.

Sub-module names follow the tutorials (``block``, ``conv1``, ``excitation``, ``up``, ...) so that
``state_dict`` names read the same as the Keras attribute paths they map to.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from harness.arguments import check_non_negative_int, check_padding, check_positive_int
from layers_torch.activations import get_activation

__all__ = [
    "ConvBlock",
    "CustomConv2D",
    "DownBlock",
    "Flatten",
    "NaiveCustomConv2D",
    "ResidualBlock",
    "SEBlock",
    "SimpleUNet",
    "UpBlock",
    "same_padding",
]

# SimpleUNet pools three times and its transposed convolutions double back exactly.
_UNET_FACTOR = 8


def same_padding(size: int, kernel_size: int, stride: int) -> tuple[int, int]:
    """TF's ``'same'`` padding of one spatial dimension: ``(before, after)``.

    TF makes the output ``ceil(size / stride)`` long and pads ``total = max((out - 1) * stride
    + kernel_size - size, 0)``, the odd pixel *after*. With stride 2, kernel 3 and an even size
    that is ``(0, 1)``, where ``nn.Conv2d(padding=1)`` pads ``(1, 1)``.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


class Flatten(nn.Module):
    """Seed 002 ``Flatten``: ``(N, C, H, W) -> (N, C * H * W)`` in torch's (C, H, W) order.

    The tutorial writes ``x.view(x.size(0), -1)``; ``reshape`` gives the same values (a view
    whenever ``view`` would work) and also accepts a non-contiguous input, a permuted tensor say.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.size(0), -1)


class CustomConv2D(nn.Module):
    """Seed 003 ``CustomConv2D`` (shown in Keras): TF's ``conv2d`` with a square kernel, bias, activation.

    ``padding`` is TF's ``'same'`` or ``'valid'``. ``'same'`` is reproduced exactly, asymmetric
    padding included: :func:`same_padding` per spatial dimension, ``F.pad``, then an unpadded
    convolution. The weight is torch's (filters, in_channels, k, k); glorot_uniform, as the
    tutorial's kernel (torch's fans for that layout equal Keras's for (k, k, in, filters)), and
    a zero bias. The activation is looked up by its Keras name (relu by default).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: str = "same",
        activation: str | None = "relu",
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("filters", filters),
            ("kernel_size", kernel_size),
            ("strides", strides),
        ):
            check_positive_int(name, value)
        self.in_channels = in_channels
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = check_padding(padding)
        self.activation = activation
        self._activation = get_activation(activation)
        self.weight = nn.Parameter(torch.empty(filters, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(filters))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.weight)  # Keras glorot_uniform
        nn.init.zeros_(self.bias)

    def _pad(self, x: Tensor) -> Tensor:
        if self.padding == "valid":
            return x
        top, bottom = same_padding(x.shape[-2], self.kernel_size, self.strides)
        left, right = same_padding(x.shape[-1], self.kernel_size, self.strides)
        return F.pad(x, (left, right, top, bottom))

    def forward(self, x: Tensor) -> Tensor:
        return self._activation(F.conv2d(self._pad(x), self.weight, self.bias, stride=self.strides))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, filters={self.filters}, kernel_size={self.kernel_size}, "
            f"strides={self.strides}, padding={self.padding!r}, activation={self.activation}"
        )


class NaiveCustomConv2D(CustomConv2D):
    """:class:`CustomConv2D` as a naive port writes it: ``nn.Conv2d(..., padding=k // 2)`` for ``'same'``.

    Symmetric padding equals TF's only when ``(out - 1) * stride + k - size`` is even (stride 1
    with an odd kernel, say). With stride 2, kernel 3 and an even size TF pads (0, 1) and this
    pads (1, 1): same output shape, every window shifted by one pixel. Kept for the pair that
    declares that divergence; everything but the padding is :class:`CustomConv2D`'s.
    """

    def forward(self, x: Tensor) -> Tensor:
        padding = self.kernel_size // 2 if self.padding == "same" else 0
        return self._activation(F.conv2d(x, self.weight, self.bias, stride=self.strides, padding=padding))


class ConvBlock(nn.Module):
    """Seed 002 ``ConvBlock``: ``Conv2d(bias=False) -> BatchNorm2d -> ReLU`` in ``block`` (``block.0``, ...).

    The tutorial's ``nn.ReLU(inplace=True)`` is out of place here: the values are the same, and
    a hook recording the batch norm's output (stage localisation) must not see it overwritten.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int = 1
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
        ):
            check_positive_int(name, value)
        check_non_negative_int("padding", padding)
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class ResidualBlock(nn.Module):
    """Seed 002 ``ResidualBlock``: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``, 3x3 convs with bias.

    The tutorial's ``out += residual`` is ``out = out + residual`` here: the same values, without
    overwriting ``bn2``'s output in place (which a stage hook records).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        check_positive_int("channels", channels)
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + x)

    def extra_repr(self) -> str:
        return f"channels={self.channels}"


class SEBlock(nn.Module):
    """Seed 002 ``SEBlock``: squeeze (global average), excite (Linear-ReLU-Linear-Sigmoid), scale.

    The bottleneck is ``channels // reduction`` wide, so ``channels >= reduction``.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        check_positive_int("channels", channels)
        check_positive_int("reduction", reduction)
        if channels < reduction:
            raise ValueError(
                "Received an invalid value for `reduction`, expected at most `channels` (the bottleneck is "
                f"channels // reduction wide). Received: channels={channels}, reduction={reduction}"
            )
        self.channels = channels
        self.reduction = reduction
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Linear(channels, channels // reduction),
            nn.ReLU(),
            nn.Linear(channels // reduction, channels),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        b, c, _, _ = x.shape
        y = self.squeeze(x).view(b, c)
        y = self.excitation(y).view(b, c, 1, 1)
        return x * y

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class DownBlock(nn.Module):
    """Seed 002 ``DownBlock``: ``ConvBlock -> ConvBlock -> MaxPool2d(2)`` in ``block``.

    It returns the pooled tensor, as in the tutorial. With ``return_skip=True`` it returns
    ``(pooled, features)``, ``features`` being the second ConvBlock's output before pooling:
    the skip connection :class:`SimpleUNet` needs (see there why).
    """

    def __init__(self, in_channels: int, out_channels: int, return_skip: bool = False) -> None:
        super().__init__()
        self.return_skip = return_skip
        self.block = nn.Sequential(
            ConvBlock(in_channels, out_channels),
            ConvBlock(out_channels, out_channels),
            nn.MaxPool2d(2),
        )

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        features = self.block[1](self.block[0](x))
        pooled = self.block[2](features)
        return (pooled, features) if self.return_skip else pooled

    def extra_repr(self) -> str:
        return f"return_skip={self.return_skip}"


class UpBlock(nn.Module):
    """Seed 002 ``UpBlock``: ``ConvTranspose2d(k=2, s=2)``, concatenate ``skip`` on channels, two ConvBlocks.

    The upsampled tensor comes first in the concatenation; ``skip`` must have ``out_channels``
    channels and exactly twice ``x``'s height and width.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        self.conv = nn.Sequential(
            ConvBlock(out_channels * 2, out_channels),
            ConvBlock(out_channels, out_channels),
        )

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.up(x)
        x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class SimpleUNet(nn.Module):
    """Seed 002 ``SimpleUNet``: three DownBlocks, a two-ConvBlock bottom, three UpBlocks, a 1x1 conv.

    Widths are ``base, 2 base, 4 base, 8 base`` (the tutorial's ``base`` is 64); height and
    width must be divisible by 8.

    One change from the tutorial, whose wiring cannot run: its ``DownBlock`` returns the
    *pooled* tensor, so ``d1, d2, d3`` are H/2, H/4, H/8 while ``up3(bottom)`` is H/4, ``up2``
    H/2 and ``up1`` H: every ``torch.cat`` in the decoder fails on mismatched sizes (channels
    would match). No re-pairing of the pooled outputs fits both size and channels, so the skips
    here are each DownBlock's features *before* its pool (``DownBlock(return_skip=True)``): H
    with ``base`` channels, H/2 with ``2 base``, H/4 with ``4 base``, exactly what ``up1``,
    ``up2`` and ``up3`` produce: the standard U-Net. The bottom still takes the pooled H/8 tensor,
    and the parameters are the tutorial's, name for name.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, base: int = 64) -> None:
        super().__init__()
        check_positive_int("base", base)
        self.base = base
        self.down1 = DownBlock(in_channels, base, return_skip=True)
        self.down2 = DownBlock(base, 2 * base, return_skip=True)
        self.down3 = DownBlock(2 * base, 4 * base, return_skip=True)
        self.bottom = nn.Sequential(ConvBlock(4 * base, 8 * base), ConvBlock(8 * base, 8 * base))
        self.up3 = UpBlock(8 * base, 4 * base)
        self.up2 = UpBlock(4 * base, 2 * base)
        self.up1 = UpBlock(2 * base, base)
        self.final = nn.Conv2d(base, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        if height % _UNET_FACTOR or width % _UNET_FACTOR:
            raise ValueError(
                f"SimpleUNet expects a height and width divisible by {_UNET_FACTOR}. "
                f"Received: input_shape={tuple(x.shape)}"
            )
        p1, s1 = self.down1(x)
        p2, s2 = self.down2(p1)
        p3, s3 = self.down3(p2)
        bottom = self.bottom(p3)
        u3 = self.up3(bottom, s3)
        u2 = self.up2(u3, s2)
        u1 = self.up1(u2, s1)
        return self.final(u1)

    def extra_repr(self) -> str:
        return f"base={self.base}"
