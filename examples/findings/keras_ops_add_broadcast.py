"""keras.ops.add on the TensorFlow backend adds a (k, 1) operand along the wrong axis.

NumPy broadcasting aligns shapes from the right, so in

    np.zeros((1, 2, 2, 1)) + np.array([[1.], [2.]])      # (2, 1) lines up with axes 2 and 3

the value 1. goes to [0, :, 0, 0] and 2. to [0, :, 1, 0]. keras.ops.add gives a different answer:
1. goes to [0, 0, :, 0] and 2. to [0, 1, :, 0], i.e. the (2, 1) operand is added along axis 1.
Plain 2-D shapes are hit too: keras.ops.add(np.zeros((2, 2)), [[1.], [2.]]) returns
[[1, 2], [1, 2]] instead of [[1, 1], [2, 2]] (the column vector is added as a row).

Cause, keras 3.15.1, keras/src/backend/tensorflow/numpy.py, `add` (lines 96-131): lines 108-129
route an add through `tf.nn.bias_add` whenever the second operand squeezes to a vector of length k
(line 111 drops every size-1 axis, so (k, 1), (1, k) and (1, k, 1, 1) all become [k]) and k equals
x1.shape[1] or x1.shape[-1] (lines 120-121). Line 123 picks data_format "NHWC" (add along the last
axis) when x1.shape[-1] == k, else "NCHW" (add along axis 1), and line 128 squeezes x2 to (k,).
Where the size-1 axes of x2 sat is thrown away, so the add lands on axis -1 or axis 1 whatever
NumPy broadcasting says:

* x1 (1, k, k, 1) + x2 (k, 1): x1.shape[-1] == 1 != k, x1.shape[1] == k -> "NCHW", axis 1
  (NumPy: axis 2). This script's main case.
* x1 (k, k) + x2 (k, 1): x1.shape[-1] == k -> "NHWC", axis -1 (NumPy: axis 0).
* x1 (1, k, 3, 1) + x2 (k,): "NCHW" gives shape (1, k, 3, 1); NumPy broadcasts to (1, k, 3, k).
* x1 (3, 2) + x2 (2, 1): NumPy raises; keras returns a (3, 2) result.

Only static shapes are affected: with an unknown (None) axis 1 or -1 in x1 the condition at
lines 112-122 is false and the add falls through to a correct tf.add (line 131); a tf.function
traced with static shapes (even jit_compile=True) is hit. keras.layers.Add() goes through ops.add
and is hit too. tf.add and the `+` operator on tf.Tensors are not affected, nor is the torch
backend (checked with keras 3.15.1).

Where it bites in a layer: EinsumDense adds its bias with ops.add (keras/src/layers/core/
einsum_dense.py line 315). MultiHeadAttention's query/key/value projections are EinsumDense layers
with output (B, T, num_heads, key_dim) and bias shape (num_heads, key_dim). With key_dim == 1 the
bias is (num_heads, 1), and when the sequence length equals num_heads (x.shape[1] == num_heads,
x.shape[-1] == 1) it is added along the sequence axis instead of the heads axis. The smallest case
is MultiHeadAttention(num_heads=2, key_dim=1) on a batch of sequences of length 2, with non-zero
biases (the default zero bias hides it). It matches torch.nn.MultiheadAttention(embed_dim=2,
num_heads=2) with sequence length 2, a configuration a conformance suite can draw. With sequence
length 3 the same layer is correct.

How the harness found it: `conform run --pairs-from examples/hf_bert.py --pairs bert_keras_add_bias`
(keras_hub's BERT with key_dim 1 and seq == heads diverged from HF's; localisation named the
attention's query projection).

Upstream: no report of keras.ops.add's bias_add branch was found.

Run:  .venv/bin/python examples/findings/keras_ops_add_broadcast.py
Exit status: 1 while the bug is present (the results differ from NumPy), 0 once it is fixed, 77
(with the reason) where Keras or TensorFlow is not installed; 2 on an unexpected error.
"""

import inspect
import os
import sys
import traceback

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

NOT_RUNNABLE = 77


def _import_tensorflow():
    """Import TF with fd 2 silenced: TF 2.21 prints a oneDNN notice to stderr whatever TF_CPP_MIN_LOG_LEVEL says."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def np_mha(np, keras, layer, x):
    """NumPy MultiHeadAttention forward pass from `layer`'s own weights (self-attention)."""
    names = ("query", "key", "value", "output")
    w = {n: keras.ops.convert_to_numpy(getattr(layer, f"_{n}_dense").kernel) for n in names}
    b = {n: keras.ops.convert_to_numpy(getattr(layer, f"_{n}_dense").bias) for n in names}
    q = np.einsum("btd,dnk->btnk", x, w["query"]) + b["query"]
    k = np.einsum("bsd,dnk->bsnk", x, w["key"]) + b["key"]
    v = np.einsum("bsd,dnk->bsnk", x, w["value"]) + b["value"]
    s = np.einsum("bsnk,btnk->bnts", k, q) / np.sqrt(q.shape[-1])
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = np.einsum("bnts,bsnk->btnk", p, v)
    return np.einsum("btnk,nkd->btd", o, w["output"]) + b["output"]


def main():
    try:
        import numpy as np

        tf = _import_tensorflow()
        import keras
    except ImportError as exc:
        print(f"not runnable here: NumPy, TensorFlow or Keras is not installed ({exc})")
        return NOT_RUNNABLE
    print(
        f"python {sys.version.split()[0]}  numpy {np.__version__}  tensorflow {tf.__version__}  "
        f"keras {keras.__version__}  backend {keras.backend.backend()}"
    )
    from keras.src.backend.tensorflow import numpy as tfnp

    add = inspect.unwrap(tfnp.add)  # strip keras' sparse-union decorator
    src, start = inspect.getsourcelines(add)
    def_line = next((start + i for i, line in enumerate(src) if line.startswith("def add")), start)
    branch = [start + i for i, line in enumerate(src) if "tf.nn.bias_add" in line]  # comment ... return
    where = f"bias_add branch at lines {branch[0]}-{branch[-1]}" if branch else "no bias_add branch"
    print(f"keras.ops.add -> {inspect.getsourcefile(add)}:{def_line} ({where})")

    bugs = 0

    # 1. The op itself.
    x1, x2 = np.zeros((1, 2, 2, 1), "float32"), np.array([[1.0], [2.0]], "float32")
    got = keras.ops.convert_to_numpy(keras.ops.add(keras.ops.zeros((1, 2, 2, 1)), x2))
    want = x1 + x2
    same = got.shape == want.shape and np.array_equal(got, want)
    bugs += not same
    print("\nkeras.ops.add(keras.ops.zeros((1, 2, 2, 1)), [[1.], [2.]])[0, :, :, 0]:")
    print(got[0, :, :, 0])
    print("np.zeros((1, 2, 2, 1)) + np.array([[1.], [2.]])[0, :, :, 0]:")
    print(want[0, :, :, 0])
    print("-> " + ("AGREE" if same else "DIFFERENT"))

    got2 = keras.ops.convert_to_numpy(keras.ops.add(np.zeros((2, 2), "float32"), x2))
    want2 = np.zeros((2, 2), "float32") + x2
    same2 = np.array_equal(got2, want2)
    bugs += not same2
    print(
        f"\n2-D: keras.ops.add(zeros((2, 2)), [[1.], [2.]]) = {got2.tolist()}, "
        f"numpy = {want2.tolist()} -> {'AGREE' if same2 else 'DIFFERENT'}"
    )

    # 2. Where it bites: MultiHeadAttention with key_dim=1 and sequence length == num_heads.
    print("\nMultiHeadAttention(num_heads=2, key_dim=1), non-zero biases, vs a NumPy forward pass:")
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=1)
    rng = np.random.default_rng(0)
    for seq in (2, 3):
        x = rng.normal(size=(1, seq, 2)).astype("float32")
        if not layer.built:
            layer(x, x)
            for v in layer.weights:
                v.assign(rng.normal(size=v.shape).astype("float32"))
        diff = float(np.max(np.abs(keras.ops.convert_to_numpy(layer(x, x)) - np_mha(np, keras, layer, x))))
        ok = diff < 1e-5
        if seq == 2:
            bugs += not ok
        print(f"  sequence length {seq}: max |keras - numpy| = {diff:.3g} -> {'AGREE' if ok else 'DIFFERENT'}")

    if bugs:
        print(f"\nbug present: keras.ops.add adds a (k, 1) operand along the wrong axis ({bugs} of 3 checks differ "
              "from NumPy)")
        return 1
    print("\nfixed: keras.ops.add broadcasts like NumPy")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - an unexpected error is not the defect's verdict
        traceback.print_exc()
        sys.exit(2)
