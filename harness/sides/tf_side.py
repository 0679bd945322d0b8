"""The TensorFlow / Keras 3 edge: build under a dtype policy, resolve variables, run a VJP.

Variables are addressed by attribute path from the layer (``dense_layers.0.kernel``):
stable across runs, unlike Keras's auto-generated variable paths (``dense_17/kernel``),
which depend on how many layers the process created before.

``graph`` mode runs forward and VJP inside one ``tf.function`` per layer and kind, with XLA
(``jit_compile=True``) as Keras's ``fit`` does where it can. ``reduce_retracing`` lets a
layer called with a new batch size reuse a generalised trace (a layer whose Python needs
static shapes is traced per shape instead, and the record says so); traces are counted by
the Python body itself, which runs only while tracing.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from harness.bridge import Entry
from harness.frameworks import keras, tf
from harness.sides import (
    POSITIONAL,
    Convention,
    Outcome,
    Reloaded,
    StageCall,
    first_leaf,
    in_order,
    invoke,
    leaves,
    named_leaves,
    stage_layers,
    walk,
)

__all__ = [
    "attribute_paths", "build", "compiler", "entries", "forget_kernels", "graph_nodes", "load", "low_precision_ops",
    "observe", "reloaded", "resolve", "run", "sgd", "state", "step", "traces",
]

_XLA = "tf.function(jit_compile=True)"
_GRAPHS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_TRACES = [0]


def forget_kernels() -> None:
    """Drop TF's cached eager kernels: a record builds its own layers, so no earlier record's kernel serves it.

    Every Keras variable gets a process-unique name, and TF keeps the eager kernel of its
    ``VarHandleOp`` under that name for the life of the process: 35 KB per variable. Two
    records of one pair, repeated, grew a process by 4.0 MB each time; 0.2 MB with the cache
    cleared at each record (``keras.backend.clear_session`` clears it too, with Keras's
    global settings, which a user's pair file may have set).
    """
    from tensorflow.python.eager import context

    context.context().clear_kernel_cache()


def traces() -> int:
    """tf.function traces made by graph mode in this process (a per-record delta is reported)."""
    return _TRACES[0]


def compiler(obj: Any) -> str:
    """How graph mode last ran this layer: with XLA through one generalised trace, or what it fell back to and why."""
    graphs = _GRAPHS.get(obj, {})
    why = graphs.get("why", {})
    said = _XLA if graphs.get("jit", True) else f"tf.function (XLA could not compile this layer: {why.get('xla')})"
    if not graphs.get("relaxed", True):
        said += f", traced per input shape (the trace generalised over the shapes seen raised {why.get('shapes')})"
    return said


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


_CONVENTIONS: weakref.WeakKeyDictionary[Any, Convention] = weakref.WeakKeyDictionary()


def _call(obj: Any, xs: Sequence[Any], call_kwargs: Mapping[str, Any], mode: str) -> Any:
    convention = _CONVENTIONS.get(obj, POSITIONAL)
    if _is_layer(obj):
        return invoke(obj, xs, call_kwargs, convention, training=(mode == "train"))
    return invoke(obj, xs, call_kwargs, convention)


def build(
    factory: Any, params: Mapping[str, Any], dtype: str, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
    convention: Convention = POSITIONAL,
) -> Any:
    """Call the TF factory under ``dtype``'s policy and build the layer by calling it once.

    ``convention`` is how the layer takes its inputs (positionally, by keyword, as one dict);
    every later call of it here follows it.
    """
    with _dtype_policy(dtype):
        obj = factory(params)
        _CONVENTIONS[obj] = convention
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
    """Follow an attribute path (integers index lists, layer names a functional model).

    A variable's own Keras path (``transformer_layer_0/self_attention_layer/query/kernel``, as
    Keras prints it) is accepted too: it is what a user reads in a model summary.
    """
    try:
        node = walk(obj, path, "get_layer")
    except LookupError:
        node = next((v for v in _variables(obj) if _key(v) == path), None)
    if not isinstance(node, keras().Variable):
        return None
    return _key(node), Entry(tuple(node.shape), bool(node.trainable))


# Keras's own bookkeeping attributes: they hold the same layers and variables under other names.
_BOOKKEEPING = {"_tracker", "_layers", "_operations", "_inbound_nodes", "_outbound_nodes", "_trainable_variables",
                "_non_trainable_variables", "_seed_generators", "_metrics", "_loss_ids", "_functional",
                "_input_layers", "_output_layers", "_nodes_by_depth", "_operation_node_index", "optimizer"}


def _public(node: Any, name: str, value: Any) -> str:
    """``kernel`` for ``_kernel`` where a public property of that name gives the same object (Dense's kernel)."""
    if name.startswith("_") and isinstance(getattr(type(node), name[1:], None), property):
        try:
            if getattr(node, name[1:]) is value:
                return name[1:]
        except Exception:  # noqa: BLE001 - a property that cannot be read now is no alias
            pass
    return name


def attribute_paths(obj: Any, depth: int = 12) -> dict[str, str]:
    """The shortest attribute path of every variable, by variable key: what a weight map's ``Link`` is written in.

    Public attributes are preferred to private ones (keras_hub keeps sublayers in
    ``_self_attention_layer``; those are found when nothing public leads there).
    """
    k = keras()
    return {_key(node): path for path, node in _shortest_paths(obj, depth) if isinstance(node, k.Variable)}


def layer_paths(obj: Any, depth: int = 12) -> dict[int, str]:
    """The shortest attribute path of every sublayer, by ``id``: what a ``Stage`` and ``conform map`` name it by."""
    k = keras()
    return {id(node): path for path, node in _shortest_paths(obj, depth) if isinstance(node, k.layers.Layer) and path}


def _shortest_paths(obj: Any, depth: int) -> list[tuple[str, Any]]:
    """Every variable and layer reachable by attributes and list indices, each once, by its shortest path."""
    k = keras()
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    frontier: list[tuple[str, Any]] = [("", obj)]
    for _ in range(depth):
        following: list[tuple[str, Any]] = []
        for prefix, node in frontier:
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, k.Variable):
                found.append((prefix, node))
                continue
            if isinstance(node, (list, tuple)):
                children = [(str(i), v) for i, v in enumerate(node)]
            elif isinstance(node, k.layers.Layer):
                found.append((prefix, node))
                attrs = sorted(((_public(node, a, v), v) for a, v in vars(node).items() if a not in _BOOKKEEPING),
                               key=lambda kv: (kv[0].startswith("_"), kv[0]))
                # a Sequential's or functional model's layers sit in bookkeeping; ``layers`` lists them (last:
                # an attribute that names a sublayer is the better path to it)
                children = attrs + ([("layers", list(node.layers))] if isinstance(node, k.Model) else [])
            else:
                continue
            following += [(f"{prefix}.{name}" if prefix else name, child) for name, child in children
                          if isinstance(child, (k.Variable, k.layers.Layer, list, tuple))]
        frontier = following
    return found


def state(obj: Any) -> dict[str, np.ndarray]:
    """Every variable's current value, by key (non-trainable state after forward calls)."""
    return {_key(v): np.asarray(v.numpy()) for v in _variables(obj)}


def load(obj: Any, arrays: Mapping[str, np.ndarray]) -> None:
    by_key = {_key(v): v for v in _variables(obj)}
    for key, value in arrays.items():
        variable = by_key[key]
        variable.assign(value.astype(variable.dtype))


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
    order: Sequence[str] | None = None,
) -> Outcome:
    """Forward, and with cotangents the VJP for inputs and trainable variables.

    Inputs, outputs and cotangents here are already in TF layout; param gradients are keyed
    by variable key. The caller maps layouts back through the bridge. ``order``: the output
    keys wanted, in the torch side's order (see :func:`_vjp`).
    """
    t = tf()
    xs = [t.constant(a) for a in inputs]
    trainable = [v for v in _variables(obj) if v.trainable]
    if mode == "graph":
        return _run_graph(obj, xs, call_kwargs, cotangents, trainable, order)
    names, outs, grads, log = _vjp(obj, xs, call_kwargs, cotangents, trainable, mode, stages, order)
    outcome = Outcome([np.asarray(o) for o in outs], names,
                      stages=[StageCall(n, np.asarray(o)) for n, _, o in log])
    return _with_grads(outcome, grads, xs, trainable) if grads else outcome


def _vjp(obj: Any, xs: Sequence[Any], call_kwargs: Mapping[str, Any], cotangents: Sequence[Any] | None,
         trainable: Sequence[Any], mode: str = "eval", stages: Sequence[tuple[str, str]] = (),
         order: Sequence[str] | None = None) -> tuple[list[str], list[Any], list[Any], list[tuple[str, Any, Any]]]:
    """Output names and tensors, the VJP (with cotangents) and the stage log: the body eager and compiled runs share.

    ``order`` lists the output keys in the order the torch side returned their counterparts,
    so that cotangents and comparisons line up by key. The VJP covers the floating inputs, the
    trainable variables and each recorded stage's input; it is empty without cotangents or
    when their shapes differ from the outputs' (the comparison reports that;
    ``tape.gradient`` would broadcast some of them silently). Compiled, ``stages`` stays
    empty: a traced call records symbolic tensors.
    """
    t = tf()
    watched = [x for x in xs if x.dtype.is_floating]  # ids and masks take no gradient
    with _capture(obj, stages) as log, t.GradientTape() as tape:  # watches every variable read
        for x in watched:
            tape.watch(x)
        names, outs = in_order(named_leaves(_call(obj, xs, call_kwargs, mode)), order)
    if cotangents is None or len(cotangents) != len(outs) or not all(
            t.TensorShape(c.shape).is_compatible_with(o.shape) for c, o in zip(cotangents, outs, strict=True)):
        return names, outs, [], log  # no VJP against cotangents of another structure: the check reports it
    grads = tape.gradient(
        outs,
        [*watched, *trainable, *(x for _, x, _ in log)],
        output_gradients=[t.convert_to_tensor(c, dtype=o.dtype) for o, c in zip(outs, cotangents, strict=True)],
        unconnected_gradients=t.UnconnectedGradients.NONE,
    )
    return names, outs, [None if g is None else t.convert_to_tensor(g) for g in grads], log


def _graph_fn(obj: Any, kind: str, jit: bool, relaxed: bool, order: tuple[str, ...] | None) -> Callable[..., Any]:
    """The layer's tf.function for ``kind`` (forward or vjp), made once per layer, kind, compiler, tracing and
    output order.

    The output names are Python-level facts of the trace, kept beside the function.
    """
    graphs = _GRAPHS.setdefault(obj, {})
    key = (kind, jit, relaxed, order)
    if key not in graphs:
        def body(xs: list[Any], cotangents: list[Any] | None, **kwargs: Any) -> Any:
            _TRACES[0] += 1  # Python runs only while tracing
            # the variables are captured, not passed: the layer reads its own, and so must the tape
            names, outs, grads, _ = _vjp(obj, xs, kwargs, cotangents, [v for v in _variables(obj) if v.trainable],
                                         order=order)
            graphs[("names", order)] = names
            return outs, grads

        graphs[key] = tf().function(body, jit_compile=jit, reduce_retracing=relaxed)
    return graphs[key]


def _said(exc: BaseException) -> str:
    """An error in one line. A traced function's message is a traceback of the user code, and a Keras layer's
    wraps its own message in bold (``Exception encountered when calling ...``): the line said is the one inside."""
    text = str(exc)
    bold = re.search(r"\x1b\[1m(.*?)\x1b\[0m", text, re.S)
    lines = [line.strip() for line in (bold.group(1) if bold else text).splitlines() if line.strip()]
    if lines and lines[0].startswith("in user code"):
        lines = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)] or lines[-1:]
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


def _compiled_call(obj: Any, xs: list[Any], call_kwargs: Mapping[str, Any], cots: list[Any] | None,
                   order: Sequence[str] | None = None) -> tuple[Any, Any]:
    """Forward (and VJP) compiled: with XLA, through one trace generalised over the shapes it has seen.

    Each way back is taken only where the one before raised, and is recorded (:func:`compiler`):
    a trace generalised over the shapes seen (a dim left unknown) that raises where the exact
    ones did not is a layer whose Python needs static shapes (an RNN that unrolls its time
    axis, a resize that branches on a size): it is traced once per input shape from then on,
    as under a ``tf.function`` whose ``input_signature`` is fully defined. A first trace that
    XLA refuses runs in plain ``tf.function``. The error of the last way is the record's.
    """
    kind = "forward" if cots is None else "vjp"
    graphs = _GRAPHS.setdefault(obj, {})
    order = None if order is None else tuple(order)
    jit, relaxed = graphs.get("jit", True), graphs.get("relaxed", True)
    why = graphs.setdefault("why", {})
    while True:
        fn = _graph_fn(obj, kind, jit, relaxed, order)
        traced = fn.experimental_get_tracing_count()
        try:
            result = fn(xs, cots, **call_kwargs)
        except Exception as exc:  # noqa: BLE001 - a refused way is a finding; the next must still run
            if relaxed and traced:
                relaxed, why["shapes"] = False, _said(exc)
            elif jit:
                jit, why["xla"] = False, _said(exc)
            else:
                raise
            continue
        graphs.update(jit=jit, relaxed=relaxed)
        return result


def _run_graph(obj: Any, xs: list[Any], call_kwargs: Mapping[str, Any], cotangents: Sequence[np.ndarray] | None,
               trainable: list[Any], order: Sequence[str] | None) -> Outcome:
    t = tf()
    cots = None if cotangents is None else [t.constant(c) for c in cotangents]
    outs, grads = _compiled_call(obj, xs, call_kwargs, cots, order)
    names = _GRAPHS[obj].get(("names", None if order is None else tuple(order)), [])
    outcome = Outcome([np.asarray(o) for o in outs], list(names))
    return _with_grads(outcome, grads, xs, trainable) if grads else outcome


def step(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
         cotangents: Sequence[np.ndarray] | None, compiled: bool) -> Callable[[], Any]:
    """One timed call, inputs already on the device: forward, or forward and VJP with ``cotangents``.

    The results stay tensors (no copy to numpy inside the clock). Eager forward calls the
    layer without a tape, as inference does; compiled runs the graph-mode tf.function.
    """
    t = tf()
    xs = [t.constant(a) for a in inputs]
    cots = None if cotangents is None else [t.constant(c) for c in cotangents]
    if compiled:
        return lambda: _compiled_call(obj, xs, call_kwargs, cots)
    if cots is None:
        return lambda: _call(obj, xs, call_kwargs, "eval")
    trainable = [v for v in _variables(obj) if v.trainable]
    return lambda: _vjp(obj, xs, call_kwargs, cots, trainable)[1:3]


def _with_grads(outcome: Outcome, grads: Sequence[Any], xs: Sequence[Any], trainable: Sequence[Any]) -> Outcome:
    """Split a VJP's gradients into inputs (None for ids and masks), trainable variables and stage inputs."""
    grads = [None if g is None else np.asarray(g) for g in grads]
    n_vars, n_in = len(trainable), sum(x.dtype.is_floating for x in xs)
    input_grads = iter(grads[:n_in])
    outcome.input_grads = [next(input_grads) if x.dtype.is_floating else None for x in xs]
    outcome.param_grads = {_key(v): g for v, g in zip(trainable, grads[n_in:n_in + n_vars], strict=True)}
    for call, g in zip(outcome.stages, grads[n_in + n_vars:], strict=True):
        call.input_grad = g
    return outcome


def observe(obj: Any, path: str, inputs: Sequence[np.ndarray],
            call_kwargs: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One training-mode forward; (input, output) of every call of the sublayer at ``path``.

    ``""`` is the layer itself. No gradient is taken: this feeds the dropout statistics.
    """
    xs = [tf().constant(a) for a in inputs]
    if not path:
        return [(np.asarray(inputs[0]), np.asarray(first_leaf(_call(obj, xs, call_kwargs, "train"))))]
    with _capture(obj, [("observed", path)]) as log:
        _call(obj, xs, call_kwargs, "train")
    return [(np.asarray(x), np.asarray(out)) for _, x, out in log]


def _numpy_runner(fn: Callable[[list[Any]], Any]) -> Callable[[Sequence[np.ndarray]], list[tuple[str, np.ndarray]]]:
    return lambda arrays: [(n, np.asarray(o)) for n, o in named_leaves(fn([tf().constant(a) for a in arrays]))]


def _functional(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any]) -> Any:
    """The layer inside a functional model (batch dimension free): what ``.keras`` and export save."""
    k = keras()
    symbolic = [k.Input(shape=x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    return k.Model(symbolic, invoke(obj, symbolic, call_kwargs, _CONVENTIONS.get(obj, POSITIONAL)))


def _by_path(variables: Sequence[Any]) -> dict[str, np.ndarray]:
    """Variables by path; a SavedModel's restored ones are named ``path:0``."""
    return {getattr(v, "path", None) or v.name.rsplit(":", 1)[0]: np.asarray(v.numpy()) for v in variables}


def _aligned(reloaded: Sequence[Any], original: Sequence[Any]) -> dict[str, np.ndarray]:
    """A rebuilt layer's variables under the original's paths, matched in order.

    A rebuilt nested layer gets new auto-generated names (``dense_52`` becomes ``dense_53``),
    so paths cannot match; Keras creates a class's variables in the same order every time.
    Counts that differ are left to show as lost and new variables.
    """
    if len(reloaded) != len(original):
        return _by_path(reloaded)
    return {path: np.asarray(v.numpy()) for path, v in zip(_by_path(original), reloaded, strict=True)}


def reloaded(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
             directory: str) -> dict[str, Callable[[], Reloaded] | str]:
    """Serialisation round trips of the layer, each a thunk giving the :class:`Reloaded` layer.

    * ``get_config``/``from_config`` into a fresh layer, weights copied with ``set_weights``;
    * a ``.keras`` file of the layer in a functional model, loaded with ``load_model`` and no
      ``custom_objects`` (the classes must be registered, as a user's loader needs them);
    * ``tf.saved_model`` written by ``Model.export`` and loaded with ``tf.saved_model.load``:
      a graph that TensorFlow rewrites on load (Grappler folds ``x / sqrt(v)`` into
      ``x * rsqrt(v)``, reorders adds), so its outputs are ``rewritten``.
    A value is a string where the round trip does not apply, saying why.
    """
    labels = ("keras get_config/from_config", "keras .keras save/load", "tf.saved_model export/load")
    if not _is_layer(obj):
        return dict.fromkeys(labels, "not applicable: a plain function has no config or weights")
    k, t = keras(), tf()

    def config() -> Reloaded:
        fresh = type(obj).from_config(obj.get_config())
        _CONVENTIONS[fresh] = _CONVENTIONS.get(obj, POSITIONAL)
        _call(fresh, [t.constant(x) for x in inputs], call_kwargs, "eval")
        fresh.set_weights(obj.get_weights())
        return Reloaded(_numpy_runner(lambda xs: _call(fresh, xs, call_kwargs, "eval")),
                        _aligned(fresh.weights, obj.weights), _by_path(obj.weights),
                        (obj.get_config(), fresh.get_config()))

    try:
        model = _functional(obj, inputs, call_kwargs)
    except Exception as exc:  # noqa: BLE001 - a layer that cannot be traced symbolically has no file format here
        reason = f"not applicable: the layer cannot be called on symbolic keras.Input ({type(exc).__name__}: {exc})"
        return {labels[0]: config, labels[1]: reason, labels[2]: reason}

    def keras_file() -> Reloaded:
        path = f"{directory}/layer.keras"
        model.save(path)
        loaded = k.saving.load_model(path)
        return Reloaded(_numpy_runner(lambda xs: loaded(xs, training=False)), _aligned(loaded.weights, model.weights),
                        _by_path(model.weights), (obj.get_config(), loaded.get_layer(obj.name).get_config()))

    def saved_model() -> Reloaded:
        path = f"{directory}/saved_model"
        model.export(path, format="tf_saved_model", verbose=False)
        restored = t.saved_model.load(path)
        # every tracked variable, a dropout's seed state included: the export saves all of them
        return Reloaded(_numpy_runner(lambda xs: restored.serve(xs)), _by_path(restored.variables),
                        _by_path(model.variables), rewritten=True)

    return {labels[0]: config, labels[1]: keras_file, labels[2]: saved_model}


def sgd(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], targets: Sequence[np.ndarray],
        loss: Callable[..., Any], lr: float, steps: int,
        order: Sequence[str] | None = None) -> tuple[list[dict[str, np.ndarray]], list[float]]:
    """``steps`` steps of ``keras.optimizers.SGD`` in training mode: trainable variables after each, and each loss.

    The loss is summed over the outputs, ``loss(output, target)`` each. Element 0 of the
    returned weights is the starting point; variables are keyed as everywhere on this side.
    """
    t = tf()
    trainable = [v for v in _variables(obj) if v.trainable]
    optimiser = keras().optimizers.SGD(learning_rate=lr)
    xs = [t.constant(a) for a in inputs]
    ys = [t.constant(a) for a in targets]
    weights, losses = [{_key(v): np.asarray(v.numpy()) for v in trainable}], []
    for _ in range(steps):
        with t.GradientTape() as tape:
            _, outs = in_order(named_leaves(_call(obj, xs, call_kwargs, "train")), order)
            value = t.add_n([loss(o, y) for o, y in zip(outs, ys, strict=True)])
        grads = tape.gradient(value, trainable)
        optimiser.apply_gradients([(g, v) for g, v in zip(grads, trainable, strict=True) if g is not None])
        losses.append(float(value))
        weights.append({_key(v): np.asarray(v.numpy()) for v in trainable})
    return weights, losses


def _traced(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], mode: str,
            grad: bool) -> list[Any]:
    """Every node of the layer's call (and VJP) traced once with ``tf.function`` (no XLA), its functions' included."""
    t = tf()
    trainable = [v for v in _variables(obj) if v.trainable]

    def body(xs: list[Any], cots: list[Any] | None) -> Any:
        _, outs, grads, _ = _vjp(obj, xs, call_kwargs, cots, trainable, mode)
        return outs, grads

    xs = [t.constant(a) for a in inputs]
    cots = None
    if grad:
        outs = leaves(_call(obj, xs, call_kwargs, mode))
        cots = [t.zeros(tuple(o.shape), dtype=o.dtype) for o in outs]
    graph = t.function(body).get_concrete_function(xs, cots).graph.as_graph_def()
    return list(graph.node) + [n for f in graph.library.function for n in f.node_def]


def graph_nodes(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], mode: str,
                grad: bool) -> list[str]:
    """The op types and node names (with their name scopes: ``Gelu/mul``) of the layer's traced call."""
    return sorted({x for n in _traced(obj, inputs, call_kwargs, mode, grad) for x in (n.op, n.name)})


def low_precision_ops(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], mode: str,
                      grad: bool) -> list[str]:
    """The graph operations that hold float32 (or lower) values in a float64 call (and its VJP).

    The layer is traced once with ``tf.function`` (no XLA) and every node of the graph and of
    its function library is read: an attribute typed float32, float16 or bfloat16 (a
    ``Const``, a ``Cast``'s destination, a ``T``) marks the operation, and so does a float
    attribute, which a graph always stores in 32 bits (``LeakyRelu``'s ``alpha``). Eager TF
    has no hook for this; the traced graph runs the same operations.
    """
    from tensorflow.core.framework import types_pb2

    low = {types_pb2.DT_FLOAT, types_pb2.DT_HALF, types_pb2.DT_BFLOAT16}
    nodes = _traced(obj, inputs, call_kwargs, mode, grad)
    found = {n.op for n in nodes for v in n.attr.values() if v.type in low or any(x in low for x in v.list.type)}
    # a float attribute is a 32-bit float whatever the op's dtype (LeakyRelu's alpha: 0.01 is 0.00999999977)
    found |= {f"{n.op}.{k} (float32 attribute {v.f!r})" for n in nodes for k, v in n.attr.items() if v.HasField("f")}
    return sorted(found)
