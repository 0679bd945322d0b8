"""Convolutions: nn.Conv1d/2d/3d, depthwise and separable, nn.ConvTranspose1d/2d against Keras's.

torch keeps a convolution's weight (out, in/groups, *kernel) and Keras its kernel
(*kernel, in/groups, out); a depthwise kernel is (*kernel, channels, multiplier) and a
transposed convolution's (*kernel, out, in) against torch's (in, out, *kernel). Padding is the
other half: torch pads ``p`` zeros on both sides of every axis, which Keras can say only as
'same' at stride 1 (where TF's 'same' is symmetric); anything else is an explicit
``ZeroPaddingND`` before a 'valid' convolution. torch's ``padding='same'`` (stride 1 only)
puts the odd zero of an even kernel at the end, as TF's 'same' does, so it is 'same' for every
kernel. A transposed convolution's ``padding`` crops its output instead: 'valid' with an
explicit ``output_padding`` and a ``CroppingND`` after it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import ledger
from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.layouts import CONV2D_OIHW_TO_HWIO, CONV_TRANSPOSE2D_IOHW_TO_HWOI, Permute, Reshape
from harness.spec import Link, Params, Tensor

# torch (out, in/groups, *kernel) -> Keras (*kernel, in/groups, out)
CONV1D_OIW_TO_WIO = Permute("conv1d_oiw_to_wio", (2, 1, 0))
CONV3D_OIDHW_TO_DHWIO = Permute("conv3d_oidhw_to_dhwio", (2, 3, 4, 1, 0))
CONV_KERNEL = {1: CONV1D_OIW_TO_WIO, 2: CONV2D_OIHW_TO_HWIO, 3: CONV3D_OIDHW_TO_DHWIO}
# torch ConvTranspose (in, out/groups, *kernel) -> Keras ConvNDTranspose (*kernel, out, in)
CONV_TRANSPOSE1D_IOW_TO_WOI = Permute("conv_transpose1d_iow_to_woi", (2, 1, 0))
CONV_TRANSPOSE_KERNEL = {1: CONV_TRANSPOSE1D_IOW_TO_WOI, 2: CONV_TRANSPOSE2D_IOHW_TO_HWOI}

_CONV_CLASSES = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D")
_TRANSPOSE_CLASSES = ("Conv1DTranspose", "Conv2DTranspose")
_SEPARABLE_CLASSES = ("SeparableConv2D",)

BATCH = st.integers(1, 3)
CHANNELS = st.integers(1, 4)


# --- reading either side


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * rank


def _inner(layer: Any, classes: tuple[str, ...]) -> Any:
    """The layer of ``classes`` in a Keras layer: itself, or the one inside a ``Sequential`` ``to_keras`` made."""
    if type(layer).__name__ in classes:
        return layer
    for sub in getattr(layer, "layers", ()):
        if type(sub).__name__ in classes:
            return sub
    raise AttributeError(f"no {'/'.join(classes)} in Keras layer {layer.name!r}")


def _pairs(padding: Any, rank: int) -> tuple[tuple[int, int], ...]:
    """A ZeroPaddingND's or CroppingND's amount as (before, after) per spatial axis."""
    if rank == 1:
        return ((int(padding[0]), int(padding[1])),)
    return tuple((int(a), int(b)) for a, b in padding)


def _around(layer: Any, kind: str, rank: int) -> tuple[tuple[int, int], ...]:
    """The total of every ``<kind>{rank}D`` layer in a Sequential (zeros for a bare layer)."""
    total = [(0, 0)] * rank
    for sub in getattr(layer, "layers", ()):
        if type(sub).__name__ == f"{kind}{rank}D":
            amount = sub.padding if kind == "ZeroPadding" else sub.cropping
            total = [(a + c, b + d) for (a, b), (c, d) in zip(total, _pairs(amount, rank), strict=True)]
    return tuple(total)


def _effective(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))


def _half(total: int) -> tuple[int, int]:
    """TF's (and torch's 'same') split of ``total`` zeros: the smaller half before."""
    return total // 2, total - total // 2


# --- convolutions


def _rank(m: Any) -> int:
    return len(m.kernel_size)


def _torch_pads(m: Any) -> tuple[tuple[int, int], ...]:
    """The zeros torch pads before and after each spatial axis."""
    if m.padding == "valid":
        return ((0, 0),) * _rank(m)
    if m.padding == "same":
        return tuple(_half(e - 1) for e in _effective(m.kernel_size, m.dilation))
    return tuple((p, p) for p in m.padding)


def _keras_padding(m: Any) -> tuple[str, tuple[tuple[int, int], ...] | None]:
    """How Keras says torch's padding: 'valid', 'same', or 'valid' after these explicit zeros."""
    pads = _torch_pads(m)
    if all(p == (0, 0) for p in pads):
        return "valid", None
    stride_one = all(s == 1 for s in m.stride)
    if stride_one and pads == tuple(_half(e - 1) for e in _effective(m.kernel_size, m.dilation)):
        return "same", None  # TF's 'same' at stride 1: (k_eff - 1) zeros, the smaller half before
    return "valid", pads


def _depthwise(m: Any) -> bool:
    return _rank(m) == 2 and m.groups == m.in_channels and m.in_channels > 1


def _conv_accepts(m: Any) -> str | None:
    if m.padding_mode != "zeros":
        return (f"padding_mode={m.padding_mode!r}: Keras convolutions pad with zeros only (a reflect or replicate "
                "pad has no Keras layer)")
    if any(s > 1 for s in m.stride) and any(d > 1 for d in m.dilation) and not _depthwise(m):
        return ("stride > 1 together with dilation > 1: Keras's ConvND refuses the combination (only "
                "DepthwiseConv2D and SeparableConv2D decompose it)")
    return None


def _conv_to_keras(m: Any) -> Any:
    k = keras()
    rank = _rank(m)
    padding, explicit = _keras_padding(m)
    common = {"kernel_size": tuple(m.kernel_size), "strides": tuple(m.stride), "padding": padding,
              "dilation_rate": tuple(m.dilation), "use_bias": m.bias is not None}
    if _depthwise(m):
        conv = k.layers.DepthwiseConv2D(depth_multiplier=m.out_channels // m.in_channels, **common)
    else:
        conv = getattr(k.layers, f"Conv{rank}D")(m.out_channels, groups=m.groups, **common)
    if explicit is None:
        return conv
    pad = explicit[0] if rank == 1 else explicit
    return k.Sequential([getattr(k.layers, f"ZeroPadding{rank}D")(pad), conv])


def _keras_pads(layer: Any, classes: tuple[str, ...] = _CONV_CLASSES) -> tuple[tuple[int, int], ...] | str:
    """The zeros Keras pads before and after each spatial axis; a string where that depends on the input."""
    conv = _inner(layer, classes)
    rank = len(conv.kernel_size)
    if conv.padding == "valid":
        own = ((0, 0),) * rank
    elif conv.padding == "causal":
        own = tuple((e - 1, 0) for e in _effective(conv.kernel_size, conv.dilation_rate))
    elif all(s == 1 for s in conv.strides):
        own = tuple(_half(e - 1) for e in _effective(conv.kernel_size, conv.dilation_rate))
    else:
        return "same at stride > 1 (TF's input-dependent padding, the extra zero at the end)"
    outer = _around(layer, "ZeroPadding", rank)
    return tuple((a + c, b + d) for (a, b), (c, d) in zip(own, outer, strict=True))


def _keras_to_conv(layer: Any) -> Any:
    nn = torch_nn()
    conv = _inner(layer, _CONV_CLASSES)
    rank = len(conv.kernel_size)
    pads = _keras_pads(layer)
    if isinstance(pads, str):
        raise ValueError(f"Keras {conv.name}: padding {pads} has no torch Conv{rank}d padding")
    if all(s == 1 for s in conv.strides) and conv.padding == "same" and _around(layer, "ZeroPadding", rank) == (
            ((0, 0),) * rank):
        padding: Any = "same"  # torch's 'same' puts an even kernel's extra zero at the end, as TF's does
    elif all(a == b for a, b in pads):
        padding = tuple(a for a, _ in pads)
    else:
        raise ValueError(f"Keras {conv.name}: asymmetric padding {pads} has no torch Conv{rank}d padding")
    if type(conv).__name__ == "DepthwiseConv2D":
        channels = int(conv.kernel.shape[2])
        return nn.Conv2d(channels, channels * conv.depth_multiplier, tuple(conv.kernel_size),
                         stride=tuple(conv.strides), padding=padding, dilation=tuple(conv.dilation_rate),
                         groups=channels, bias=conv.use_bias)
    return getattr(nn, f"Conv{rank}d")(int(conv.kernel.shape[-2]) * conv.groups, conv.filters,
                                       tuple(conv.kernel_size), stride=tuple(conv.strides), padding=padding,
                                       dilation=tuple(conv.dilation_rate), groups=conv.groups, bias=conv.use_bias)


def _depthwise_kernel(m: Any) -> Any:
    """torch (C*m, 1, kh, kw) -> Keras (kh, kw, C, m): output channel c*m + j on both sides."""
    kh, kw = m.kernel_size
    return CONV2D_OIHW_TO_HWIO.then(Reshape("depthwise_hw1o_to_hwcm", (kh, kw, m.in_channels, -1)))


def _conv_weights(m: Any) -> dict[str, Link]:
    prefix = "" if _keras_padding(m)[1] is None else "layers.1."
    if _depthwise(m):
        weight = Link(f"{prefix}kernel", _depthwise_kernel(m))
    else:
        weight = Link(f"{prefix}kernel", CONV_KERNEL[_rank(m)])
    return {"weight": weight, **({"bias": Link(f"{prefix}bias")} if m.bias is not None else {})}


def _keras_out(layer: Any) -> int:
    conv = _inner(layer, _CONV_CLASSES)
    if type(conv).__name__ == "DepthwiseConv2D":
        return int(conv.kernel.shape[2]) * conv.depth_multiplier  # built layers only
    return int(conv.filters)


def _keras_groups(layer: Any) -> int:
    conv = _inner(layer, _CONV_CLASSES)
    if type(conv).__name__ == "DepthwiseConv2D":
        return int(conv.kernel.shape[2])  # built layers only
    return int(conv.groups)


def _keras_multiplier(layer: Any) -> int:
    conv = _inner(layer, _CONV_CLASSES)
    if type(conv).__name__ != "DepthwiseConv2D":
        raise AttributeError("not a depthwise convolution")
    return int(conv.depth_multiplier)


def _torch_multiplier(m: Any) -> int:
    if not _depthwise(m):
        raise AttributeError("not a depthwise convolution")
    return m.out_channels // m.in_channels


def _conv_reader(attr: str, classes: tuple[str, ...] = _CONV_CLASSES) -> Any:
    def read(layer: Any) -> Any:
        return _inner(layer, classes).get_config()[attr]

    return read


CONV_SETTINGS = (
    Setting("out_channels", "out_channels", _keras_out),
    Setting("kernel_size", "kernel_size", _conv_reader("kernel_size")),
    Setting("stride", "stride", _conv_reader("strides"), torch_default=1, keras_default=1),
    Setting("padding", _torch_pads, _keras_pads, torch_default=0, keras_default="valid",
            meaning="zeros before and after each spatial axis"),
    Setting("dilation", "dilation", _conv_reader("dilation_rate"), torch_default=1, keras_default=1),
    Setting("groups", "groups", _keras_groups, torch_default=1, keras_default=1),
    Setting("depth_multiplier", _torch_multiplier, _keras_multiplier, keras_default=1,
            meaning="outputs per input channel of a depthwise convolution"),
    Setting("bias", lambda m: m.bias is not None, _conv_reader("use_bias"), torch_default=True, keras_default=True),
    Setting("padding_mode", "padding_mode", lambda _layer: "zeros", torch_default="zeros", keras_default="zeros"),
    Setting("activation", lambda _m: "linear", _conv_reader("activation"), torch_default="linear",
            keras_default="linear", meaning="torch applies none inside a convolution"),
)


# --- examples


def _spatial(pad: int | None = None, top: int = 8) -> Any:
    """Sizes from the smallest a window fits in (after ``pad`` zeros a side, else the drawn padding) to ``top``."""
    def draw(p: Params) -> Any:
        zeros = p.get("padding", 0) if pad is None else pad
        return st.integers(max(1, p.get("dilation", 1) * (p["kernel_size"] - 1) + 1 - 2 * zeros), top)

    return draw


def _conv(rank: int, drawn: tuple[str, ...] = (), **fixed: Any) -> Any:
    """nn.Conv{rank}d with the ``drawn`` arguments from the params (only those: the engine keys its reuse of
    built layers by the params a factory reads), the others ``fixed`` or torch's defaults."""
    def make(p: Params) -> Any:
        args = {**{k: p[k] for k in drawn}, **fixed}
        return getattr(torch_nn(), f"Conv{rank}d")(p["in_channels"], p["out_channels"], p["kernel_size"], **args)

    return make


X1 = (Tensor("x", ("batch", "in_channels", "length"), layout="channels_first"),)
X2 = (Tensor("x", ("batch", "in_channels", "height", "width"), layout="channels_first"),)
X3 = (Tensor("x", ("batch", "in_channels", "depth", "height", "width"), layout="channels_first"),)

# A torch bug, recorded as a skip that says so: not a difference between the frameworks.
CONV3D_INDUCTOR = ledger.entry("torch-inductor-conv3d-dynamic-backward").reason


CONV_EXAMPLES = (
    Example("conv1d", _conv(1, ("stride", "padding", "bias")),
            dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS, "kernel_size": st.integers(1, 3),
                  "stride": st.integers(1, 2), "padding": st.integers(0, 1), "bias": st.booleans(),
                  "length": _spatial()},
            inputs=X1, output_layout="channels_first",
            description="nn.Conv1d vs Conv1D, stride 1 or 2, padding 0 or 1 (1: ZeroPadding1D, or 'same' where "
                        "equal), with or without bias; the (out, in, k) weight is the (k, in, out) kernel."),
    Example("conv2d_stride2_pad1", _conv(2, stride=2, padding=1),
            dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS, "kernel_size": st.integers(1, 4),
                  "height": _spatial(pad=1), "width": _spatial(pad=1)},
            inputs=X2, output_layout="channels_first",
            description="nn.Conv2d(stride=2, padding=1) vs Sequential([ZeroPadding2D(1), Conv2D(strides=2, "
                        "padding='valid')]): Keras has no symmetric padding at stride 2, so it pads explicitly."),
    Example("conv2d_same", _conv(2, ("dilation",), padding="same"),
            dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS, "kernel_size": st.integers(1, 4),
                  "dilation": st.integers(1, 2), "height": st.integers(1, 8), "width": st.integers(1, 8)},
            inputs=X2, output_layout="channels_first",
            description="nn.Conv2d(padding='same') vs Conv2D(padding='same') at stride 1, even kernels and dilation "
                        "2 included: both pad d*(k-1) zeros, the odd one after (at the bottom and right)."),
    Example("conv2d_groups", _conv(2, ("groups", "padding")),
            dims={"batch": BATCH, "groups": st.sampled_from([2, 3]),
                  "in_channels": lambda p: st.sampled_from([p["groups"], 2 * p["groups"]]),
                  "out_channels": lambda p: st.sampled_from([p["groups"], 2 * p["groups"]]),
                  "kernel_size": st.integers(1, 3), "padding": st.integers(0, 1),
                  "height": _spatial(), "width": _spatial()},
            inputs=X2, output_layout="channels_first",
            description="Grouped nn.Conv2d vs Conv2D(groups=g): each group's outputs a contiguous block on both "
                        "sides; the (out, in/g, kh, kw) weight is the (kh, kw, in/g, out) kernel."),
    Example("conv3d", _conv(3, ("stride", "padding")),
            dims={"batch": st.integers(1, 2), "in_channels": st.integers(1, 3), "out_channels": st.integers(1, 3),
                  "kernel_size": st.integers(1, 2), "stride": st.integers(1, 2), "padding": st.integers(0, 1),
                  "depth": st.integers(2, 4), "height": st.integers(2, 4), "width": st.integers(2, 4)},
            inputs=X3, output_layout="channels_first",
            description="nn.Conv3d vs Conv3D (with ZeroPadding3D for padding 1 at stride 2); the (out, in, kd, kh, "
                        "kw) weight is the (kd, kh, kw, in, out) kernel.",
            spec={"skip_modes": {"graph": CONV3D_INDUCTOR}}),
    Example("depthwise_conv2d",
            lambda p: torch_nn().Conv2d(p["in_channels"], p["in_channels"] * p["multiplier"], p["kernel_size"],
                                        stride=p["stride"], padding=p["padding"], dilation=p["dilation"],
                                        groups=p["in_channels"], bias=p["bias"]),
            dims={"batch": BATCH, "in_channels": st.integers(2, 4), "multiplier": st.integers(1, 2),
                  "kernel_size": st.integers(1, 3), "stride": st.integers(1, 2), "dilation": st.integers(1, 2),
                  "padding": st.integers(0, 1), "bias": st.booleans(), "height": _spatial(), "width": _spatial()},
            inputs=X2, output_layout="channels_first",
            description="nn.Conv2d(groups=in_channels) vs DepthwiseConv2D(depth_multiplier=out/in): the (C*m, 1, "
                        "kh, kw) weight is the (kh, kw, C, m) kernel, output channel c*m + j on both sides."),
)


def _same_stride2_torch(p: Params) -> Any:
    return torch_nn().Conv2d(p["in_channels"], p["out_channels"], 3, stride=2, padding=1)


def _same_stride2_keras(p: Params) -> Any:
    return keras().layers.Conv2D(p["out_channels"], 3, strides=2, padding="same")


CONV_CONVENTIONS = (
    Convention(
        "same_stride2", setting="padding at stride 2",
        torch_default="padding=k//2 (1 zero on every side for k=3; torch refuses 'same' at stride > 1)",
        keras_default="padding='same' (TF: max((ceil(n/2)-1)*2+k-n, 0) zeros, the extra one at the end)",
        effect=("On an even size Keras pads 0 zeros before and 1 after, torch 1 and 1, so Keras's windows start one "
                "row and column later (same output shape): all 8 outputs of a 1x2x4x4 input (3x3 kernel, 2 filters) "
                "differ, max |diff| 1.4 (5.0 over 200 draws); odd sizes agree (5x5: 1e-15). Measured in float64 with "
                "N(0,1) inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform "
                "run --pairs atlas_conv_same_stride2 --checks forward --dtype float64."),
        torch=_same_stride2_torch, tf=_same_stride2_keras,
        dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS,
              "height": st.sampled_from([2, 4, 6, 8]), "width": st.sampled_from([2, 4, 6, 8])},
        inputs=X2, output_layout="channels_first",
        weights={"weight": Link("kernel", CONV2D_OIHW_TO_HWIO), "bias": Link("bias")},
    ),
)

CONV = Counterpart(
    wraps=True,
    name="conv",
    torch=("Conv1d", "Conv2d", "Conv3d"),
    keras=_CONV_CLASSES,
    to_keras=_conv_to_keras,
    to_torch=_keras_to_conv,
    weights=_conv_weights,
    settings=CONV_SETTINGS,
    conventions=CONV_CONVENTIONS,
    examples=CONV_EXAMPLES,
    accepts=_conv_accepts,
)


# --- separable: a depthwise then a pointwise nn.Conv2d


def _separable_parts(m: Any) -> tuple[Any, Any]:
    nn = torch_nn()
    if not isinstance(m, nn.Sequential) or len(m) != 2:
        raise AttributeError("a separable convolution is nn.Sequential(depthwise Conv2d, 1x1 Conv2d)")
    return m[0], m[1]


def _separable_accepts(m: Any) -> str | None:
    try:
        dw, pw = _separable_parts(m)
    except AttributeError as no:
        return str(no)
    if _rank(dw) != 2 or dw.groups != dw.in_channels or dw.bias is not None:
        return "the first convolution must be depthwise (groups == in_channels) without bias"
    if (tuple(pw.kernel_size), tuple(pw.stride), pw.groups, _torch_pads(pw)) != ((1, 1), (1, 1), 1, ((0, 0),) * 2):
        return "the second convolution must be a plain 1x1 (stride 1, no padding, no groups)"
    if dw.padding_mode != "zeros":
        return f"padding_mode={dw.padding_mode!r}: Keras convolutions pad with zeros only"
    return None


def _separable_to_keras(m: Any) -> Any:
    k = keras()
    dw, pw = _separable_parts(m)
    padding, explicit = _keras_padding(dw)
    conv = k.layers.SeparableConv2D(pw.out_channels, tuple(dw.kernel_size), strides=tuple(dw.stride),
                                    padding=padding, dilation_rate=tuple(dw.dilation),
                                    depth_multiplier=dw.out_channels // dw.in_channels, use_bias=pw.bias is not None)
    return conv if explicit is None else k.Sequential([k.layers.ZeroPadding2D(explicit), conv])


def _keras_to_separable(layer: Any) -> Any:
    nn = torch_nn()
    conv = _inner(layer, _SEPARABLE_CLASSES)
    pads = _keras_pads(layer, _SEPARABLE_CLASSES)
    if isinstance(pads, str) or any(a != b for a, b in pads):
        padding: Any = "same" if conv.padding == "same" and all(s == 1 for s in conv.strides) else None
        if padding is None:
            raise ValueError(f"Keras {conv.name}: padding {pads} has no torch Conv2d padding")
    else:
        padding = tuple(a for a, _ in pads)
    channels = int(conv.depthwise_kernel.shape[2])
    inner = channels * conv.depth_multiplier
    return nn.Sequential(
        nn.Conv2d(channels, inner, tuple(conv.kernel_size), stride=tuple(conv.strides), padding=padding,
                  dilation=tuple(conv.dilation_rate), groups=channels, bias=False),
        nn.Conv2d(inner, conv.filters, 1, bias=conv.use_bias),
    )


def _separable_weights(m: Any) -> dict[str, Link]:
    dw, pw = _separable_parts(m)
    prefix = "" if _keras_padding(dw)[1] is None else "layers.1."
    return {"0.weight": Link(f"{prefix}depthwise_kernel", _depthwise_kernel(dw)),
            "1.weight": Link(f"{prefix}pointwise_kernel", CONV2D_OIHW_TO_HWIO),
            **({"1.bias": Link(f"{prefix}bias")} if pw.bias is not None else {})}


def _dw(read: Any) -> Any:
    return lambda m: read(_separable_parts(m)[0])


def _separable_reader(attr: str) -> Any:
    return _conv_reader(attr, _SEPARABLE_CLASSES)


def _separable(p: Params) -> Any:
    nn = torch_nn()
    inner = p["in_channels"] * p["multiplier"]
    return nn.Sequential(
        nn.Conv2d(p["in_channels"], inner, p["kernel_size"], stride=p["stride"], padding=p["padding"],
                  groups=p["in_channels"], bias=False),
        nn.Conv2d(inner, p["out_channels"], 1, bias=p["bias"]),
    )


SEPARABLE = Counterpart(
    wraps=True,
    label="nn.Sequential(nn.Conv2d(groups=C), nn.Conv2d(1x1))",
    name="separable_conv",
    torch=(),  # two nn.Conv2d in a row: conform map matches each through CONV
    keras=_SEPARABLE_CLASSES,
    to_keras=_separable_to_keras,
    to_torch=_keras_to_separable,
    weights=_separable_weights,
    settings=(
        Setting("out_channels", lambda m: _separable_parts(m)[1].out_channels, _separable_reader("filters")),
        Setting("kernel_size", _dw(lambda c: c.kernel_size), _separable_reader("kernel_size")),
        Setting("stride", _dw(lambda c: c.stride), _separable_reader("strides"), torch_default=1, keras_default=1),
        Setting("padding", _dw(_torch_pads), lambda layer: _keras_pads(layer, _SEPARABLE_CLASSES),
                torch_default=0, keras_default="valid"),
        Setting("dilation", _dw(lambda c: c.dilation), _separable_reader("dilation_rate"), torch_default=1,
                keras_default=1),
        Setting("depth_multiplier", _dw(lambda c: c.out_channels // c.in_channels),
                _separable_reader("depth_multiplier"), keras_default=1),
        Setting("bias", lambda m: _separable_parts(m)[1].bias is not None, _separable_reader("use_bias"),
                torch_default=True, keras_default=True),
    ),
    examples=(
        Example("separable_conv2d", _separable,
                dims={"batch": BATCH, "in_channels": st.integers(1, 4), "multiplier": st.integers(1, 2),
                      "out_channels": CHANNELS, "kernel_size": st.integers(1, 3), "stride": st.integers(1, 2),
                      "padding": st.integers(0, 1), "bias": st.booleans(),
                      "height": _spatial(), "width": _spatial()},
                inputs=X2, output_layout="channels_first",
                description="nn.Sequential(depthwise nn.Conv2d without bias, 1x1 nn.Conv2d) vs SeparableConv2D: "
                            "the depthwise (C*m, 1, kh, kw) weight is the (kh, kw, C, m) depthwise kernel, the "
                            "pointwise (F, C*m, 1, 1) the (1, 1, C*m, F) pointwise kernel."),
    ),
    accepts=_separable_accepts,
)


# --- transposed convolutions


def _transpose_crops(m: Any) -> tuple[tuple[int, int], ...]:
    """What torch removes from the full transposed output, per axis: (before, after); a negative after extends it."""
    return tuple((p, p - op) for p, op in zip(m.padding, m.output_padding, strict=True))


def _transpose_accepts(m: Any) -> str | None:
    if m.groups != 1:
        return "groups > 1: Keras's ConvNDTranspose has no groups"
    if m.padding_mode != "zeros":
        return f"padding_mode={m.padding_mode!r}: Keras pads with zeros only"
    if any(s > 1 for s in m.stride) and any(d > 1 for d in m.dilation):
        return "stride > 1 together with dilation > 1: Keras's ConvNDTranspose refuses the combination"
    return None


def _transpose_to_keras(m: Any) -> Any:
    k = keras()
    rank = len(m.kernel_size)
    conv = getattr(k.layers, f"Conv{rank}DTranspose")(
        m.out_channels, tuple(m.kernel_size), strides=tuple(m.stride), padding="valid",
        output_padding=tuple(m.output_padding), dilation_rate=tuple(m.dilation), use_bias=m.bias is not None)
    if not any(m.padding):
        return conv
    crop = (m.padding[0],) * 2 if rank == 1 else tuple((p, p) for p in m.padding)
    return k.Sequential([conv, getattr(k.layers, f"Cropping{rank}D")(crop)])


def _keras_crops(layer: Any) -> tuple[tuple[int, int], ...]:
    """What Keras removes from the full transposed output, per axis, as ``_transpose_crops`` says it."""
    conv = _inner(layer, _TRANSPOSE_CLASSES)
    rank = len(conv.kernel_size)
    padding = conv.output_padding
    own = []
    for i, (e, s) in enumerate(zip(_effective(conv.kernel_size, conv.dilation_rate), conv.strides, strict=True)):
        op = None if padding is None else _tuple(padding, rank)[i]
        if conv.padding == "valid":
            own.append((0, -(max(e, s) - e if op is None else op)))
        else:  # TF's 'same': the gradient of a 'same' convolution onto Keras's output length
            total = e - s if op is None else 2 * (e // 2) - op
            own.append(_half(total) if total >= 0 else (0, total))
    outer = _around(layer, "Cropping", rank)
    return tuple((a + c, b + d) for (a, b), (c, d) in zip(own, outer, strict=True))


def _keras_to_transpose(layer: Any) -> Any:
    nn = torch_nn()
    conv = _inner(layer, _TRANSPOSE_CLASSES)
    rank = len(conv.kernel_size)
    crops = _keras_crops(layer)
    padding = tuple(a for a, _ in crops)
    output_padding = tuple(a - b for a, b in crops)
    if any(op < 0 or op >= max(s, d) for op, s, d in zip(output_padding, conv.strides, conv.dilation_rate,
                                                           strict=True)):
        raise ValueError(f"Keras {conv.name}: crops {crops} have no torch padding / output_padding")
    return getattr(nn, f"ConvTranspose{rank}d")(
        int(conv.kernel.shape[-1]), conv.filters, tuple(conv.kernel_size), stride=tuple(conv.strides),
        padding=padding, output_padding=output_padding, dilation=tuple(conv.dilation_rate), bias=conv.use_bias)


def _transpose_weights(m: Any) -> dict[str, Link]:
    prefix = "layers.0." if any(m.padding) else ""
    return {"weight": Link(f"{prefix}kernel", CONV_TRANSPOSE_KERNEL[len(m.kernel_size)]),
            **({"bias": Link(f"{prefix}bias")} if m.bias is not None else {})}


def _transpose_reader(attr: str) -> Any:
    return _conv_reader(attr, _TRANSPOSE_CLASSES)


def _transpose(rank: int, drawn: tuple[str, ...] = (), **fixed: Any) -> Any:
    def make(p: Params) -> Any:
        args = {**{k: p[k] for k in drawn}, **fixed}
        return getattr(torch_nn(), f"ConvTranspose{rank}d")(p["in_channels"], p["out_channels"], p["kernel_size"],
                                                            **args)

    return make


def _transpose_same_torch(p: Params) -> Any:
    return torch_nn().ConvTranspose2d(p["in_channels"], p["out_channels"], 3, stride=2, padding=1, output_padding=1)


def _transpose_same_keras(p: Params) -> Any:
    return keras().layers.Conv2DTranspose(p["out_channels"], 3, strides=2, padding="same")


CONV_TRANSPOSE = Counterpart(
    wraps=True,
    name="conv_transpose",
    torch=("ConvTranspose1d", "ConvTranspose2d"),
    keras=_TRANSPOSE_CLASSES,
    to_keras=_transpose_to_keras,
    to_torch=_keras_to_transpose,
    weights=_transpose_weights,
    settings=(
        Setting("out_channels", "out_channels", _transpose_reader("filters")),
        Setting("kernel_size", "kernel_size", _transpose_reader("kernel_size")),
        Setting("stride", "stride", _transpose_reader("strides"), torch_default=1, keras_default=1),
        Setting("padding", _transpose_crops, _keras_crops, torch_default=0, keras_default="valid",
                meaning="(cropped before, cropped after) of the full transposed output per axis; output_padding "
                        "is a negative crop after"),
        Setting("dilation", "dilation", _transpose_reader("dilation_rate"), torch_default=1, keras_default=1),
        Setting("groups", "groups", lambda _layer: 1, torch_default=1, keras_default=1),
        Setting("bias", lambda m: m.bias is not None, _transpose_reader("use_bias"), torch_default=True,
                keras_default=True),
        Setting("activation", lambda _m: "linear", _transpose_reader("activation"), torch_default="linear",
                keras_default="linear"),
    ),
    examples=(
        Example("conv_transpose2d_stride2", _transpose(2, ("output_padding",), stride=2),
                dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS,
                      "kernel_size": st.integers(1, 4), "output_padding": st.integers(0, 1),
                      "height": st.integers(1, 5), "width": st.integers(1, 5)},
                inputs=X2, output_layout="channels_first",
                description="nn.ConvTranspose2d(stride=2) vs Conv2DTranspose(strides=2, padding='valid', "
                            "output_padding explicit): (n-1)*2 + k + output_padding on both, kernel 1 (smaller "
                            "than the stride) included; the (in, out, kh, kw) weight is the (kh, kw, out, in) kernel."),
        Example("conv_transpose2d_pad1", _transpose(2, ("output_padding",), stride=2, padding=1),
                dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS,
                      "kernel_size": st.integers(3, 4), "output_padding": st.integers(0, 1),
                      "height": st.integers(1, 5), "width": st.integers(1, 5)},
                inputs=X2, output_layout="channels_first",
                description="nn.ConvTranspose2d(k, stride=2, padding=1, output_padding) vs Sequential([Conv2DTranspose("
                            "padding='valid', output_padding), Cropping2D(1)]): torch's padding crops the output."),
        Example("conv_transpose1d", _transpose(1, ("stride", "output_padding", "padding", "bias")),
                dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS,
                      "kernel_size": st.integers(1, 3), "stride": st.integers(1, 3),
                      "output_padding": lambda p: st.integers(0, p["stride"] - 1),
                      "padding": lambda p: st.integers(0, (p["kernel_size"] - 1) // 2), "bias": st.booleans(),
                      "length": st.integers(1, 6)},
                inputs=X1, output_layout="channels_first",
                description="nn.ConvTranspose1d vs Conv1DTranspose (Cropping1D for padding): the (in, out, k) weight "
                            "is the (k, out, in) kernel."),
    ),
    conventions=(
        Convention(
            "same_stride2", setting="padding at stride 2",
            torch_default="padding=1, output_padding=1 (the usual 2x upsampling with k=3)",
            keras_default="padding='same' (TF crops k-s zeros, the extra one at the end)",
            effect=("Same output shape (2n), shifted by one: torch crops the first row and column of the full output, "
                    "Keras the last; all 72 outputs of 1x2x3x3 -> 1x2x6x6 (3x3 kernel, 2 filters) differ, max |diff| "
                    "1.3 (3.6 over 200 draws). Measured in float64 with N(0,1) inputs and N(0,1)/sqrt(fan_in) weights "
                    "(one draw; max over 200 draws); reproduce with conform run --pairs "
                    "atlas_conv_transpose_same_stride2 --checks forward --dtype float64."),
            torch=_transpose_same_torch, tf=_transpose_same_keras,
            dims={"batch": BATCH, "in_channels": CHANNELS, "out_channels": CHANNELS,
                  "height": st.integers(1, 5), "width": st.integers(1, 5)},
            inputs=X2, output_layout="channels_first",
            weights={"weight": Link("kernel", CONV_TRANSPOSE2D_IOHW_TO_HWOI), "bias": Link("bias")},
        ),
    ),
    accepts=_transpose_accepts,
)

COUNTERPARTS = (CONV, SEPARABLE, CONV_TRANSPOSE)
