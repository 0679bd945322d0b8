"""tf.nn.gelu(approximate=False) computes the exact GELU to about float32 accuracy in float64.

The exact GELU is 0.5 x erfc(-x / sqrt(2)). In a float64 call TensorFlow 2.21 returns values up to
3.6e-7 relative off it over 100,000 N(0, 1) draws (torch.nn.functional.gelu in float64: 4.7e-12),
the largest in the negative tail (x = -4.49: -1.56977767e-05 against -1.56977711e-05). keras
Activation('gelu') / keras.activations.gelu (approximate=False is their default) and
keras.ops.gelu(approximate=False) reach the same call on the TensorFlow backend
(keras/src/backend/tensorflow/nn.py, `gelu`, line 131: `tf.nn.gelu(x, approximate=approximate)`),
so a float64 Keras model carries float32-sized errors wherever it uses GELU.

Mechanism, tensorflow 2.21.0, tensorflow/python/ops/nn_ops.py, `gelu` (lines 3705-3758): the exact
branch, lines 3752-3758, computes

    0.5 * features * math_ops.erfc(-features * math_ops.cast(0.7071067811865476, features.dtype))

and math_ops.cast of a Python float (tensorflow/python/ops/math_ops.py, `cast`, line 1044:
`x = ops.convert_to_tensor(x, name="x")`, with no dtype) first makes a float32 constant and then
widens it: 1/sqrt(2) becomes 0.7071067690849304 (relative error 1.7e-8). A relative error e in
erfc's argument a becomes about 2 a^2 e in erfc(a) in the tail, so the error grows to 3.6e-7 at
x = -4.49 (a = 3.18). The Erfc kernel itself is accurate (1.5e-15 relative on the same draws),
and the same formula with a float64 constant is 2.8e-15 off: the script shows both.

How the harness found it: `conform run --pairs atlas_gelu --checks forward --dtype float64`
(the forward of torch.nn.GELU against keras Activation('gelu') failed in float64 only, by a
float32-sized amount, and the float64 probe named the TF side).

Upstream: no report of tf.nn.gelu's precision found. The root cause, tf.cast of a Python float
to float64 going through float32, is tensorflow/tensorflow#35938 (closed; its fix #35961 was rolled
back because it changed graphs), #57779 (closed; PR #58526 documented the loss in tf.cast's
docstring instead of fixing it), #53306 and #64548 (closed, stale).

Run:  .venv/bin/python examples/findings/tf_gelu_exact_float64.py   (about 7 s on a 2-core machine)
Exit status: 1 while the defect is present (tf.nn.gelu or keras's gelu more than 1e-9 relative off
the exact float64 GELU), 0 once it is fixed, 77 (with the reason) where TensorFlow or Keras is not
installed; 2 on an unexpected error. torch and mpmath are optional comparisons.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
DRAWS = 100_000
TOLERANCE = 1e-9  # relative; a float64 GELU is ~1e-15 off (torch's 1 + erf form: 5e-12), float32-sized is ~1e-7


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


def _max_relative(got, want):
    import numpy as np

    nonzero = want != 0
    rel = np.abs(got[nonzero] - want[nonzero]) / np.abs(want[nonzero])
    i = int(np.argmax(rel))
    return float(rel[i]), int(np.flatnonzero(nonzero)[i])


def main() -> int:
    try:
        import numpy as np
    except ImportError as e:
        print(f"not runnable here: numpy is not installed ({e})")
        return NOT_RUNNABLE
    try:
        import torch  # optional: the comparison with torch's float64 GELU
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

    x = np.random.default_rng(0).standard_normal(DRAWS)
    erfc = np.frompyfunc(math.erfc, 1, 1)
    exact = 0.5 * x * erfc(-x / math.sqrt(2)).astype(np.float64)  # libm's erfc, correctly rounded to ~1 ulp

    tf_gelu = tf.nn.gelu(tf.constant(x, tf.float64), approximate=False).numpy()
    keras_gelu = keras.ops.convert_to_numpy(keras.layers.Activation("gelu", dtype="float64")(x))
    constant = tf.constant(1 / math.sqrt(2), tf.float64)
    same_formula = (0.5 * x * tf.math.erfc(-tf.constant(x, tf.float64) * constant)).numpy()

    print(f"\n{DRAWS:,} N(0, 1) draws (seed 0), float64; reference 0.5 x erfc(-x / sqrt(2)) with Python's math.erfc")
    rel_tf, worst = _max_relative(tf_gelu, exact)
    rel_keras, _ = _max_relative(keras_gelu, exact)
    rel_fixed, _ = _max_relative(same_formula, exact)
    print(f"  tf.nn.gelu(approximate=False)         max relative error {rel_tf:.3g}")
    print(f"  keras Activation('gelu', float64)     max relative error {rel_keras:.3g}")
    print(f"  same formula, 1/sqrt(2) in float64    max relative error {rel_fixed:.3g}")
    if torch is not None:
        rel_torch, _ = _max_relative(torch.nn.functional.gelu(torch.from_numpy(x)).numpy(), exact)
        print(f"  torch.nn.functional.gelu (float64)    max relative error {rel_torch:.3g}")
    print(f"  worst case x = {float(x[worst])!r}: tf.nn.gelu {float(tf_gelu[worst])!r}, exact {float(exact[worst])!r}")

    try:
        import mpmath
    except ImportError:
        print("  (mpmath not installed: the reference is not cross-checked)")
    else:
        mpmath.mp.dps = 40
        picks = np.argsort(-np.abs(tf_gelu - exact) / np.maximum(np.abs(exact), 1e-300))[:100]
        ref = [float(0.5 * mpmath.mpf(x[i]) * mpmath.erfc(-mpmath.mpf(x[i]) / mpmath.sqrt(2))) for i in picks]
        check = max(abs(r - exact[i]) / abs(r) for r, i in zip(ref, picks, strict=True))
        print(f"  reference against mpmath {mpmath.__version__} (40 digits) at tf's 100 worst draws: "
              f"max relative difference {check:.3g}")

    widened = float(tf.cast(0.7071067811865476, tf.float64).numpy())
    print(f"\nmechanism: tf.cast(0.7071067811865476, tf.float64) = {widened!r} "
          f"(relative error {abs(widened * math.sqrt(2) - 1):.3g}); tf.math.erfc alone: "
          f"{_max_relative(tf.math.erfc(tf.constant(x)).numpy(), erfc(x).astype(np.float64))[0]:.3g} relative")

    worst_rel = max(rel_tf, rel_keras)
    if worst_rel > TOLERANCE:
        print(f"bug present: tf.nn.gelu(approximate=False) is {worst_rel:.3g} relative off the exact GELU in float64 "
              f"(tolerance {TOLERANCE:g}; 1/sqrt(2) rounded through float32)")
        return 1
    print(f"fixed: tf.nn.gelu(approximate=False) is within {worst_rel:.3g} relative of the exact GELU in float64")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
