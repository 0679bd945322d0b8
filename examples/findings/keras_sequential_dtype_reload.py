"""Keras 3.15's Sequential.from_config (and .keras loading) drops the Sequential's own dtype policy.

A keras.Sequential built under keras.config.set_dtype_policy('float64') has dtype policy float64,
and its config says so ('dtype': DTypePolicy 'float64'). Sequential.from_config of that config,
and keras.saving.load_model of the model saved as .keras, under the default policy, give a
Sequential whose own policy is float32 (its config now says 'float32'), while its layers keep
float64. A Dense alone keeps its float64 policy through Dense.from_config. For a built model with
a float64 Input the outputs and weights round-trip bit for bit: only the model's dtype and config
differ. It is not only cosmetic: a Sequential without an Input layer casts its inputs to its
own compute dtype until it is built, so the first call of a reloaded, unbuilt float64 Sequential
rounds its input to float32 (2.2e-8 off the original on N(0, 1) inputs here) and later calls do
not. A functional keras.Model does not write 'dtype' into its config at all and comes back
float32 too (reported by the script, not part of its verdict).

Mechanism, keras 3.15.1, keras/src/models/sequential.py: `Sequential.__init__` (line 69) takes no
dtype (Sequential(dtype=...) is a TypeError), so the model's policy is the global one at
construction; `get_config` (line 354) starts from Model.get_config (line 364), which writes the
policy (keras/src/layers/layer.py line 1749); `from_config` (line 372) builds the model with
`cls(name=name)` (line 383) and never reads config["dtype"]. keras/src/ops/operation.py,
`Operation.from_config`, lines 329-335, tells overriding classes to deserialize the dtype
themselves; Sequential does not. .keras loading calls the same from_config.

How the harness found it: `conform run --pairs atlas_batch_norm2d --checks serialization --dtype
float64` (the save/load round trip of the Keras side: the record's config comparison showed
"dtype: ... float64 -> ... float32" on the Sequential, outputs and weights identical).

Upstream: no report found. Related: keras-team/keras#19752 (merged: dtype serialization in
Operation, which added the from_config note above), keras-team/keras#19332 (closed: keras.Input
defaults to floatx whatever the dtype policy).

Run:  .venv/bin/python examples/findings/keras_sequential_dtype_reload.py   (about 5 s on 2 cores)
Exit status: 1 while the defect is present (a float64 Sequential comes back from from_config or
load_model with another dtype policy), 0 once it is fixed, 77 (with the reason) where Keras or
TensorFlow is not installed; 2 on an unexpected error.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77


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


def _policy_in_config(config) -> str:
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        return str(dtype.get("config", {}).get("name"))
    return str(dtype)


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

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((4, 3))
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        model = keras.Sequential([keras.Input((3,), dtype="float64"), keras.layers.Dense(2)])
        unbuilt = keras.Sequential([keras.layers.Dense(2, kernel_initializer="ones")])
        dense = keras.layers.Dense(2)
        dense.build((None, 3))
        inp = keras.Input((3,), dtype="float64")
        functional = keras.Model(inp, keras.layers.Dense(2)(inp))
    finally:
        keras.config.set_dtype_policy(previous)
    print(f"\nbuilt under set_dtype_policy('float64'), reloaded under the default policy ({previous.name}):")

    config = model.get_config()
    from_config = keras.Sequential.from_config(config)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)

    def describe(m) -> str:
        return (f"dtype_policy {m.dtype_policy.name:<8} config 'dtype' {_policy_in_config(m.get_config()):<8} "
                f"layers {[layer.dtype_policy.name for layer in m.layers]}")

    print(f"  original Sequential             {describe(model)}")
    print(f"  Sequential.from_config          {describe(from_config)}")
    print(f"  keras.saving.load_model(.keras) {describe(loaded)}")
    same_out = np.array_equal(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)))
    same_weights = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True))
    print(f"  outputs bit for bit: {same_out}; weights bit for bit: {same_weights}")
    dense_copy = keras.layers.Dense.from_config(dense.get_config())
    print(f"  Dense.from_config of a float64 Dense: dtype_policy {dense_copy.dtype_policy.name}")

    unbuilt_copy = keras.Sequential.from_config(unbuilt.get_config())
    first = keras.ops.convert_to_numpy(unbuilt(x))
    copy_first = keras.ops.convert_to_numpy(unbuilt_copy(x))
    copy_second = keras.ops.convert_to_numpy(unbuilt_copy(x))
    print(f"  consequence, a Sequential without an Input (unbuilt when reloaded): first call "
          f"{np.max(np.abs(copy_first - first)):.3g} off the original (input rounded to float32), "
          f"second call {np.max(np.abs(copy_second - first)):.3g}")
    print(f"  (a functional Model: config 'dtype' {_policy_in_config(functional.get_config())}, "
          f"Model.from_config gives {keras.Model.from_config(functional.get_config()).dtype_policy.name})")

    lost = [f"{name} -> {m.dtype_policy.name}" for name, m in (("from_config", from_config), ("load_model", loaded))
            if m.dtype_policy.name != model.dtype_policy.name]
    if lost:
        print(f"bug present: a {model.dtype_policy.name} Sequential loses its dtype policy on reload "
              f"({', '.join(lost)}; the config's 'dtype' is ignored)")
        return 1
    print(f"fixed: a {model.dtype_policy.name} Sequential keeps its dtype policy through from_config and load_model")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
