"""Keras's TF backend rounds MultiHeadAttention's scale 1/sqrt(key_dim) through float32 in float64.

A float64 keras.layers.MultiHeadAttention(num_heads=2, key_dim=3) multiplies the attention logits
by 0.5773502588272095 instead of 1/sqrt(3) = 0.5773502691896258 (relative error 1.8e-8): its
outputs are 7.3e-8 off a NumPy float64 forward pass of the same weights, its gradients up to 1.6e-7
off the same layer with the scale a float64 number, which brings the output to 1.8e-15 of NumPy.
keras.ops.dot_product_attention does the same, with a Python-float `scale` and with its default
scale=None (1.5e-8 off NumPy on a small case), and MultiHeadAttention reaches it: the layer uses
ops.dot_product_attention whenever dropout is 0, no scores are returned and the projected query is
4-D, the explicit einsum path otherwise, and both round the scale. keras_hub's BERT (its
TransformerEncoder builds a keras.layers.MultiHeadAttention) goes through the same code; its
presets have key_dim 64, whose scale 0.125 is exact in float32, so only head sizes that are not
powers of 4 show a difference.

Mechanism, keras 3.15.1: keras/src/layers/attention/multi_head_attention.py line 201 stores
`self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))`, a Python float. The explicit
path, line 584, calls `ops.cast(self._inverse_sqrt_key_dim, query.dtype)`, which on the TF backend
is `tf.cast(x, dtype=dtype)` (keras/src/backend/tensorflow/core.py, `cast`, line 218); the fused
path (lines 531-540 and 556-565) passes `scale=self._inverse_sqrt_key_dim` to
ops.dot_product_attention, whose TF backend multiplies `tf.multiply(logits, tf.cast(scale,
logits.dtype))` (keras/src/backend/tensorflow/nn.py, `_dot_product_attention_xla`, line 1708; the
default scale, line 1774, is `1.0 / tf.sqrt(tf.cast(H, "float32"))`, float32 outright). tf.cast of
a Python float converts it to a float32 tensor before widening it (tensorflow/python/ops/
math_ops.py, line 1044), so the scale carries float32 rounding. With `_inverse_sqrt_key_dim` an
np.float64 (what the harness's ledger patch does) tf.cast keeps it exact.

How the harness found it: `conform run --pairs atlas_multihead_attention --dtype float64` (torch
nn.MultiheadAttention against keras MultiHeadAttention: forward, gradient and train_step fail in
float64 only, by about 1e-8, the float64 probe naming the TF side; also seen on
`conform run --pairs-from examples/hf_bert.py --pairs bert_backbone --dtype float64`).

Upstream: no Keras report found. The root cause is TensorFlow's tf.cast of a Python float:
tensorflow/tensorflow#35938 (closed; fix #35961 rolled back), #57779 (closed; documented by PR
#58526), #64548 (closed, stale).

Run:  .venv/bin/python examples/findings/keras_mha_scale_float32.py   (about 6 s on 2 cores)
Exit status: 1 while the defect is present (the float64 layer, either path, or
keras.ops.dot_product_attention more than 1e-12 off NumPy in float64), 0 once it is fixed, 77
(with the reason) where TensorFlow or Keras is not installed; 2 on an unexpected error.
"""

from __future__ import annotations

import math
import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
BATCH, SEQ, FEATURES, HEADS, KEY_DIM = 2, 4, 6, 2, 3  # key_dim 3: 1/sqrt(3) is not a float32 number
TOLERANCE = 1e-12  # a float64 attention of this size is ~1e-15 off NumPy; the float32 scale ~1e-8


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


def _softmax(np, s):
    p = np.exp(s - s.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


def _numpy_mha(np, keras, layer, x, scale):
    """NumPy float64 self-attention from the layer's own weights, with the scale given."""
    names = ("query", "key", "value", "output")
    w = {n: keras.ops.convert_to_numpy(getattr(layer, f"_{n}_dense").kernel) for n in names}
    b = {n: keras.ops.convert_to_numpy(getattr(layer, f"_{n}_dense").bias) for n in names}
    q = np.einsum("btd,dnk->btnk", x, w["query"]) + b["query"]
    k = np.einsum("bsd,dnk->bsnk", x, w["key"]) + b["key"]
    v = np.einsum("bsd,dnk->bsnk", x, w["value"]) + b["value"]
    p = _softmax(np, np.einsum("btnk,bsnk->bnts", q, k) * scale)
    return np.einsum("btnk,nkd->btd", np.einsum("bnts,bsnk->btnk", p, v), w["output"]) + b["output"]


def _numpy_attention(np, q, k, v, scale):
    p = _softmax(np, np.einsum("btnh,bsnh->bnts", q, k) * scale)
    return np.einsum("bnts,bsnh->btnh", p, v)


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

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, FEATURES))
    layer = keras.layers.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM, dtype="float64")
    layer(x, x)
    for variable in layer.weights:
        variable.assign(rng.standard_normal(variable.shape))

    exact = 1 / math.sqrt(KEY_DIM)
    rounded = float(np.float32(exact))
    reference = _numpy_mha(np, keras, layer, x, exact)
    print(f"\nfloat64 MultiHeadAttention(num_heads={HEADS}, key_dim={KEY_DIM}), self-attention on "
          f"{x.shape} N(0, 1), N(0, 1) weights; NumPy float64 forward with scale 1/sqrt({KEY_DIM}) = {exact!r}")
    stored = layer._inverse_sqrt_key_dim
    print(f"  layer._inverse_sqrt_key_dim = {stored!r} ({type(stored).__name__}); "
          f"tf.cast of it to float64: {float(tf.cast(stored, tf.float64))!r}")

    xt = tf.constant(x)
    weights = [v.value for v in layer.trainable_weights]
    cotangent = tf.constant(np.linspace(-1.0, 1.0, BATCH * SEQ * FEATURES).reshape(BATCH, SEQ, FEATURES))

    def forward_and_gradients(scores_path: bool):
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = layer(xt, xt, return_attention_scores=True)[0] if scores_path else layer(xt, xt)
            loss = tf.reduce_sum(out * cotangent)
        return out.numpy(), [g.numpy() for g in tape.gradient(loss, [xt, *weights])]

    as_is = {path: forward_and_gradients(path) for path in (False, True)}
    layer._inverse_sqrt_key_dim = np.float64(1.0) / np.sqrt(np.float64(KEY_DIM))  # the control: a float64 scale
    control = forward_and_gradients(False)

    worst = 0.0
    for path, label in ((False, "fused path (ops.dot_product_attention)"), (True, "explicit path (scores returned)")):
        out, grads = as_is[path]
        off = float(np.max(np.abs(out - reference)))
        worst = max(worst, off)
        grad_off = max(float(np.max(np.abs(a - b))) for a, b in zip(grads, control[1], strict=True))
        print(f"  {label:<40} output vs NumPy {off:.3g}; gradients (input, weights) vs float64 scale {grad_off:.3g}")
    print(f"  {'scale set to np.float64 (control)':<40} output vs NumPy {np.max(np.abs(control[0] - reference)):.3g}")
    print(f"  NumPy with the float32-rounded scale {rounded!r}: vs the layer "
          f"{np.max(np.abs(as_is[False][0] - _numpy_mha(np, keras, layer, x, rounded))):.3g}")

    q, k, v = (rng.standard_normal((1, 3, 2, KEY_DIM)) for _ in range(3))
    want = _numpy_attention(np, q, k, v, exact)
    print(f"\nkeras.ops.dot_product_attention, float64 (1, 3, 2, {KEY_DIM}) query/key/value, vs NumPy float64:")
    for label, kwargs in (("scale=1/sqrt(3) (Python float)", {"scale": exact}), ("scale=None (default)", {}),
                          ("scale=np.float64(1/sqrt(3))", {"scale": np.float64(exact)})):
        got = keras.ops.convert_to_numpy(keras.ops.dot_product_attention(q, k, v, **kwargs))
        off = float(np.max(np.abs(got - want)))
        if "np.float64" not in label:
            worst = max(worst, off)
        print(f"  {label:<32} max |diff| {off:.3g}  ({got.dtype})")

    if worst > TOLERANCE:
        print(f"bug present: float64 attention is {worst:.3g} off NumPy: the scale 1/sqrt(key_dim) is rounded "
              f"through float32 (tolerance {TOLERANCE:g})")
        return 1
    print(f"fixed: float64 MultiHeadAttention and dot_product_attention are within {worst:.3g} of NumPy")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
