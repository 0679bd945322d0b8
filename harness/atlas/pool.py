"""Pooling and zero padding: nn.MaxPool/AvgPool, AdaptiveAvgPool(1) and nn.ZeroPad against Keras's.

torch pools over ``p`` padded cells on both sides (-inf for max, zeros counted by default for
average) and, with ``ceil_mode``, over a last window that runs off the end. Keras has
'valid' and TF's 'same' (which never counts its padding), so a torch pool is 'valid', or
'same' where the windows coincide (stride 1 with ``k = 2p + 1``; ``ceil_mode`` with a kernel
of at most 2 no longer than the stride), or, for an average that counts its zeros, an explicit
``ZeroPaddingND`` before a 'valid' pool. Max pooling over -inf padding at stride 2 has no Keras
form at all (no layer pads with -inf).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import ledger
from harness.atlas.conv import _inner, _pairs, _tuple  # one reading of Keras's padding for both families
from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.spec import Params, Tensor

# torch.compile's gradient of the window ceil_mode hangs over an odd length (kernel 2): a torch defect, declared
# where it shows (compiled against eager, and so against TF) and re-checked by its reproducer on every release.
AVG_POOL_CEIL_INDUCTOR = ledger.declared("torch-inductor-avg-pool-ceil-backward", "gradient", modes=("graph",),
                                         where=lambda p: p["kernel_size"] == 2 and p["length"] % 2 == 1)
# torch.compile's dynamic MaxPool2d backward raises (index out of bounds) for windows wider than the input: a torch
# bug, recorded as a skip that says so, as Conv3d's (harness.atlas.conv).
MAX_POOL_INDUCTOR = ledger.entry("torch-inductor-max-pool2d-dynamic-backward").reason

BATCH = st.integers(1, 3)
CHANNELS = st.integers(1, 4)

X1 = (Tensor("x", ("batch", "channels", "length"), layout="channels_first"),)
X2 = (Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),)

_MAX = ("MaxPooling1D", "MaxPooling2D")
_AVG = ("AveragePooling1D", "AveragePooling2D")


def _rank(m: Any) -> int:
    return 1 if type(m).__name__.endswith("1d") else 2


def _outer(layer: Any, rank: int) -> tuple[tuple[int, int], ...]:
    total = [(0, 0)] * rank
    for sub in getattr(layer, "layers", ()):
        if type(sub).__name__ == f"ZeroPadding{rank}D":
            total = [(a + c, b + d) for (a, b), (c, d) in zip(total, _pairs(sub.padding, rank), strict=True)]
    return tuple(total)


# --- max and average pooling


def _window(m: Any) -> tuple[Any, ...]:
    """Everything that decides torch's windows: kernel, stride, padding, ceil_mode, and for an average
    whether the padded zeros count."""
    rank = _rank(m)
    kernel = _tuple(m.kernel_size, rank)
    stride = _tuple(m.stride if m.stride is not None else m.kernel_size, rank)
    counts = bool(getattr(m, "count_include_pad", False))
    return kernel, stride, _tuple(m.padding, rank), bool(m.ceil_mode), counts


def _spelling(window: tuple[Any, ...]) -> tuple[str, tuple[tuple[int, int], ...] | None] | str:
    """How Keras says torch's windows: ('valid' | 'same', explicit zeros before or None), or why it cannot."""
    kernel, stride, padding, ceil_mode, counts = window
    if ceil_mode and any(padding):
        return "ceil_mode with padding: the last window's extent has no Keras padding"
    if ceil_mode:
        # TF's 'same' puts (ceil(n/s)-1)*s + k - n zeros, the smaller half before: none before iff that is <= 1
        if all(k <= min(2, s) for k, s in zip(kernel, stride, strict=True)):
            return "same", None
        return ("ceil_mode with a kernel > 2 or longer than the stride: TF's 'same' centres the windows, torch's "
                "ceil_mode only extends the last one")
    if not any(padding):
        return "valid", None
    if counts:
        return "valid", tuple((p, p) for p in padding)  # zeros the average counts: ZeroPadding, then 'valid'
    if all(s == 1 and k == 2 * p + 1 for k, s, p in zip(kernel, stride, padding, strict=True)):
        return "same", None  # stride 1: TF's 'same' pads p on both sides, uncounted (max: never chosen)
    return ("padding other than (k-1)/2 at stride 1, uncounted: torch pads p cells on both sides, TF's 'same' "
            "depends on the size (the extra cell at the end), and no Keras layer pads with -inf")


def _pool_accepts(m: Any) -> str | None:
    if getattr(m, "return_indices", False):
        return "return_indices=True: Keras pools return no indices"
    if _tuple(getattr(m, "dilation", 1), _rank(m)) != (1,) * _rank(m):
        return "dilation > 1: Keras pools have no dilation"
    if getattr(m, "divisor_override", None) is not None:
        return "divisor_override: Keras averages divide by the window's count"
    spelled = _spelling(_window(m))
    return spelled if isinstance(spelled, str) else None


def _pool_to_keras(m: Any) -> Any:
    k = keras()
    rank = _rank(m)
    kernel, stride, *_ = _window(m)
    spelled = _spelling(_window(m))
    if isinstance(spelled, str):
        raise ValueError(f"torch {type(m).__name__}: {spelled}")
    padding, explicit = spelled
    kind = "Max" if type(m).__name__.startswith("Max") else "Average"
    pool = getattr(k.layers, f"{kind}Pooling{rank}D")(kernel, strides=stride, padding=padding)
    if explicit is None:
        return pool
    return k.Sequential([getattr(k.layers, f"ZeroPadding{rank}D")(explicit[0] if rank == 1 else explicit), pool])


def _keras_spelling(layer: Any) -> tuple[str, tuple[tuple[int, int], ...] | None]:
    pool = _inner(layer, _MAX + _AVG)
    rank = len(pool.pool_size)
    outer = _outer(layer, rank)
    return pool.padding, None if outer == ((0, 0),) * rank else outer


def _keras_to_pool(layer: Any) -> Any:
    nn = torch_nn()
    pool = _inner(layer, _MAX + _AVG)
    rank = len(pool.pool_size)
    kind = "Max" if type(pool).__name__.startswith("Max") else "Avg"
    kernel, stride = tuple(pool.pool_size), tuple(pool.strides)
    padding, explicit = _keras_spelling(layer)
    cls = getattr(nn, f"{kind}Pool{rank}d")
    extra = {"count_include_pad": explicit is not None} if kind == "Avg" else {}
    if explicit is not None:
        if any(a != b for a, b in explicit):
            raise ValueError(f"Keras {layer.name}: asymmetric zero padding {explicit} has no torch pool padding")
        if kind == "Max":
            raise ValueError(f"Keras {layer.name}: max pooling over explicit zeros has no torch pool")
        return cls(kernel, stride, padding=tuple(a for a, _ in explicit), **extra)
    if padding == "valid":
        return cls(kernel, stride, **extra)
    if all(k <= min(2, s) for k, s in zip(kernel, stride, strict=True)):
        return cls(kernel, stride, ceil_mode=True, **extra)
    if all(s == 1 and k % 2 for k, s in zip(kernel, stride, strict=True)):
        return cls(kernel, stride, padding=tuple(k // 2 for k in kernel), **extra)
    raise ValueError(f"Keras {layer.name}: 'same' pooling with pool {kernel}, strides {stride} has no torch pool")


def _pool_reader(attr: str) -> Any:
    def read(layer: Any) -> Any:
        return tuple(_inner(layer, _MAX + _AVG).get_config()[attr])

    return read


def _pool_settings() -> tuple[Setting, ...]:
    return (
        Setting("kernel_size", lambda m: _tuple(m.kernel_size, _rank(m)), _pool_reader("pool_size")),
        Setting("stride", lambda m: _window(m)[1], _pool_reader("strides"), torch_default="kernel_size",
                keras_default="pool_size"),
        Setting("padding", _window, _keras_spelling, torch_default=0, keras_default="valid", to_keras=_spelling,
                meaning="the windows (kernel, stride, padding, ceil_mode, count_include_pad) as Keras spells them: "
                        "('valid' | 'same', the explicit ZeroPadding before)"),
    )


def _max(rank: int, drawn: tuple[str, ...] = (), **fixed: Any) -> Any:
    """nn.MaxPool{rank}d(kernel_size, ...) reading only the ``drawn`` params (the engine keys reuse by reads)."""
    def make(p: Params) -> Any:
        return getattr(torch_nn(), f"MaxPool{rank}d")(p["kernel_size"], **{k: p[k] for k in drawn}, **fixed)

    return make


def _avg(rank: int, drawn: tuple[str, ...] = (), **fixed: Any) -> Any:
    def make(p: Params) -> Any:
        return getattr(torch_nn(), f"AvgPool{rank}d")(p["kernel_size"], **{k: p[k] for k in drawn}, **fixed)

    return make


def _at_least(name: str, minus: int = 0) -> Any:
    return lambda p: st.integers(max(1, p[name] - minus), 8)


MAX_POOL = Counterpart(
    wraps=True,
    name="max_pool",
    torch=("MaxPool1d", "MaxPool2d"),
    keras=_MAX,
    to_keras=_pool_to_keras,
    to_torch=_keras_to_pool,
    settings=_pool_settings() + (
        Setting("dilation", lambda m: _tuple(m.dilation, _rank(m)), lambda layer: (1,) * len(
            _inner(layer, _MAX).pool_size), torch_default=1, keras_default=1),
    ),
    accepts=_pool_accepts,
    examples=(
        Example("max_pool1d", _max(1, ("stride",)),
                dims={"batch": BATCH, "channels": CHANNELS, "kernel_size": st.integers(1, 3),
                      "stride": st.integers(1, 3), "length": _at_least("kernel_size")},
                inputs=X1, output_layout="channels_first",
                description="nn.MaxPool1d(k, stride) vs MaxPooling1D(k, strides, 'valid'): the windows that fit."),
        Example("max_pool2d_same", lambda p: torch_nn().MaxPool2d(2 * p["half"] + 1, stride=1, padding=p["half"]),
                dims={"batch": BATCH, "channels": CHANNELS, "half": st.integers(0, 2), "height": st.integers(1, 8),
                      "width": st.integers(1, 8)},
                inputs=X2, output_layout="channels_first",
                description="nn.MaxPool2d(2p+1, stride=1, padding=p) vs MaxPooling2D(2p+1, strides=1, "
                            "padding='same'): p cells on every side that never win a max.",
                spec={"skip_modes": {"graph:gradient": MAX_POOL_INDUCTOR}}),
        Example("max_pool2d_ceil", lambda p: torch_nn().MaxPool2d(2, ceil_mode=True),
                dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(1, 8), "width": st.integers(1, 8)},
                inputs=X2, output_layout="channels_first",
                description="nn.MaxPool2d(2, ceil_mode=True) vs MaxPooling2D(2, padding='same'): an odd size keeps "
                            "its last row and column as a window of one on both."),
    ),
    conventions=(
        Convention(
            "same_stride2", setting="padding at stride 2",
            torch_default="padding=1 (k=3, the ResNet stem's MaxPool2d(3, 2, 1))",
            keras_default="padding='same' (TF: the extra cell at the end)",
            effect=("On an even size Keras's windows start one cell later (0 padded before and 1 after, torch 1 and "
                    "1), same output shape: 6 of the 8 outputs of a 1x2x4x4 input differ, max |diff| 1.6 (3.0 over "
                    "200 draws); odd sizes agree exactly. Measured in float64 with N(0,1) inputs and "
                    "N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform run --pairs "
                    "atlas_max_pool_same_stride2 --checks forward --dtype float64."),
            torch=lambda p: torch_nn().MaxPool2d(3, stride=2, padding=1),
            tf=lambda p: keras().layers.MaxPooling2D(3, strides=2, padding="same"),
            # from 4: at 2 both windows cover the whole input and agree, so a case there tests nothing of this
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.sampled_from([4, 6, 8]),
                  "width": st.sampled_from([4, 6, 8])},
            inputs=X2, output_layout="channels_first", weights={},
        ),
        Convention(
            "ceil_mode", setting="ceil_mode",
            torch_default="ceil_mode=True (k=3, stride 2: GoogLeNet's and SqueezeNet's pools)",
            keras_default="padding='same' (the nearest Keras spelling)",
            effect=("On an odd size the shapes differ: torch ceil((n-3)/2)+1 windows per axis, Keras ceil(n/2): (1, "
                    "2, 3, 3) against (1, 2, 4, 4) for a 1x2x7x7 input, 1x1 against 2x2 for 3x3; even sizes agree. "
                    "Measured in float64 with N(0,1) inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 "
                    "draws); reproduce with conform run --pairs atlas_max_pool_ceil_mode --checks forward --dtype "
                    "float64."),
            torch=lambda p: torch_nn().MaxPool2d(3, stride=2, ceil_mode=True),
            tf=lambda p: keras().layers.MaxPooling2D(3, strides=2, padding="same"),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.sampled_from([3, 5, 7]),
                  "width": st.sampled_from([3, 5, 7])},
            inputs=X2, output_layout="channels_first", weights={},
        ),
    ),
)


AVG_POOL = Counterpart(
    wraps=True,
    name="avg_pool",
    torch=("AvgPool1d", "AvgPool2d"),
    keras=_AVG,
    to_keras=_pool_to_keras,
    to_torch=_keras_to_pool,
    settings=_pool_settings() + (
        Setting("divisor_override", lambda m: getattr(m, "divisor_override", None), lambda _layer: None),
    ),
    accepts=_pool_accepts,
    examples=(
        Example("avg_pool1d_ceil", _avg(1, ceil_mode=True),
                dims={"batch": BATCH, "channels": CHANNELS, "kernel_size": st.integers(1, 2),
                      "length": st.integers(1, 8)},
                inputs=X1, output_layout="channels_first",
                description="nn.AvgPool1d(k <= 2, ceil_mode=True) vs AveragePooling1D(k, padding='same'): the last "
                            "window of an odd length averages the one cell it has on both.",
                spec={"known_divergences": (AVG_POOL_CEIL_INDUCTOR,)}),
        Example("avg_pool2d_pad1", _avg(2, ("stride",), padding=1),
                dims={"batch": BATCH, "channels": CHANNELS, "kernel_size": st.integers(2, 3),
                      "stride": st.integers(1, 2), "height": st.integers(1, 8), "width": st.integers(1, 8)},
                inputs=X2, output_layout="channels_first",
                description="nn.AvgPool2d(k, stride, padding=1) (count_include_pad=True) vs Sequential(["
                            "ZeroPadding2D(1), AveragePooling2D(k, strides, 'valid')]): the padded zeros count in "
                            "every window on both."),
        Example("avg_pool2d_exclude_pad",
                lambda p: torch_nn().AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
                dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(1, 8), "width": st.integers(1, 8)},
                inputs=X2, output_layout="channels_first",
                description="nn.AvgPool2d(3, 1, 1, count_include_pad=False) vs AveragePooling2D(3, 1, 'same'): a "
                            "border window averages only the cells it covers on both."),
    ),
    conventions=(
        Convention(
            "count_include_pad", setting="count_include_pad",
            torch_default="True (padded zeros count in the average)",
            keras_default="padding='same' never counts its padding",
            effect=("AvgPool2d(3, 1, 1) vs AveragePooling2D(3, 1, 'same'): every border output differs (torch divides "
                    "by 9, Keras by the 4 or 6 cells covered), the 24 border outputs of a 1x2x4x4 input, max |diff| "
                    "0.63 (1.2 over 200 draws); the 8 interior outputs agree. Measured in float64 with N(0,1) inputs "
                    "and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform run "
                    "--pairs atlas_avg_pool_count_include_pad --checks forward --dtype float64."),
            torch=lambda p: torch_nn().AvgPool2d(3, stride=1, padding=1),
            tf=lambda p: keras().layers.AveragePooling2D(3, strides=1, padding="same"),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(1, 8), "width": st.integers(1, 8)},
            inputs=X2, output_layout="channels_first", weights={},
        ),
    ),
)


# --- global average pooling: AdaptiveAvgPool(1)


def _output_size(m: Any) -> tuple[Any, ...]:
    return _tuple(m.output_size, _rank(m)) if not isinstance(m.output_size, (tuple, list)) else tuple(m.output_size)


def _global_accepts(m: Any) -> str | None:
    if any(s != 1 for s in _output_size(m)):
        return f"output_size={m.output_size!r}: Keras's global pools make one cell (adaptive bins have no layer)"
    return None


def _global_to_keras(m: Any) -> Any:
    return getattr(keras().layers, f"GlobalAveragePooling{_rank(m)}D")(keepdims=True)


def _keras_to_global(layer: Any) -> Any:
    if not layer.keepdims:
        raise ValueError(f"Keras {layer.name}: keepdims=False drops the pooled axes; torch's adaptive pool keeps "
                         "them (follow it with nn.Flatten)")
    return getattr(torch_nn(), f"AdaptiveAvgPool{1 if type(layer).__name__.endswith('1D') else 2}d")(1)


GLOBAL_AVG_POOL = Counterpart(
    name="global_avg_pool",
    torch=("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"),
    keras=("GlobalAveragePooling1D", "GlobalAveragePooling2D"),
    to_keras=_global_to_keras,
    to_torch=_keras_to_global,
    settings=(
        Setting("output_size", _output_size, lambda layer: "global", to_keras=lambda v: "global" if all(
            s == 1 for s in v) else v),
        Setting("keepdims", lambda _m: True, "keepdims", torch_default=True, keras_default=False),
    ),
    accepts=_global_accepts,
    examples=(
        Example("adaptive_avg_pool1d", lambda p: torch_nn().AdaptiveAvgPool1d(1),
                dims={"batch": BATCH, "channels": CHANNELS, "length": st.integers(1, 8)},
                inputs=X1, output_layout="channels_first",
                description="nn.AdaptiveAvgPool1d(1) vs GlobalAveragePooling1D(keepdims=True): (N, C, 1) / (N, 1, C)."),
        Example("adaptive_avg_pool2d", lambda p: torch_nn().AdaptiveAvgPool2d(1),
                dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(1, 8), "width": st.integers(1, 8)},
                inputs=X2, output_layout="channels_first",
                description="nn.AdaptiveAvgPool2d(1) vs GlobalAveragePooling2D(keepdims=True): the mean over height "
                            "and width, kept as a 1x1 map."),
    ),
    conventions=(
        Convention(
            "keepdims", setting="keepdims",
            torch_default="kept (N, C, 1, 1)", keras_default="keepdims=False (N, C)",
            effect=("The shapes differ: torch (1, 2, 1, 1), Keras (1, 2) for a 1x2x4x4 input; the values agree once "
                    "flattened. Measured in float64 with N(0,1) inputs and N(0,1)/sqrt(fan_in) weights (one draw; max "
                    "over 200 draws); reproduce with conform run --pairs atlas_global_avg_pool_keepdims --checks "
                    "forward --dtype float64."),
            torch=lambda p: torch_nn().AdaptiveAvgPool2d(1),
            tf=lambda p: keras().layers.GlobalAveragePooling2D(),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(1, 8), "width": st.integers(1, 8)},
            inputs=X2, output_layout="channels_first", weights={},
        ),
    ),
)


# --- zero padding


def _zero_pairs(m: Any) -> tuple[tuple[int, int], ...]:
    """torch's (left, right[, top, bottom]) as Keras's (before, after) per spatial axis, outermost first."""
    pad = tuple(int(v) for v in m.padding)
    return tuple((pad[i], pad[i + 1]) for i in reversed(range(0, len(pad), 2)))


def _torch_to_keras_order(padding: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    pad = tuple(int(v) for v in padding)
    return tuple((pad[i], pad[i + 1]) for i in reversed(range(0, len(pad), 2)))


def _zero_accepts(m: Any) -> str | None:
    if any(int(v) < 0 for v in m.padding):
        return f"negative padding {tuple(m.padding)} crops: that is Keras's CroppingND, not ZeroPaddingND"
    return None


def _zero_to_keras(m: Any) -> Any:
    pairs = _zero_pairs(m)
    return getattr(keras().layers, f"ZeroPadding{len(pairs)}D")(pairs[0] if len(pairs) == 1 else pairs)


def _keras_zero_pairs(layer: Any) -> tuple[tuple[int, int], ...]:
    return _pairs(layer.padding, 1 if type(layer).__name__.endswith("1D") else 2)


def _keras_to_zero(layer: Any) -> Any:
    pairs = _keras_zero_pairs(layer)
    flat = tuple(v for pair in reversed(pairs) for v in pair)  # innermost axis first: (left, right, top, bottom)
    return getattr(torch_nn(), f"ZeroPad{len(pairs)}d")(flat)


ZERO_PAD = Counterpart(
    name="zero_pad",
    torch=("ZeroPad1d", "ZeroPad2d"),
    keras=("ZeroPadding1D", "ZeroPadding2D"),
    to_keras=_zero_to_keras,
    to_torch=_keras_to_zero,
    settings=(
        Setting("padding", "padding", _keras_zero_pairs, to_keras=_torch_to_keras_order,
                meaning="torch (left, right, top, bottom), innermost axis first; Keras ((top, bottom), (left, right))"),
    ),
    accepts=_zero_accepts,
    examples=(
        Example("zero_pad1d", lambda p: torch_nn().ZeroPad1d((p["left"], p["right"])),
                dims={"batch": BATCH, "channels": CHANNELS, "left": st.integers(0, 2), "right": st.integers(0, 2),
                      "length": st.integers(1, 6)},
                inputs=X1, output_layout="channels_first",
                description="nn.ZeroPad1d((left, right)) vs ZeroPadding1D((left, right))."),
        Example("zero_pad2d", lambda p: torch_nn().ZeroPad2d((p["left"], p["right"], p["top"], p["bottom"])),
                dims={"batch": BATCH, "channels": CHANNELS, "left": st.integers(0, 2), "right": st.integers(0, 2),
                      "top": st.integers(0, 2), "bottom": st.integers(0, 2), "height": st.integers(1, 6),
                      "width": st.integers(1, 6)},
                inputs=X2, output_layout="channels_first",
                description="nn.ZeroPad2d((left, right, top, bottom)) vs ZeroPadding2D(((top, bottom), (left, "
                            "right))): the same zeros, the arguments in the other order."),
    ),
    conventions=(
        Convention(
            "argument_order", setting="padding",
            torch_default="(left, right, top, bottom): the last axis first",
            keras_default="((top, bottom), (left, right)): the first spatial axis first",
            effect=("The same four numbers (0, 1, 1, 0) pad other sides: torch a row on top and a column on the "
                    "right, Keras a row at the bottom and a column on the left; same shape, 46 of the 50 outputs of "
                    "1x2x4x4 -> 1x2x5x5 differ, max |diff| 2.6 (5.3 over 200 draws). Measured in float64 with N(0,1) "
                    "inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform "
                    "run --pairs atlas_zero_pad_argument_order --checks forward --dtype float64."),
            torch=lambda p: torch_nn().ZeroPad2d((0, 1, 1, 0)),
            tf=lambda p: keras().layers.ZeroPadding2D(((0, 1), (1, 0))),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(2, 6), "width": st.integers(2, 6)},
            inputs=X2, output_layout="channels_first", weights={},
        ),
    ),
)

COUNTERPARTS = (MAX_POOL, AVG_POOL, GLOBAL_AVG_POOL, ZERO_PAD)
