"""TF's LeakyRelu op keeps its slope as a 32-bit float attribute, so a float64 LeakyReLU(0.01) uses 0.0099999998.

keras.layers.LeakyReLU(negative_slope=0.01) in float64 returns -0.009999999776482582 for x = -1,
where x * 0.01 in float64 (and torch.nn.LeakyReLU(0.01) in float64) gives -0.01: every negative
input is scaled by float32(0.01), a relative error of 2.2e-8. The gradient carries the same slope
(0.009999999776482582), and under XLA (tf.function(jit_compile=True)) the output is the same.
Keras's default slope 0.3 becomes 0.30000001192092896 (tf.nn.leaky_relu's default 0.2:
0.20000000298023224). tf.nn.leaky_relu, keras.ops.leaky_relu, keras.activations.leaky_relu and
the layer all reach the same op.

Mechanism, tensorflow 2.21.0: tf.nn.leaky_relu (tensorflow/python/ops/nn_ops.py, `leaky_relu`,
lines 3670-3699) passes the slope as an attribute, `gen_nn_ops.leaky_relu(features, alpha=alpha)`
(line 3699); the LeakyRelu and LeakyReluGrad ops declare `alpha: float`, a 32-bit attribute
(gen_nn_ops.py, `alpha = _execute.make_float(alpha, "alpha")`, lines 5889-6028), and the kernels
read it as a float before converting it to the tensor type
(tensorflow/include/tensorflow/core/kernels/relu_op.h, lines 139-141 and 160-162:
`float alpha_tmp; ... GetAttr("alpha", &alpha_tmp); alpha_ = T(alpha_tmp);`). Keras's TF backend
calls it directly (keras/src/backend/tensorflow/nn.py, `leaky_relu`, lines 104-105:
`tf.nn.leaky_relu(x, alpha=negative_slope)`).

How the harness found it: `conform run --pairs-from tests/precision_pairs.py --dtype float64`
(torch nn.LeakyReLU(0.01) against keras LeakyReLU(negative_slope=0.01): forward, gradient and
train_step fail in float64 only, by a float32-sized amount, the float64 probe naming the TF side).

Upstream: no report found. The review of tensorflow/tensorflow#21658 (2018, the PR that added the
LeakyRelu C++ op) noted that alpha is always a float; tensorflow/tensorflow#15391 (closed, 2017) was
leaky_relu not accepting float64 at all, before that op existed.

Run:  .venv/bin/python examples/findings/tf_leaky_relu_alpha_float32.py   (about 6 s on 2 cores)
Exit status: 1 while the defect is present (the float64 layer's output or gradient differs from
x * 0.01 in float64 by more than 1e-15 relative), 0 once it is fixed, 77 (with the reason) where
TensorFlow or Keras is not installed; 2 on an unexpected error. torch is an optional comparison.
"""

from __future__ import annotations

import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
SLOPE = 0.01
INPUTS = (-1.0, -3.0, -0.5, 2.0)
TOLERANCE = 1e-15  # relative; x * 0.01 is one correctly rounded product, float32(0.01) is 2.2e-8 off


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


def main() -> int:
    try:
        import numpy as np
    except ImportError as e:
        print(f"not runnable here: numpy is not installed ({e})")
        return NOT_RUNNABLE
    try:
        import torch  # optional: torch's float64 LeakyReLU as a second reference
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

    x = np.array(INPUTS)
    want = np.where(x >= 0, x, x * SLOPE)
    layer = keras.layers.LeakyReLU(negative_slope=SLOPE, dtype="float64")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt)
    got = out.numpy()
    grad = tape.gradient(out, xt).numpy()
    xla = tf.function(lambda t: tf.nn.leaky_relu(t, alpha=SLOPE), jit_compile=True)(xt).numpy()
    default_slope = float(keras.layers.LeakyReLU(dtype="float64")(tf.constant([-1.0], tf.float64)).numpy()[0])

    print(f"\nx = {list(INPUTS)} (float64), negative_slope = {SLOPE}")
    rows = [("keras LeakyReLU(0.01), float64", got), ("tf.nn.leaky_relu(alpha=0.01) under XLA", xla),
            ("x * 0.01 in float64 (expected)", want)]
    if torch is not None:
        rows.append(("torch nn.LeakyReLU(0.01), float64", torch.nn.LeakyReLU(SLOPE)(torch.from_numpy(x)).numpy()))
    for label, values in rows:
        print(f"  {label:<40} {[float(v) for v in values]}")
    print(f"  gradient of the keras layer (sum)        {[float(v) for v in grad]}  (expected slope {SLOPE})")
    print(f"  keras LeakyReLU() (default negative_slope 0.3), float64, at x = -1: {default_slope!r}")
    print(f"  float32(0.01) = {np.float32(SLOPE).item()!r}")

    negative = x < 0
    off = float(np.max(np.abs(got[negative] - want[negative]) / np.abs(want[negative])))
    grad_off = float(np.max(np.abs(grad[negative] - SLOPE)) / SLOPE)
    if max(off, grad_off) > TOLERANCE:
        print(f"bug present: float64 LeakyReLU(0.01) multiplies by {float(got[0] / x[0])!r}, not 0.01 "
              f"(output {off:.3g}, gradient {grad_off:.3g} relative off; the slope is a float32 op attribute)")
        return 1
    print(f"fixed: float64 LeakyReLU(0.01) multiplies by 0.01 (output {off:.3g}, gradient {grad_off:.3g} relative)")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
