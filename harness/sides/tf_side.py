"""The TensorFlow / Keras 3 edge: build under a dtype policy, resolve variables, run a VJP.

Variables are addressed by attribute path from the layer (``dense_layers.0.kernel``):
stable across runs, unlike Keras's auto-generated variable paths (``dense_17/kernel``),
which depend on how many layers the process created before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from harness.bridge import Entry
from harness.frameworks import keras, tf
from harness.sides import Outcome, StageCall, first_leaf, stage_layers, walk

__all__ = ["build", "entries", "load", "resolve", "run", "state"]


@contextlib.contextmanager
def _dtype_policy(dtype: str) -> Iterator[None]:
    k = keras()
    previous = k.config.dtype_policy()
    k.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        k.config.set_dtype_policy(previous)


def _is_layer(obj: Any) -> bool:
    return isinstance(obj, keras().layers.Layer)


def _call(obj: Any, xs: Sequence[Any], call_kwargs: Mapping[str, Any], mode: str) -> Any:
    if _is_layer(obj):
        return obj(*xs, **call_kwargs, training=(mode == "train"))
    return obj(*xs, **call_kwargs)


def build(
    factory: Any, params: Mapping[str, Any], dtype: str, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any]
) -> Any:
    """Call the TF factory under ``dtype``'s policy and build the layer by calling it once."""
    with _dtype_policy(dtype):
        obj = factory(params)
        if _is_layer(obj) and not obj.built:
            _call(obj, [tf().constant(a) for a in inputs], call_kwargs, "eval")
    return obj


def _variables(obj: Any) -> list[Any]:
    return list(obj.weights) if _is_layer(obj) else []


def entries(obj: Any) -> dict[str, Entry]:
    """Every variable of the layer, keyed by its Keras path (unique within the layer)."""
    return {_key(v): Entry(tuple(v.shape), bool(v.trainable)) for v in _variables(obj)}


def _key(variable: Any) -> str:
    return variable.path


def resolve(obj: Any, path: str) -> tuple[str, Entry] | None:
    """Follow an attribute path (integers index lists, layer names a functional model)."""
    try:
        node = walk(obj, path, "get_layer")
    except LookupError:
        return None
    if not isinstance(node, keras().Variable):
        return None
    return _key(node), Entry(tuple(node.shape), bool(node.trainable))


def state(obj: Any) -> dict[str, np.ndarray]:
    """Every variable's current value, by key (non-trainable state after forward calls)."""
    return {_key(v): np.asarray(v.numpy()) for v in _variables(obj)}


def load(obj: Any, arrays: Mapping[str, np.ndarray]) -> None:
    by_key = {_key(v): v for v in _variables(obj)}
    for key, value in arrays.items():
        variable = by_key[key]
        variable.assign(value.astype(variable.dtype))


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


@contextlib.contextmanager
def _capture(obj: Any, stages: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, Any, Any]]]:
    """Record (stage name, first input, first output) of every call of the given sublayers.

    Keras 3 has no forward hooks: the sublayer's ``call`` is wrapped on the instance for the
    duration and the class method restored after.
    """
    log: list[tuple[str, Any, Any]] = []
    layers = stage_layers(obj, stages, "get_layer")
    shadowed = {id(layer): layer.__dict__["call"] for _, layer in layers if "call" in layer.__dict__}
    for name, layer in layers:
        original = layer.call

        def recorded(*args: Any, _name: str = name, _call: Any = original, **kwargs: Any) -> Any:
            out = _call(*args, **kwargs)
            log.append((_name, first_leaf(args), first_leaf(out)))
            return out

        layer.call = recorded
    try:
        yield log
    finally:
        for _, layer in layers:
            if id(layer) in shadowed:  # the instance had its own ``call`` already: put it back
                layer.call = shadowed[id(layer)]
            else:
                del layer.call


def run(
    obj: Any,
    inputs: Sequence[np.ndarray],
    call_kwargs: Mapping[str, Any],
    cotangents: Sequence[np.ndarray] | None,
    *,
    mode: str,
    stages: Sequence[tuple[str, str]] = (),
) -> Outcome:
    """Forward, and with cotangents the VJP for inputs and trainable variables.

    Inputs, outputs and cotangents here are already in TF layout; param gradients are keyed
    by variable key. The caller maps layouts back through the bridge.
    """
    t = tf()
    xs = [t.constant(a) for a in inputs]
    trainable = [v for v in _variables(obj) if v.trainable]
    with _capture(obj, stages) as log, t.GradientTape() as tape:  # watches every variable read
        for x in xs:
            tape.watch(x)
        outs = _flatten(_call(obj, xs, call_kwargs, mode))
    outcome = Outcome([np.asarray(o) for o in outs], stages=[StageCall(n, np.asarray(o)) for n, _, o in log])
    if cotangents is None or len(cotangents) != len(outs):
        return outcome  # no VJP; a differing output count is reported by the comparison
    stage_inputs = [x for _, x, _ in log]
    grads = tape.gradient(
        outs,
        xs + trainable + stage_inputs,
        output_gradients=[t.constant(c, dtype=o.dtype) for o, c in zip(outs, cotangents, strict=True)],
        unconnected_gradients=t.UnconnectedGradients.NONE,
    )
    grads = [None if g is None else np.asarray(t.convert_to_tensor(g)) for g in grads]
    n_in, n_vars = len(xs), len(trainable)
    outcome.input_grads = grads[:n_in]
    outcome.param_grads = {_key(v): g for v, g in zip(trainable, grads[n_in:n_in + n_vars], strict=True)}
    for call, g in zip(outcome.stages, grads[n_in + n_vars:], strict=True):
        call.input_grad = g
    return outcome
