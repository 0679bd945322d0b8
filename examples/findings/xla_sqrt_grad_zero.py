"""XLA's SqrtGrad and RsqrtGrad return NaN where TensorFlow's own kernels return 0: a zero upstream gradient.

TF's CPU kernel for SqrtGrad(y, dy) gives 0 where dy is 0, even at y = 0 (where 0.5 * dy / y is
0 / 0); under tf.function(jit_compile=True) XLA computes 0.5 * dy / y and returns NaN.
RsqrtGrad at y = inf, dy = 0 likewise. A layer that adds epsilon outside the square root,
x_c / (sqrt(var) + eps), meets it on any constant row (var = 0, and the gradient reaching sqrt
is sum(dout * x_c) = 0): eager TF and torch give a finite gradient, XLA gives NaN for every
element of that row, in float32 and float64.

How the harness found it: `conform run --pairs layer_norm_002 --checks gradient --modes graph`
(the zeros regime draws a row of zeros: tf.function nan against tf eager 7304.95 on grad x).

Upstream: closest tensorflow/tensorflow#118674 (open: under XLA the gradient of tf.where leaks sqrt'(0) from the
branch it did not take); SqrtGrad itself at dy = 0 not reported.

Run:  .venv/bin/python examples/findings/xla_sqrt_grad_zero.py
Exit status: 1 while the defect is present, 0 once XLA agrees with TF's kernels, 77 (with the
reason) where TensorFlow or XLA is missing, 2 on an unexpected error.
"""

from __future__ import annotations

import os
import sys
import traceback

NOT_RUNNABLE = 77


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as e:
        print(f"not runnable here: TensorFlow is not installed ({e})")
        return NOT_RUNNABLE
    print(f"tensorflow {tf.__version__}  python {sys.version.split()[0]}")
    tf.autograph.set_verbosity(0)
    cases = {"SqrtGrad": (tf.raw_ops.SqrtGrad, [0.0, 4.0]), "RsqrtGrad": (tf.raw_ops.RsqrtGrad, [float("inf"), 0.5])}
    wrong = []
    for name, (op, ys) in cases.items():
        y, dy = tf.constant(ys, tf.float64), tf.constant([0.0, 1.0], tf.float64)
        eager = op(y=y, dy=dy).numpy()
        try:
            xla = tf.function(lambda y, dy, op=op: op(y=y, dy=dy), jit_compile=True)(y, dy).numpy()
        except tf.errors.InvalidArgumentError as e:
            print(f"not runnable here: XLA cannot compile on this machine ({str(e).splitlines()[0]})")
            return NOT_RUNNABLE
        print(f"  {name}(y={ys}, dy=[0, 1]): TF kernel {eager.tolist()}, XLA {xla.tolist()}")
        if eager[1] != xla[1]:
            raise AssertionError(f"{name} differs at dy = 1: not this defect, but investigate")
        if eager[0] != xla[0]:
            wrong.append(f"{name} at dy = 0: {eager[0]} vs {xla[0]}")
    if wrong:
        print(f"bug present: XLA returns NaN where TF's kernel returns 0 ({'; '.join(wrong)})")
        return 1
    print("fixed: XLA agrees with TF's kernels at dy = 0")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
