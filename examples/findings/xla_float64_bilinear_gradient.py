"""XLA's gradient of a float64 bilinear resize is float32 data read as float64: half garbage, run to run.

The gradient of keras.layers.UpSampling2D(2, interpolation='bilinear') in float64 (or of
tf.image.resize(method='bilinear') on a float64 image) computed under tf.function(jit_compile=True)
has nothing to do with the eager gradient: for a (1, 5, 5, 2) N(0, 1) image the XLA gradient is off
the eager one by 3.9, 1e185, 7e252 or nan from one run of this script to the next (other shapes
give 1e284, nan, or denormals such as 6.9e-310), while eager and tf.function without XLA agree bit
for bit and are 1e-7 off a float64 reference (float32-sized: the resize computes in float32, see
examples/findings/tf_image_resize_float64.py). Reading the XLA result's bytes as float32 shows what
happened: its first half holds the float32 gradient (equal to eager's to float32 rounding), and the
second half is memory the computation never wrote, which is why values change from run to run. The
teammate's report ("returns uninitialised memory") is confirmed and refined: half the buffer is the
right gradient in the wrong type. When another op consumes that gradient inside the compiled
function (a float64 tf.sin before the upsampling), XLA refuses to compile instead: InternalError
"Seen floating point types of different precisions in ... multiply(%ResizeBilinearGrad, %Cos) ...
but mixed precision is disallowed". float16 is hit too (its XLA gradient 3.6e3 off eager); float32
is not (at most 7e-7 off eager over the shapes tried).

Mechanism (tensorflow 2.21.0; the XLA kernel is compiled into the wheel, the source read upstream
at tensorflow/tensorflow commit 02587cc54cac,
tensorflow/compiler/tf2xla/kernels/image_resize_ops.cc): ResizeBilinearGrad's output type is T, the
original image's type (float64 here), while its `grads` input is always float32 (ResizeBilinear's
output). ResizeBilinearGradOp::Compile sends half_pixel_centers=True or align_corners=False, i.e.
everything tf.image.resize does, to GeneralCompileGrad, which converts `grads` to F32 and, for the
bilinear kernel, never converts the result (`if (!is_kernel_bilinear && original_grad_type !=
grad_type)` guards the only conversion, and it would convert to the grads' type, not T), then
ctx->SetOutput(0, grad): an F32 value where the op promised F64: TF reads the float32 data as
float64, twice as many bytes as were written. The other path, DilationAndConvolutionCompileGrad
(align_corners=True, half_pixel_centers=False), ends with ConvertElementType(output, output_type)
and is right (2.2e-7 off eager on a raw ResizeBilinearGrad here). Where the gradient feeds another
op the mismatch surfaces as a compile error instead, in float64 (above) as in float16
(keras-team/keras#20931).

How the harness found it: `conform run --pairs atlas_upsample_bilinear --checks gradient --modes
graph --dtype float64` (the TF side under tf.function(jit_compile=True) against TF eager).

What was tried for the investigation (tensorflow 2.21.0 CPU, keras 3.15.1): float64 and float32;
shapes (1, 2, 2, 1), (1, 3, 3, 1), (1, 5, 5, 2), (2, 4, 6, 3), (1, 7, 3, 2), (1, 8, 8, 4), (3, 5,
7, 1), (1, 16, 16, 3) and (2, 32, 32, 8), each upsampled by 2; float16 and a float64 op before the
resize on (1, 5, 5, 2); eager, tf.function without XLA and with jit_compile=True, three XLA calls
each; the raw ResizeBilinearGrad op with each align_corners / half_pixel_centers combination. Every
float64 case under XLA was wrong (max |XLA - eager| from 3.2 to 1e304, or nan); no float32 case and
no non-XLA case was.

Upstream: no report found. Related: tensorflow/tensorflow#57575 (the request for XLA's resize
gradient with half_pixel_centers=True, the case TF 2.21 serves with GeneralCompileGrad),
keras-team/keras#20931 (closed: under XLA with mixed precision UpSampling2D's gradient comes back
float32 and breaks the next layer, the same missing conversion in float16),
tensorflow/tensorflow#118344, #118467, #120242 (XLA bilinear forward diverging in float32) and
#120240 (XLA bilinear NaN propagation), which are other defects.

Run:  .venv/bin/python examples/findings/xla_float64_bilinear_gradient.py   (about 6 s on 2 cores)
Exit status: 1 while the defect is present (the float64 XLA gradient more than 1e-5 off the eager
one or not finite, or XLA failing to compile it with an op before the resize), 0 once it is fixed,
77 (with the reason) where TensorFlow or Keras is not installed; 2 on an unexpected error.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
SHAPE = (1, 5, 5, 2)  # NHWC, upsampled by 2
RUNS = 3
TOLERANCE = 1e-5  # eager's gradient is float32-accurate (~1e-7 off float64); XLA's float32 one <= 7e-7 off eager


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
    """(n_out, n_in) weights of a half-pixel-centre bilinear resize (TF2's tf.image.resize)."""
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        s = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = math.floor(s)
        i1 = min(i0 + 1, n_in - 1)
        w[o, i0] += 1 - (s - i0)
        w[o, i1] += s - i0
    return w


def _fmt(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def main() -> int:
    try:
        import numpy as np
    except ImportError as e:
        print(f"not runnable here: numpy is not installed ({e})")
        return NOT_RUNNABLE
    try:
        tf = _import_tensorflow()
        import keras
    except ImportError as e:
        print(f"not runnable here: TensorFlow or Keras is not installed ({e})")
        return NOT_RUNNABLE
    print(f"tensorflow {tf.__version__}  keras {keras.__version__} (backend {keras.backend.backend()})  "
          f"numpy {np.__version__}")
    if keras.backend.backend() != "tensorflow":
        print(f"not runnable here: Keras runs on {keras.backend.backend()}, not tensorflow")
        return NOT_RUNNABLE

    np.seterr(all="ignore")  # the XLA result holds garbage: no overflow warnings on stderr
    tf.get_logger().setLevel("ERROR")  # nor tf.function's retracing warnings (one trace per dtype is intended)
    rng = np.random.default_rng(0)
    image = rng.standard_normal(SHAPE)
    out_shape = (SHAPE[0], 2 * SHAPE[1], 2 * SHAPE[2], SHAPE[3])
    cotangent = rng.standard_normal(out_shape)
    reference = np.einsum("oh,pw,bopc->bhwc", _bilinear_weights(np, SHAPE[1], out_shape[1]),
                          _bilinear_weights(np, SHAPE[2], out_shape[2]), cotangent)  # float64 vector-Jacobian product

    worst = 0.0
    for dtype in ("float64", "float32", "float16"):
        layer = keras.layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype)
        x, ct = tf.constant(image.astype(dtype)), tf.constant(cotangent.astype(dtype))

        def gradient(t, c, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(t)
                loss = tf.reduce_sum(layer(t) * c)
            return tape.gradient(loss, t)

        eager = gradient(x, ct).numpy().astype(np.float64)
        graph = tf.function(gradient)(x, ct).numpy().astype(np.float64)
        xla_fn = tf.function(gradient, jit_compile=True)
        raw = [xla_fn(x, ct).numpy() for _ in range(RUNS)]
        xla = [g.astype(np.float64) for g in raw]
        off = max(float(np.max(np.abs(g - eager))) for g in xla)
        off_reference = max(float(np.max(np.abs(g - reference))) for g in xla)
        finite = all(bool(np.isfinite(g).all()) for g in xla)
        stable = all(np.array_equal(g, raw[0], equal_nan=True) for g in raw)
        print(f"\nUpSampling2D(2, interpolation='bilinear'), {dtype}, {SHAPE} N(0, 1) image, gradient of "
              f"sum(y * N(0, 1)) w.r.t. the image:")
        print(f"  eager vs float64 reference           max |diff| {np.max(np.abs(eager - reference)):.3g}")
        print(f"  tf.function (no XLA) vs eager        max |diff| {np.max(np.abs(graph - eager)):.3g}")
        print(f"  tf.function(jit_compile=True) vs eager, {RUNS} calls: max |diff| {_fmt(off)}; all finite: {finite}; "
              f"the {RUNS} calls bit for bit equal: {stable}")
        print(f"  tf.function(jit_compile=True) vs float64 reference: max |diff| {_fmt(off_reference)}")
        print(f"  first values: eager {[float(f'{v:.6g}') for v in eager.ravel()[:4]]}, "
              f"XLA {[float(f'{v:.6g}') for v in xla[0].ravel()[:4]]}")
        if dtype == "float64":
            worst = off if finite else math.inf
            half = np.frombuffer(raw[0].tobytes(), np.float32)[: eager.size]
            print(f"  XLA's float64 result read as float32: its first {eager.size} floats are "
                  f"{np.max(np.abs(half - eager.ravel())):.3g} off the eager gradient (the float32 result in a "
                  f"float64 buffer; the rest is memory the computation never wrote)")
            x64, ct64, layer64 = x, ct, layer

    def chained(t, c):  # a float64 op before the upsampling: the resize gradient feeds another op inside XLA
        with tf.GradientTape() as tape:
            tape.watch(t)
            loss = tf.reduce_sum(layer64(tf.sin(t)) * c)
        return tape.gradient(loss, t)

    print("\nthe same in float64 with tf.sin before the upsampling, under XLA:")
    chained_problem = None
    try:
        chained_xla = tf.function(chained, jit_compile=True)(x64, ct64).numpy()
    except tf.errors.InternalError as e:  # the same missing conversion, seen by the next op
        if "different precisions" not in str(e):
            raise
        chained_problem = ("with an op before the resize, XLA cannot compile the gradient "
                           "(InternalError: floating point types of different precisions)")
        print(f"  {type(e).__name__}: {str(e)[:240]}...")
    else:
        chained_off = float(np.max(np.abs(chained_xla - chained(x64, ct64).numpy())))
        print(f"  compiles; max |XLA - eager| {_fmt(chained_off)}")
        if not chained_off <= TOLERANCE:
            chained_problem = f"with tf.sin before it, {_fmt(chained_off)} off eager"

    if not worst <= TOLERANCE or chained_problem:
        how = f"is {_fmt(worst)} off the eager gradient" if math.isfinite(worst) else "holds non-finite values"
        more = f"; {chained_problem}" if chained_problem else ""
        print(f"bug present: XLA's float64 bilinear-resize gradient {how} (float32 results in a float64 buffer; "
              f"tolerance {TOLERANCE:g}){more}")
        return 1
    print(f"fixed: XLA's float64 bilinear-resize gradient is within {worst:.3g} of the eager gradient, "
          f"also with an op before the resize")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
