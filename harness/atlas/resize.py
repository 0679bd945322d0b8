"""Resizing: nn.Upsample against UpSampling2D (an integer scale) and Resizing (a fixed size).

Both frameworks sample at half-pixel centres by default (torch ``align_corners=False``, TF's
``half_pixel_centers``), so bilinear agrees, and so does nearest where torch asks for it by
name: ``'nearest-exact'`` is TF's nearest. torch's plain ``'nearest'`` takes
``floor(dst * in / out)`` instead, the same only at an integer scale; ``align_corners=True``
and bicubic's coefficient (torch -0.75, TF -0.5) have no Keras spelling.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import ledger
from harness.atlas.core import Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.spec import Params, Tensor

BATCH = st.integers(1, 3)
CHANNELS = st.integers(1, 4)
X2 = (Tensor("x", ("batch", "channels", "height", "width"), layout="channels_first"),)

# torch mode -> the Keras interpolation that samples the same points
_INTERPOLATION = {"nearest": "nearest", "nearest-exact": "nearest", "bilinear": "bilinear"}
_FLOOR = "nearest (floor(dst * in / out), not half-pixel)"
_CUBIC = "bicubic (coefficient -0.75; TF's is -0.5)"


def _pair(value: Any) -> tuple[Any, Any] | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _scale(m: Any) -> tuple[int | float, ...] | None:
    """torch's scale factor per axis, integers where it is whole."""
    scale = _pair(m.scale_factor)
    return None if scale is None else tuple(int(s) if float(s).is_integer() else float(s) for s in scale)


def _size(m: Any) -> tuple[int, ...] | None:
    size = _pair(m.size)
    return None if size is None else tuple(int(s) for s in size)


def _torch_interpolation(m: Any) -> str:
    """torch's mode, said as what it samples: plain 'nearest' is floor-nearest except at an integer scale."""
    if m.mode == "nearest" and (m.size is not None or any(isinstance(s, float) for s in _scale(m) or ())):
        return _FLOOR
    if m.mode == "bicubic":
        return _CUBIC
    return m.mode


def _upsample_accepts(m: Any) -> str | None:
    if m.align_corners:
        return ("align_corners=True: TF samples at half-pixel centres, Keras has no align_corners "
                "(UpSampling2D and Resizing alike)")
    if m.mode not in _INTERPOLATION:
        return (f"mode={m.mode!r}: no Keras interpolation samples the same (bicubic: torch's coefficient -0.75, "
                "TF's -0.5; linear/trilinear are not 2-d)")
    if _torch_interpolation(m) == _FLOOR:
        return ("mode='nearest' at a size or a fractional scale: torch takes floor(dst * in / out), Keras's "
                "nearest the half-pixel centre (torch's 'nearest-exact')")
    if m.size is None and any(isinstance(s, float) for s in _scale(m)):
        return f"scale_factor={m.scale_factor!r}: UpSampling2D repeats by whole numbers only"
    return None


def _upsample_to_keras(m: Any) -> Any:
    k = keras()
    interpolation = _INTERPOLATION[m.mode]
    if m.size is not None:
        height, width = _size(m)
        return k.layers.Resizing(height, width, interpolation=interpolation)
    return k.layers.UpSampling2D(_scale(m), interpolation=interpolation)


def _keras_to_upsample(layer: Any) -> Any:
    nn = torch_nn()
    interpolation = layer.get_config()["interpolation"]
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Keras {layer.name}: interpolation {interpolation!r} has no nn.Upsample mode that samples "
                         "the same")
    if type(layer).__name__ == "Resizing":
        config = layer.get_config()
        if config.get("crop_to_aspect_ratio") or config.get("pad_to_aspect_ratio") or config.get("antialias"):
            raise ValueError(f"Keras {layer.name}: aspect-ratio cropping, padding or antialias has no nn.Upsample")
        mode = "nearest-exact" if interpolation == "nearest" else "bilinear"
        return nn.Upsample(size=(config["height"], config["width"]), mode=mode)
    return nn.Upsample(scale_factor=tuple(float(s) for s in layer.size), mode=interpolation)


def _keras_scale(layer: Any) -> tuple[int, ...] | None:
    return tuple(layer.size) if type(layer).__name__ == "UpSampling2D" else None


def _keras_size(layer: Any) -> tuple[int, ...] | None:
    if type(layer).__name__ != "Resizing":
        return None
    config = layer.get_config()
    return config["height"], config["width"]


def _keras_antialias(layer: Any) -> bool:
    return bool(layer.get_config().get("antialias", False))


def _upsample(mode: str) -> Any:
    def make(p: Params) -> Any:
        return torch_nn().Upsample(scale_factor=(p["scale_h"], p["scale_w"]), mode=mode)

    return make


def _resize(mode: str) -> Any:
    def make(p: Params) -> Any:
        return torch_nn().Upsample(size=(p["out_height"], p["out_width"]), mode=mode)

    return make


_SCALE_DIMS = {"batch": BATCH, "channels": CHANNELS, "scale_h": st.integers(1, 3), "scale_w": st.integers(1, 3),
               "height": st.integers(1, 6), "width": st.integers(1, 6)}
_SIZE_DIMS = {"batch": BATCH, "channels": CHANNELS, "out_height": st.integers(1, 8), "out_width": st.integers(1, 8),
              "height": st.integers(1, 8), "width": st.integers(1, 8)}

RESIZE_FLOAT64 = tuple(ledger.declared("tf-image-resize-float64", check, dtypes=("float64",))
                       for check in ("forward", "gradient"))
# Compiled, the float64 bilinear gradient is worse than float32-rounded: XLA returns memory it never wrote.
XLA_BILINEAR_GRADIENT = ledger.declared("xla-float64-bilinear-gradient", "gradient", dtypes=("float64",),
                                        modes=("graph",))
BILINEAR_FLOAT64 = (*RESIZE_FLOAT64, XLA_BILINEAR_GRADIENT)
_CUDA_BACKWARD_WRONG = {(6, 1), (10, 1), (12, 1), (12, 2)}  # (input size, output size): the ones measured on an H200
NEAREST_EXACT_CUDA = ledger.declared(
    "torch-nearest-exact-cuda-backward", "gradient", devices=("cuda",),
    where=lambda p: bool({(p["height"], p["out_height"]), (p["width"], p["out_width"])} & _CUDA_BACKWARD_WRONG))

UPSAMPLE = Counterpart(
    name="upsample",
    torch=("Upsample",),
    keras=("UpSampling2D", "Resizing"),
    to_keras=_upsample_to_keras,
    to_torch=_keras_to_upsample,
    settings=(
        Setting("scale_factor", _scale, _keras_scale, keras_default=(2, 2), meaning="None where a size is given"),
        Setting("size", _size, _keras_size, meaning="None where a scale factor is given"),
        Setting("interpolation", _torch_interpolation, "interpolation", torch_default="nearest",
                keras_default="nearest (UpSampling2D) / bilinear (Resizing)",
                to_keras=lambda mode: _INTERPOLATION.get(mode, mode)),
        Setting("align_corners", lambda m: bool(m.align_corners), lambda _layer: False, torch_default=False,
                keras_default=False, meaning="Keras always samples at half-pixel centres"),
        Setting("antialias", lambda _m: False, _keras_antialias, torch_default=False, keras_default=False,
                meaning="nn.Upsample never antialiases (F.interpolate's antialias is not exposed)"),
    ),
    accepts=_upsample_accepts,
    examples=(
        Example("upsample_nearest", _upsample("nearest"), dims=_SCALE_DIMS, inputs=X2,
                output_layout="channels_first",
                description="nn.Upsample(scale_factor=(sh, sw)) vs UpSampling2D((sh, sw)): each cell repeated, "
                            "whole scales 1 to 3 per axis."),
        Example("upsample_bilinear", _upsample("bilinear"), dims=_SCALE_DIMS, inputs=X2,
                output_layout="channels_first",
                description="nn.Upsample(scale_factor, mode='bilinear', align_corners=False) vs UpSampling2D(size, "
                            "interpolation='bilinear'): half-pixel centres, edges clamped, on both.",
                spec={"known_divergences": BILINEAR_FLOAT64}),
        Example("upsample_size_bilinear", _resize("bilinear"), dims=_SIZE_DIMS, inputs=X2,
                output_layout="channels_first",
                description="nn.Upsample(size=(h, w), mode='bilinear') vs Resizing(h, w, 'bilinear', antialias=False): "
                            "any size, shrinking included (no antialias on either side).",
                spec={"known_divergences": BILINEAR_FLOAT64}),
        Example("upsample_size_nearest_exact", _resize("nearest-exact"), dims=_SIZE_DIMS, inputs=X2,
                output_layout="channels_first",
                description="nn.Upsample(size=(h, w), mode='nearest-exact') vs Resizing(h, w, 'nearest'): the cell "
                            "under floor((dst + 0.5) * in / out) on both.",
                spec={"known_divergences": (NEAREST_EXACT_CUDA,)}),
    ),
    conventions=(
        Convention(
            "align_corners", setting="align_corners",
            torch_default="align_corners=True (as ported from models that set it)",
            keras_default="half-pixel centres (no align_corners)",
            effect=("Bilinear 2x upsampling samples other points: torch maps corner to corner (src = dst * (in-1) / "
                    "(out-1)), TF half-pixel centres: 120 of the 128 outputs of 1x2x4x4 -> 8x8 differ (all but the "
                    "corners), max |diff| 0.38 (1.0 over 200 draws). Measured in float64 with N(0,1) inputs and "
                    "N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform run --pairs "
                    "atlas_upsample_align_corners --checks forward --dtype float64."),
            torch=lambda p: torch_nn().Upsample(scale_factor=2, mode="bilinear", align_corners=True),
            tf=lambda p: keras().layers.UpSampling2D(2, interpolation="bilinear"),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(2, 6), "width": st.integers(2, 6)},
            inputs=X2, output_layout="channels_first",
        ),
        Convention(
            "size_default_mode", setting="interpolation",
            torch_default="'nearest' (nn.Upsample's default)", keras_default="'bilinear' (Resizing's default)",
            effect=("nn.Upsample(size=(6, 6)) vs Resizing(6, 6) at each default, nearest against bilinear: 64 of the "
                    "72 outputs of 1x2x4x4 -> 6x6 differ, max |diff| 1.05 (3.3 over 200 draws). Measured in float64 "
                    "with N(0,1) inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce "
                    "with conform run --pairs atlas_upsample_size_default_mode --checks forward --dtype float64."),
            torch=lambda p: torch_nn().Upsample(size=(6, 6)),
            tf=lambda p: keras().layers.Resizing(6, 6),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(2, 5), "width": st.integers(2, 5)},
            inputs=X2, output_layout="channels_first",
        ),
        Convention(
            "nearest_rounding", setting="interpolation='nearest'",
            torch_default="floor(dst * in / out)", keras_default="half-pixel: floor((dst + 0.5) * in / out)",
            effect=("At a non-integer scale the two pick other cells: resizing 3 rows to 5, torch takes rows 0, 0, 1, "
                    "1, 2 and Keras 0, 0, 1, 2, 2; 34 of the 70 outputs of 1x2x4x3 -> 5x7 differ, max |diff| 2.1 (5.5 "
                    "over 200 draws). torch's 'nearest-exact' is Keras's 'nearest'. Measured in float64 with N(0,1) "
                    "inputs and N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform "
                    "run --pairs atlas_upsample_nearest_rounding --checks forward --dtype float64."),
            torch=lambda p: torch_nn().Upsample(size=(5, 7), mode="nearest"),
            tf=lambda p: keras().layers.Resizing(5, 7, interpolation="nearest"),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.sampled_from([3, 4, 6]),
                  "width": st.sampled_from([3, 4, 6])},
            inputs=X2, output_layout="channels_first",
        ),
        Convention(
            "bicubic", setting="interpolation='bicubic'",
            torch_default="cubic coefficient a = -0.75", keras_default="a = -0.5 (Keys; TF's bicubic)",
            effect=("2x bicubic upsampling weighs the 4x4 neighbours differently: all 128 outputs of 1x2x4x4 -> 8x8 "
                    "differ, max |diff| 0.12 (0.31 over 200 draws). Measured in float64 with N(0,1) inputs and "
                    "N(0,1)/sqrt(fan_in) weights (one draw; max over 200 draws); reproduce with conform run --pairs "
                    "atlas_upsample_bicubic --checks forward --dtype float64."),
            torch=lambda p: torch_nn().Upsample(scale_factor=2, mode="bicubic"),
            tf=lambda p: keras().layers.UpSampling2D(2, interpolation="bicubic"),
            dims={"batch": BATCH, "channels": CHANNELS, "height": st.integers(2, 6), "width": st.integers(2, 6)},
            inputs=X2, output_layout="channels_first",
        ),
    ),
)

COUNTERPARTS = (UPSAMPLE,)
