"""tf.image.resize computes a float64 image in float32 (every method but nearest), and Keras casts it back.

tf.image.resize of a float64 image returns float32 for bilinear, bicubic, area, lanczos3,
gaussian and mitchellcubic (only nearest keeps float64), and the float32 result is bit for bit the
resize of the image rounded to float32: the float64 bits are dropped on entry. Keras's TF backend
calls tf.image.resize (keras/src/backend/tensorflow/image.py, `resize`, line 331) and
keras.ops.image.resize casts the result back to the image's dtype (keras/src/ops/image.py,
`_resize`, lines 424-430: ops.saturate_cast(resized, images.dtype)), so a float64
keras.layers.UpSampling2D(interpolation='bilinear') or Resizing returns float64 tensors that carry
float32 rounding: 1.4e-7 off a float64 bilinear upsampling of a 5x5x2 N(0, 1) image by 2, where
torch.nn.functional.interpolate(mode='bilinear', align_corners=False) in float64 agrees with a
NumPy float64 bilinear to 2.2e-16.

Mechanism, tensorflow 2.21.0: tensorflow/python/ops/image_ops_impl.py, `resize_images_v2` (line
1622) documents it (line 1702: "The return value has type `float32`, unless the `method` is
`ResizeMethod.NEAREST_NEIGHBOR`"); its resize_fn (lines 1755-1793) calls the ResizeBilinear,
ResizeBicubic, ResizeArea and ScaleAndTranslate kernels, whose output is float whatever the
input type: tensorflow/include/tensorflow/core/kernels/image/resize_bilinear_op.h, lines 27-31,
`ResizeBilinear<Device, T>` with float scales writing `TTypes<float, 4>::Tensor resized_images`.
Documented for TF, so the defect is that a float64 run cannot resize in float64 (Keras's
float64 layers silently lose the precision).

How the harness found it: `conform run --pairs atlas_upsample_bilinear --checks forward --dtype
float64` (torch nn.Upsample(scale_factor=2, mode='bilinear') against Keras UpSampling2D(2,
interpolation='bilinear'), float64 only, a float32-sized difference).

Upstream: no report of the float64 precision loss found. Related: tensorflow/tensorflow#23959
(closed: tf.image.resize_images returning float32 for uint8, answered as documented),
keras-team/keras#13249 (closed, Keras 2.2.5: bilinear UpSampling converts the tensor to float32),
keras-team/keras#20931 (closed: UpSampling2D's float32 gradient breaks mixed precision under XLA).

Run:  .venv/bin/python examples/findings/tf_image_resize_float64.py   (about 7 s on 2 cores)
Exit status: 1 while the defect is present (tf.image.resize bilinear or Keras UpSampling2D/Resizing
more than 1e-12 off a float64 bilinear, or bicubic returning float32 for float64), 0 once it is
fixed, 77 (with the reason) where TensorFlow or Keras is not installed; 2 on an unexpected error.
torch is an optional second reference.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
SHAPE = (1, 5, 5, 2)  # NHWC, upsampled by 2 to 10 x 10
TOLERANCE = 1e-12  # a float64 bilinear of N(0, 1) values is ~1e-16 off; one computed in float32 ~1e-7
METHODS = ("bilinear", "bicubic", "area", "lanczos3", "gaussian", "mitchellcubic", "nearest")


def _import_tensorflow():
    """Import TF with fd 2 silenced: TF 2.21 prints a oneDNN notice to stderr whatever TF_CPP_MIN_LOG_LEVEL says,
    and `conform findings --check` reports the last line of the output."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def _bilinear_weights(np, n_in: int, n_out: int):
    """(n_out, n_in) weights of a half-pixel-centre bilinear resize (TF2's and torch's align_corners=False)."""
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        s = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = math.floor(s)
        i1 = min(i0 + 1, n_in - 1)
        w[o, i0] += 1 - (s - i0)
        w[o, i1] += s - i0
    return w


def main() -> int:
    try:
        import numpy as np
    except ImportError as e:
        print(f"not runnable here: numpy is not installed ({e})")
        return NOT_RUNNABLE
    try:
        import torch  # optional: torch's float64 bilinear as a second reference
    except ImportError:
        torch = None
    try:
        tf = _import_tensorflow()
        import keras
    except ImportError as e:
        print(f"not runnable here: TensorFlow or Keras is not installed ({e})")
        return NOT_RUNNABLE

    versions = [f"tensorflow {tf.__version__}", f"keras {keras.__version__} (backend {keras.backend.backend()})",
                f"numpy {np.__version__}"]
    if torch is not None:
        versions.append(f"torch {torch.__version__}")
    print("  ".join(versions))
    if keras.backend.backend() != "tensorflow":
        print(f"not runnable here: Keras runs on {keras.backend.backend()}, not tensorflow")
        return NOT_RUNNABLE

    x = np.random.default_rng(0).standard_normal(SHAPE)
    h, w = 2 * SHAPE[1], 2 * SHAPE[2]

    print(f"\ntf.image.resize of a float64 {SHAPE} N(0, 1) image to {h} x {w}:")
    dtypes = {}
    for method in METHODS:
        y64 = tf.image.resize(tf.constant(x), (h, w), method=method)
        y32 = tf.image.resize(tf.constant(x.astype(np.float32)), (h, w), method=method)
        dtypes[method] = y64.dtype.name
        same = np.array_equal(y64.numpy().astype(np.float64), y32.numpy().astype(np.float64))
        verdict = "bit for bit the resize of the image rounded to float32" if same else "keeps the float64 values"
        print(f"  {method:<14} returns {y64.dtype.name:<8} {verdict}")

    weights_h, weights_w = _bilinear_weights(np, SHAPE[1], h), _bilinear_weights(np, SHAPE[2], w)
    reference = np.einsum("oh,pw,bhwc->bopc", weights_h, weights_w, x)
    print("\nbilinear x2 against a NumPy float64 bilinear (half-pixel centres):")
    if torch is not None:
        t = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(h, w), mode="bilinear",
                                            align_corners=False).permute(0, 2, 3, 1).numpy()
        print(f"  torch F.interpolate(bilinear, align_corners=False), float64  max |diff| "
              f"{np.max(np.abs(t - reference)):.3g}")
    candidates = {
        "tf.image.resize(bilinear), cast to float64": tf.image.resize(tf.constant(x), (h, w)).numpy(),
        "keras UpSampling2D(2, 'bilinear'), float64": keras.layers.UpSampling2D(
            2, interpolation="bilinear", dtype="float64")(x),
        "keras Resizing(10, 10), float64": keras.layers.Resizing(h, w, dtype="float64")(x),
    }
    worst = 0.0
    for label, value in candidates.items():
        out = keras.ops.convert_to_numpy(value)
        diff = float(np.max(np.abs(out.astype(np.float64) - reference)))
        worst = max(worst, diff)
        print(f"  {label:<59} max |diff| {diff:.3g}  (output {out.dtype})")

    problems = []
    if worst > TOLERANCE:
        problems.append(f"bilinear is {worst:.3g} off a float64 bilinear")
    if dtypes["bicubic"] != "float64":
        problems.append(f"bicubic returns {dtypes['bicubic']} for a float64 image")
    if problems:
        print(f"bug present: tf.image.resize computes float64 images in float32: {'; '.join(problems)} "
              f"(tolerance {TOLERANCE:g})")
        return 1
    print(f"fixed: tf.image.resize keeps float64 (bilinear within {worst:.3g} of a float64 bilinear, "
          f"bicubic returns {dtypes['bicubic']})")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
