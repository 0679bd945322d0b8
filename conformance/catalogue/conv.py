"""Pairs for the convolutional layers (``layers_torch.conv`` / ``layers_tf.conv``).

Inputs are NCHW on the torch side and NHWC on the TF side (``layout="channels_first"``).
torch keeps a conv weight as (out, in, kH, kW), Keras as (kH, kW, in, out); a transposed conv
as (in, out, kH, kW) and (kH, kW, out, in). Batch norms map ``weight``/``bias`` to
``gamma``/``beta`` and the running statistics to the moving ones. The two naive pairs declare
the layout traps the catalogue lists: flattening order and TF's asymmetric ``'same'`` padding.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.catalogue import (
    BATCH_NORM_TRAINING,
    SEED_002,
    SEED_003,
    TRAIN_STEP,
    batch_norm_map,
    dense_flops,
    inside,
    twins,
)
from harness import frameworks
from harness.layouts import CONV2D_OIHW_TO_HWIO, CONV_TRANSPOSE2D_IOHW_TO_HWOI, TRANSPOSE
from harness.spec import Bench, Builtin, KnownDivergence, LayerPair, Link, Origin, Params, Stage, Tensor, TorchOnly

__all__ = ["PAIRS"]


_BATCH = st.integers(1, 2)
_CHANNELS = st.integers(1, 4)
_SPATIAL = st.integers(1, 9)
_X = (Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),)
_X_IN = (Tensor("x", ("batch", "in_channels", "height", "width"), layout="channels_first"),)
# Continuous values only: ties or planted zeros can make two differently ordered (or padded)
# results coincide, and a declared divergence must reproduce on every example.
_DIVERGING_REGIMES = ("normal", "large", "tiny")


def _conv(path: str, *, bias: bool = True) -> dict[str, Link | str]:
    """Map a torch conv's (out, in, kH, kW) ``weight`` (and ``bias``) onto Keras's HWIO ``kernel`` (and ``bias``)."""
    weights: dict[str, Link | str] = {f"{path}.weight": Link(f"{path}.kernel", CONV2D_OIHW_TO_HWIO)}
    if bias:
        weights[f"{path}.bias"] = f"{path}.bias"
    return weights


def _conv_block(path: str) -> dict[str, Link | TorchOnly | str]:
    """Map a ConvBlock at ``path`` (``block.0`` conv without bias, ``block.1`` batch norm)."""
    return {**_conv(inside(path, "block.0"), bias=False), **batch_norm_map(inside(path, "block.1"))}


def _down_block(path: str) -> dict[str, Link | TorchOnly | str]:
    """Map a DownBlock: its two ConvBlocks are ``block.0`` and ``block.1`` on both sides."""
    return _conv_block(inside(path, "block.*"))


def _up_block(path: str) -> dict[str, Link | TorchOnly | str]:
    """Map an UpBlock: the transposed conv ``up`` and the ConvBlocks ``conv.0``, ``conv.1``."""
    return {
        inside(path, "up.weight"): Link(inside(path, "up.kernel"), CONV_TRANSPOSE2D_IOHW_TO_HWOI),
        inside(path, "up.bias"): inside(path, "up.bias"),
        **_conv_block(inside(path, "conv.*")),
    }


def _stages(*paths: str) -> tuple[Stage, ...]:
    """Channels-first stages whose path is the same on both sides."""
    return tuple(Stage(p, p, p, layout="channels_first") for p in paths)


def _spatial_at_least(size: int) -> st.SearchStrategy[int]:
    return st.integers(max(size, 1), 9)


_torch, _tf = twins("conv")


# --- Benchmarks. Convolution FLOPs: 2 per multiply-add; batch norms, activations, pools and
# the SE block's squeeze and scale are elementwise and not counted.


def _conv_flops(batch: int, c_in: int, c_out: int, kernel: int, out_h: int, out_w: int) -> float:
    """A k x k convolution: c_in * k * k multiply-adds for each of the batch * out_h * out_w * c_out outputs.

    A k x k stride-k transposed convolution does as many per *input* pixel: pass the input's size.
    """
    return 2.0 * batch * out_h * out_w * c_out * c_in * kernel * kernel


def _tf_out(size: int, kernel: int, stride: int, padding: str) -> int:
    """TF's output length: ceil(size / stride) for 'same', windows that fit for 'valid'.

    The naive port's symmetric k // 2 padding (odd k) gives the 'same' length too.
    """
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def _custom_conv_flops(p: Params) -> float:
    k, s, padding = p["kernel_size"], p["strides"], p.get("padding", "same")  # the naive pair is always 'same'
    out_h, out_w = _tf_out(p["height"], k, s, padding), _tf_out(p["width"], k, s, padding)
    return _conv_flops(p["batch"], p["in_channels"], p["filters"], k, out_h, out_w)


def _conv_block_flops(p: Params) -> float:
    """ConvBlock's convolution, torch's symmetric integer padding."""
    k, s, pad = p["kernel_size"], p["stride"], p["padding"]
    out_h, out_w = (p["height"] + 2 * pad - k) // s + 1, (p["width"] + 2 * pad - k) // s + 1
    return _conv_flops(p["batch"], p["in_channels"], p["out_channels"], k, out_h, out_w)


def _double_conv_flops(batch: int, c_in: int, c_out: int, h: int, w: int) -> float:
    """Two size-keeping 3x3 convolutions c_in -> c_out -> c_out (DownBlock's, the U-Net bottom's)."""
    return _conv_flops(batch, c_in, c_out, 3, h, w) + _conv_flops(batch, c_out, c_out, 3, h, w)


def _up_flops(batch: int, c_in: int, c_out: int, h: int, w: int) -> float:
    """UpBlock on an (h, w) input: the 2x2 stride-2 transposed conv, then two 3x3 convs at (2h, 2w)."""
    return _conv_flops(batch, c_in, c_out, 2, h, w) + _double_conv_flops(batch, 2 * c_out, c_out, 2 * h, 2 * w)


def _residual_flops(p: Params) -> float:
    return _double_conv_flops(p["batch"], p["channels"], p["channels"], p["height"], p["width"])


def _se_flops(p: Params) -> float:
    """The excitation's two dense layers channels -> channels // reduction -> channels."""
    return dense_flops(p["batch"], p["channels"], p["channels"] // p["reduction"], p["channels"])


def _down_flops(p: Params) -> float:
    return _double_conv_flops(p["batch"], p["in_channels"], p["out_channels"], p["height"], p["width"])


def _up_block_flops(p: Params) -> float:
    return _up_flops(p["batch"], p["in_channels"], p["out_channels"], p["height"], p["width"])


def _unet_flops(p: Params) -> float:
    """Three DownBlocks, the two-conv bottom, three UpBlocks and the final 1x1 conv."""
    b, base, h, w = p["batch"], p["base"], p["height"], p["width"]
    return (
        _double_conv_flops(b, p["in_channels"], base, h, w)
        + _double_conv_flops(b, base, 2 * base, h // 2, w // 2)
        + _double_conv_flops(b, 2 * base, 4 * base, h // 4, w // 4)
        + _double_conv_flops(b, 4 * base, 8 * base, h // 8, w // 8)
        + _up_flops(b, 8 * base, 4 * base, h // 8, w // 8)
        + _up_flops(b, 4 * base, 2 * base, h // 4, w // 4)
        + _up_flops(b, 2 * base, base, h // 2, w // 2)
        + _conv_flops(b, base, p["out_channels"], 1, h, w)
    )


# CustomConv2D's activations (the pair draws these) as torch modules; None and 'linear' are none
_TORCH_ACTIVATIONS = {None: None, "linear": None, "relu": "ReLU", "tanh": "Tanh"}


def _conv2d_torch(p: Params) -> Any:
    """nn.Conv2d with TF's padding: symmetric as nn.Conv2d's own, asymmetric 'same' through nn.ZeroPad2d first."""
    nn = frameworks.torch().nn
    k, s = p["kernel_size"], p["strides"]
    top = bottom = left = right = 0
    if p["padding"] == "same":
        (top, bottom), (left, right) = (_torch().same_padding(p[d], k, s) for d in ("height", "width"))
    symmetric = (top, left) == (bottom, right)
    conv = nn.Conv2d(p["in_channels"], p["filters"], k, stride=s, padding=(top, left) if symmetric else 0)
    layers = [conv] if symmetric else [nn.ZeroPad2d((left, right, top, bottom)), conv]
    if _TORCH_ACTIVATIONS[p["activation"]]:
        layers.append(getattr(nn, _TORCH_ACTIVATIONS[p["activation"]])())
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


def _conv2d_keras(p: Params) -> Any:
    return frameworks.keras().layers.Conv2D(
        p["filters"], p["kernel_size"], strides=p["strides"], padding=p["padding"], activation=p["activation"],
        data_format="channels_last",
    )


# (batch, channels, height, width): the flattens, ResidualBlock, SEBlock
_CONV_SMALL = {"batch": 4, "channels": 8, "height": 16, "width": 16}
_CONV_LARGE = {"batch": 8, "channels": 32, "height": 32, "width": 32}
_FLATTEN_BENCH = Bench(small=_CONV_SMALL, large=_CONV_LARGE)  # a reshape (and a transpose): no FLOPs
# (batch, in_channels, out_channels, height, width): ConvBlock (3x3, stride 1, padding 1), DownBlock
_CONV_IO_SMALL = {"batch": 4, "in_channels": 8, "out_channels": 8, "height": 16, "width": 16}
_CONV_IO_LARGE = {"batch": 8, "in_channels": 32, "out_channels": 32, "height": 32, "width": 32}
_CONV3X3 = {"kernel_size": 3, "stride": 1, "padding": 1}
# CustomConv2D: 3x3 with relu, the tutorial's default activation
_CUSTOM_CONV_SMALL = {"batch": 4, "in_channels": 8, "filters": 8, "kernel_size": 3, "activation": "relu",
                      "height": 16, "width": 16}
_CUSTOM_CONV_LARGE = {**_CUSTOM_CONV_SMALL, "batch": 8, "in_channels": 32, "filters": 32, "height": 32, "width": 32}


PAIRS: tuple[LayerPair, ...] = (
    LayerPair(
        name="flatten_002",
        origin=Origin(seed=SEED_002, tutorial_name="Flatten", shown=("torch",)),
        torch=lambda p: _torch().Flatten(),
        tf=lambda p: _tf().Flatten(),
        dims={"batch": _BATCH, "channels": _CHANNELS, "height": _SPATIAL, "width": _SPATIAL},
        inputs=_X,
        bench=_FLATTEN_BENCH,
        description="x.view(b, -1) on NCHW vs a Keras layer that flattens NHWC in torch's (C, H, W) order.",
    ),
    LayerPair(
        name="flatten_naive_order_002",
        origin=Origin(
            seed=SEED_002,
            tutorial_name="Flatten",
            shown=("torch",),
            note="compared with Keras's own flattening order (NaiveFlatten, keras.layers.Flatten)",
        ),
        torch=lambda p: _torch().Flatten(),
        tf=lambda p: _tf().NaiveFlatten(),
        # C >= 2 and H * W >= 2: the only shapes where the two orders differ
        dims={
            "batch": _BATCH,
            "channels": st.integers(2, 4),
            "height": _SPATIAL,
            "width": lambda p: st.integers(2 if p["height"] == 1 else 1, 9),
        },
        inputs=(
            Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first", regimes=_DIVERGING_REGIMES),
        ),
        checks=("forward",),  # the gradient is the same permutation, transposed
        known_divergences=(
            KnownDivergence(
                "forward",
                reason=(
                    "torch flattens NCHW in (C, H, W) order and Keras's Flatten flattens NHWC in (H, W, C) "
                    "order: the same numbers, permuted whenever C > 1 and H * W > 1, so a Dense after it "
                    "sees shuffled features (a port must move the channels to axis 1 before flattening)"
                ),
            ),
        ),
        bench=_FLATTEN_BENCH,
        description="torch Flatten vs keras.layers.Flatten on the NHWC tensor: the flattening-order trap.",
    ),
    LayerPair(
        name="custom_conv2d_003",
        origin=Origin(seed=SEED_003, tutorial_name="CustomConv2D", shown=("tf",)),
        torch=lambda p: _torch().CustomConv2D(
            p["in_channels"], p["filters"], p["kernel_size"], p["strides"], p["padding"], p["activation"]
        ),
        tf=lambda p: _tf().CustomConv2D(p["filters"], p["kernel_size"], p["strides"], p["padding"], p["activation"]),
        dims={
            "batch": _BATCH,
            "in_channels": _CHANNELS,
            "filters": _CHANNELS,
            "kernel_size": st.integers(1, 3),
            "strides": st.integers(1, 2),
            "padding": st.sampled_from(["same", "valid"]),
            "activation": st.sampled_from([None, "linear", "relu", "tanh"]),
            # 'valid' needs at least one full window
            "height": lambda p: _spatial_at_least(p["kernel_size"] if p["padding"] == "valid" else 1),
            "width": lambda p: _spatial_at_least(p["kernel_size"] if p["padding"] == "valid" else 1),
        },
        inputs=(Tensor("x", ("batch", "in_channels", "height", "width"), layout="channels_first"),),
        weights={"weight": Link("kernel", CONV2D_OIHW_TO_HWIO), "bias": "bias"},
        output_layout="channels_first",
        bench=Bench(
            small={**_CUSTOM_CONV_SMALL, "strides": 1, "padding": "same"},
            large={**_CUSTOM_CONV_LARGE, "strides": 1, "padding": "same"},
            flops=_custom_conv_flops,
            builtin=Builtin(name="nn.Conv2d / Conv2D", torch=_conv2d_torch, tf=_conv2d_keras),
        ),
        description=(
            "tf.nn.conv2d with 'same'/'valid' padding, strides, bias and activation vs F.pad + F.conv2d "
            "reproducing TF's 'same' padding exactly (asymmetric for stride > 1)."
        ),
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="custom_conv2d_naive_padding_003",
        origin=Origin(
            seed=SEED_003,
            tutorial_name="CustomConv2D",
            shown=("tf",),
            note="torch side ported naively as nn.Conv2d(padding=kernel_size // 2)",
        ),
        torch=lambda p: _torch().NaiveCustomConv2D(
            p["in_channels"], p["filters"], p["kernel_size"], p["strides"], "same", p["activation"]
        ),
        tf=lambda p: _tf().CustomConv2D(p["filters"], p["kernel_size"], p["strides"], "same", p["activation"]),
        # stride 2, kernel 3 and an even size: TF pads (0, 1), the naive port (1, 1). No saturating
        # activation (tanh at 1e3 is exactly +-1 for both), so a shifted window always shows.
        dims={
            "batch": _BATCH,
            "in_channels": _CHANNELS,
            "filters": _CHANNELS,
            "kernel_size": 3,
            "strides": 2,
            "activation": st.sampled_from([None, "linear"]),
            "height": st.sampled_from([4, 6, 8]),
            "width": st.sampled_from([4, 6, 8]),
        },
        inputs=(
            Tensor(
                "x", ("batch", "in_channels", "height", "width"), layout="channels_first", regimes=_DIVERGING_REGIMES
            ),
        ),
        weights={"weight": Link("kernel", CONV2D_OIHW_TO_HWIO), "bias": "bias"},
        output_layout="channels_first",
        known_divergences=(
            KnownDivergence(
                "forward",
                reason=(
                    "TF's 'same' with stride 2, kernel 3 and an even size pads 0 before and 1 after; "
                    "nn.Conv2d(padding=1) pads 1 on both sides: the output shape agrees but every window "
                    "is shifted by one pixel"
                ),
            ),
            KnownDivergence(
                "gradient",
                reason="the shifted windows of the naive padding give different input and kernel gradients",
            ),
            KnownDivergence(
                "train_step",
                reason="trained through the shifted windows, the two kernels move apart from the first step",
            ),
        ),
        bench=Bench(
            # the pair's stride 2 on twice the size: custom_conv2d_003's output size and FLOPs
            small={**_CUSTOM_CONV_SMALL, "strides": 2, "activation": None, "height": 32, "width": 32},
            large={**_CUSTOM_CONV_LARGE, "strides": 2, "activation": None, "height": 64, "width": 64},
            flops=_custom_conv_flops,
        ),
        description="TF 'same' padding at stride 2 vs a naive torch port with symmetric padding k // 2.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="conv_block_002",
        origin=Origin(seed=SEED_002, tutorial_name="ConvBlock", shown=("torch",)),
        torch=lambda p: _torch().ConvBlock(
            p["in_channels"], p["out_channels"], p["kernel_size"], p["stride"], p["padding"]
        ),
        tf=lambda p: _tf().ConvBlock(p["in_channels"], p["out_channels"], p["kernel_size"], p["stride"], p["padding"]),
        dims={
            "batch": _BATCH,
            "in_channels": _CHANNELS,
            "out_channels": _CHANNELS,
            "kernel_size": st.integers(1, 3),
            "stride": st.integers(1, 2),
            "padding": lambda p: st.integers(0, p["kernel_size"]),
            # the padded input must hold one full window
            "height": lambda p: _spatial_at_least(p["kernel_size"] - 2 * p["padding"]),
            "width": lambda p: _spatial_at_least(p["kernel_size"] - 2 * p["padding"]),
        },
        inputs=_X_IN,
        weights=_conv_block(""),
        output_layout="channels_first",
        stages=_stages("block.0", "block.1", "block.2"),
        **BATCH_NORM_TRAINING,
        bench=Bench(
            small={**_CONV_IO_SMALL, **_CONV3X3},
            large={**_CONV_IO_LARGE, **_CONV3X3},
            flops=_conv_block_flops,
        ),
        description="Conv2d(bias=False) -> BatchNorm2d -> ReLU vs explicit symmetric padding + Conv2D -> BN -> ReLU.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="residual_block_002",
        origin=Origin(seed=SEED_002, tutorial_name="ResidualBlock", shown=("torch",)),
        torch=lambda p: _torch().ResidualBlock(p["channels"]),
        tf=lambda p: _tf().ResidualBlock(p["channels"]),
        dims={"batch": _BATCH, "channels": _CHANNELS, "height": _SPATIAL, "width": _SPATIAL},
        inputs=_X,
        weights={**_conv("conv1"), **batch_norm_map("bn1"), **_conv("conv2"), **batch_norm_map("bn2")},
        output_layout="channels_first",
        stages=_stages("conv1", "bn1", "conv2", "bn2"),
        **BATCH_NORM_TRAINING,
        bench=Bench(small=_CONV_SMALL, large=_CONV_LARGE, flops=_residual_flops),
        description="conv3x3-BN-ReLU-conv3x3-BN plus the identity, then ReLU.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="se_block_002",
        origin=Origin(
            seed=SEED_002,
            tutorial_name="SEBlock",
            shown=("torch",),
            note="the tutorial's 64 channels and reduction 16 are arguments",
        ),
        torch=lambda p: _torch().SEBlock(p["channels"], p["reduction"]),
        tf=lambda p: _tf().SEBlock(p["channels"], p["reduction"]),
        dims={
            "batch": _BATCH,
            "channels": _CHANNELS,
            "reduction": lambda p: st.integers(1, p["channels"]),
            "height": _SPATIAL,
            "width": _SPATIAL,
        },
        inputs=(Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),),
        weights={
            "excitation.*.weight": Link("excitation.*.kernel", TRANSPOSE),
            "excitation.*.bias": "excitation.*.bias",
        },
        output_layout="channels_first",
        stages=(
            Stage("squeeze", "squeeze", "squeeze", layout="channels_first"),
            *(Stage(f"excitation.{i}", f"excitation.{i}", f"excitation.{i}") for i in range(4)),
        ),
        bench=Bench(
            small={**_CONV_SMALL, "reduction": 4},
            large={**_CONV_LARGE, "reduction": 4},
            flops=_se_flops,
        ),
        description="Global average pool -> Linear -> ReLU -> Linear -> Sigmoid, scaling the input's channels.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="down_block_002",
        origin=Origin(seed=SEED_002, tutorial_name="DownBlock", shown=("torch",)),
        torch=lambda p: _torch().DownBlock(p["in_channels"], p["out_channels"]),
        tf=lambda p: _tf().DownBlock(p["in_channels"], p["out_channels"]),
        dims={
            "batch": _BATCH,
            "in_channels": _CHANNELS,
            "out_channels": _CHANNELS,
            "height": st.integers(2, 9),
            "width": st.integers(2, 9),
        },
        inputs=_X_IN,
        weights=_down_block(""),
        output_layout="channels_first",
        stages=_stages("block.0", "block.1", "block.2"),
        **BATCH_NORM_TRAINING,
        bench=Bench(small=_CONV_IO_SMALL, large=_CONV_IO_LARGE, flops=_down_flops),
        description="ConvBlock -> ConvBlock -> MaxPool2d(2) (odd sizes floor on both sides).",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="up_block_002",
        origin=Origin(seed=SEED_002, tutorial_name="UpBlock", shown=("torch",)),
        torch=lambda p: _torch().UpBlock(p["in_channels"], p["out_channels"]),
        tf=lambda p: _tf().UpBlock(p["in_channels"], p["out_channels"]),
        dims={
            "batch": _BATCH,
            "in_channels": _CHANNELS,
            "out_channels": _CHANNELS,
            "height": st.integers(1, 4),
            "width": st.integers(1, 4),
            "skip_height": lambda p: 2 * p["height"],
            "skip_width": lambda p: 2 * p["width"],
        },
        inputs=(
            *_X_IN,
            Tensor("skip", ("batch", "out_channels", "skip_height", "skip_width"), layout="channels_first"),
        ),
        weights=_up_block(""),
        output_layout="channels_first",
        stages=_stages("up", "conv.0", "conv.1"),
        **BATCH_NORM_TRAINING,
        bench=Bench(
            # half the size and twice the channels of the skip, as in a U-Net
            small={"batch": 4, "in_channels": 16, "out_channels": 8, "height": 8, "width": 8,
                   "skip_height": 16, "skip_width": 16},
            large={"batch": 8, "in_channels": 64, "out_channels": 32, "height": 16, "width": 16,
                   "skip_height": 32, "skip_width": 32},
            flops=_up_block_flops,
        ),
        description="ConvTranspose2d(k=2, s=2), concatenation with the skip on channels, two ConvBlocks.",
        train_step=TRAIN_STEP,
    ),
    LayerPair(
        name="simple_unet_002",
        origin=Origin(
            seed=SEED_002,
            tutorial_name="SimpleUNet",
            shown=("torch",),
            note=(
                "widths base, 2 base, 4 base, 8 base (the tutorial's base is 64). The tutorial's skips are the "
                "DownBlocks' pooled outputs (H/2, H/4, H/8), which cannot be concatenated with up1..up3's "
                "outputs (H, H/2, H/4); the skips here are each DownBlock's features before its pool"
            ),
        ),
        torch=lambda p: _torch().SimpleUNet(p["in_channels"], p["out_channels"], p["base"]),
        tf=lambda p: _tf().SimpleUNet(p["in_channels"], p["out_channels"], p["base"]),
        dims={
            "batch": _BATCH,
            "in_channels": st.integers(1, 2),
            "out_channels": st.integers(1, 2),
            "base": st.integers(1, 2),
            "height": st.sampled_from([8, 16]),
            "width": st.sampled_from([8, 16]),
        },
        inputs=_X_IN,
        weights={
            **_down_block("down1"),
            **_down_block("down2"),
            **_down_block("down3"),
            **_conv_block("bottom.*"),
            **_up_block("up3"),
            **_up_block("up2"),
            **_up_block("up1"),
            **_conv("final"),
        },
        output_layout="channels_first",
        # ``bottom`` is an nn.Sequential in torch and a plain list in Keras: its two ConvBlocks are the stages.
        stages=_stages("down1", "down2", "down3", "bottom.0", "bottom.1", "up3", "up2", "up1", "final"),
        **BATCH_NORM_TRAINING,
        bench=Bench(
            # ~40 layers: eager Keras spends ~45 ms on them at any size (the small one shows it), so the large
            # size stays modest, 144 MFLOP, ~12 ms of torch forward and backward on two cores
            small={"batch": 2, "in_channels": 1, "out_channels": 1, "base": 4, "height": 16, "width": 16},
            large={"batch": 2, "in_channels": 1, "out_channels": 1, "base": 16, "height": 32, "width": 32},
            flops=_unet_flops,
        ),
        description="A three-level U-Net of ConvBlocks with skip connections and a 1x1 output conv.",
        train_step=TRAIN_STEP,
    ),
)
