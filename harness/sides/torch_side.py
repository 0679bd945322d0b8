"""The torch edge: build a module under a dtype, expose its state to the bridge, run a VJP.

``graph`` mode runs the module through ``torch.compile`` (inductor) instead: one compiled
wrapper per module, dynamo's own shape generalisation, and a recompile limit raised and made
fatal, so that a pair never silently falls back to eager while its record says "compiled".
"""

from __future__ import annotations

import contextlib
import io
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from harness.bridge import Entry
from harness.frameworks import torch
from harness.sides import (
    POSITIONAL,
    Convention,
    Outcome,
    Reloaded,
    StageCall,
    differentiable,
    first_leaf,
    invoke,
    leaves,
    named_leaves,
    stage_layers,
)

__all__ = [
    "COMPILER", "CUDNN_EVAL_RNN", "build", "compilations", "cudnn_for", "entries", "floating", "graph_breaks", "load",
    "low_precision_ops", "observe", "reloaded", "run", "sgd", "state", "step", "undeclared",
]

COMPILER = "torch.compile(backend='inductor')"
_COMPILED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_CONVENTIONS: weakref.WeakKeyDictionary[Any, Convention] = weakref.WeakKeyDictionary()
# Every pair and dtype is a new graph of the same few code objects (nn.Linear.forward, say),
# so dynamo's default limit of 8 is reached within one run; past it dynamo runs eager.
_DYNAMO = {"recompile_limit": 256, "accumulated_recompile_limit": 65536, "fail_on_recompile_limit_hit": True}


def _compiled(obj: Any) -> Any:
    fn = _COMPILED.get(obj)
    if fn is None:
        fn = _COMPILED[obj] = torch().compile(obj)
    return fn


def forget_graphs() -> None:
    """Drop every compiled graph: a record builds its own modules, so no earlier record's graph can serve it.

    Dynamo keys its cache by code object (``nn.Linear.forward``, the module call wrapper): kept
    across records, every pair's graphs count towards one recompile limit, and a long run (the
    whole catalogue in one process) reaches it however high it is set.
    """
    torch()._dynamo.reset()
    _COMPILED.clear()


def compilations() -> int:
    """Graphs dynamo has compiled in this process so far (a per-record delta is reported)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def graph_breaks() -> dict[str, int]:
    """Dynamo's graph breaks in this process so far, by the first line of their reason (a per-record delta is
    reported): where a module ran eagerly inside ``torch.compile`` ("Attempted to wrap RNN, GRU, or LSTM")."""
    from torch._dynamo.utils import counters

    out: dict[str, int] = {}
    for reason, n in counters["graph_break"].items():
        lines = str(reason).strip().splitlines()
        first = lines[0][:200] if lines else "graph break"
        out[first] = out.get(first, 0) + int(n)
    return out


@contextlib.contextmanager
def _default_dtype(dtype: str) -> Iterator[None]:
    t = torch()
    previous = t.get_default_dtype()
    t.set_default_dtype(getattr(t, dtype))
    try:
        yield
    finally:
        t.set_default_dtype(previous)


@contextlib.contextmanager
def _flush_denormal() -> Iterator[None]:
    """TF's CPU kernels flush subnormals to zero: give torch the same floating-point mode.

    Without it a saturated softmax's 1e-40 in torch is an exact 0 in TF, and the difference
    is amplified downstream into a "divergence" of the float format, not of the layer. Scoped,
    because the mode is process state that numpy and hypothesis must not inherit.
    """
    t = torch()
    t.set_flush_denormal(True)
    try:
        yield
    finally:
        t.set_flush_denormal(False)


def build(factory: Any, params: Mapping[str, Any], dtype: str, device: str, seed: int,
          convention: Convention = POSITIONAL) -> Any:
    """Call the pair's torch factory with the default dtype set, then move it to dtype/device.

    Plain tensor attributes (not parameters, not buffers) are created under the default
    dtype too, so they match the parameters' precision. ``convention`` is how the layer takes
    its inputs (positionally, by keyword); every later call of it here follows it.
    """
    t = torch()
    t.manual_seed(seed)
    with _default_dtype(dtype):
        obj = factory(params)
    if isinstance(obj, t.nn.Module):
        obj = obj.to(device=device, dtype=getattr(t, dtype))
    _CONVENTIONS[obj] = convention
    return obj


def _call(obj: Any, fn: Any, xs: Sequence[Any], call_kwargs: Mapping[str, Any]) -> Any:
    """``fn`` (the module, or its compiled wrapper) on the inputs, the way the module takes them."""
    return invoke(fn, xs, call_kwargs, _CONVENTIONS.get(obj, POSITIONAL))


def entries(obj: Any) -> dict[str, Entry]:
    """Every ``state_dict`` entry: parameters are trainable, buffers are not."""
    t = torch()
    if not isinstance(obj, t.nn.Module):
        return {}
    trainable = {n for n, p in obj.named_parameters() if p.requires_grad}
    return {n: Entry(tuple(v.shape), n in trainable) for n, v in obj.state_dict(keep_vars=True).items()}


def floating(obj: Any) -> dict[str, bool]:
    """Every floating ``state_dict`` entry once, and whether it is trainable: what a converter reads of the module.

    A tied weight (one parameter under two names, ``lm_head.weight`` and ``embed_tokens.weight``)
    is listed once, under its first name, as ``named_parameters`` names it: it is one set of
    values to draw, to probe and to take a gradient for. Integer buffers (position ids) are no weights.
    """
    t = torch()
    if not isinstance(obj, t.nn.Module):
        return {}
    trainable = {id(p) for p in obj.parameters() if p.requires_grad}
    found: dict[str, bool] = {}
    seen: set[int] = set()
    for name, value in obj.state_dict(keep_vars=True).items():
        if value.is_floating_point() and id(value) not in seen:
            seen.add(id(value))
            found[name] = id(value) in trainable
    return found


def state(obj: Any) -> dict[str, np.ndarray]:
    """Every ``state_dict`` entry's current value (buffers after forward calls, say)."""
    t = torch()
    if not isinstance(obj, t.nn.Module):
        return {}
    return {n: _numpy(v) for n, v in obj.state_dict().items()}


def load(obj: Any, arrays: Mapping[str, np.ndarray]) -> None:
    if not arrays:
        return
    t = torch()
    state = obj.state_dict(keep_vars=True)
    with t.no_grad():
        for name, value in arrays.items():
            target = state[name]
            # np.require, not np.ascontiguousarray: that one makes a 0-d buffer (num_batches_tracked) 1-d
            target.copy_(t.from_numpy(np.require(value, requirements='C')).to(dtype=target.dtype))


def _inputs(inputs: Sequence[np.ndarray], device: str, want_grad: bool) -> list[Any]:
    """Tensors of the inputs; floating ones require a gradient when one is wanted (ids and masks never)."""
    t = torch()
    return [t.tensor(a, device=device, requires_grad=want_grad and differentiable(a)) for a in inputs]


def _compiling(mode: str) -> contextlib.AbstractContextManager[Any]:
    return torch()._dynamo.config.patch(_DYNAMO) if mode == "graph" else contextlib.nullcontext()


def _numpy(x: Any) -> np.ndarray:
    """A copy: ``.numpy()`` of a CPU tensor shares its memory, and buffers change in place."""
    return x.detach().cpu().numpy().copy()


@contextlib.contextmanager
def _capture(obj: Any, stages: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, Any, np.ndarray]]]:
    """Record (stage name, first input, first output) of every call of the given submodules.

    The output is copied to numpy inside the hook: a later in-place op (``out += residual``)
    would otherwise change what was recorded.
    """
    log: list[tuple[str, Any, np.ndarray]] = []
    handles = []
    for name, module in stage_layers(obj, stages):
        handles.append(module.register_forward_hook(
            lambda _m, args, out, name=name: log.append((name, first_leaf(args), _numpy(first_leaf(out))))))
    try:
        yield log
    finally:
        for handle in handles:
            handle.remove()


def undeclared(obj: Any, stages: Sequence[tuple[str, str]], limit: int = 30) -> list[str]:
    """The leaf submodules no declared stage contains, as ``path (Type)``: where else a divergence can be.

    Hooks see every submodule of a torch model, so when no declared stage diverges the record
    can still name the sublayers it did not compare (an embedding lookup, an activation module).
    """
    t = torch()
    if not isinstance(obj, t.nn.Module):
        return []
    covered = {id(m) for _, stage in stage_layers(obj, stages) for m in stage.modules()}
    found = [f"{name} ({type(m).__name__})" for name, m in obj.named_modules()
             if name and not any(True for _ in m.children()) and id(m) not in covered]
    return found[:limit] + ([f"... and {len(found) - limit} more"] if len(found) > limit else [])


CUDNN_EVAL_RNN = ("off: cuDNN's RNN backward runs only in training mode, so this eval-mode gradient of a recurrent "
                  "layer ran on PyTorch's own CUDA kernels (what a user's eval-mode gradient on a GPU meets too)")


def cudnn_for(obj: Any, device: str, mode: str, grad: bool) -> tuple[contextlib.AbstractContextManager[Any], str]:
    """cuDNN switched off, and why, for an eval-mode gradient of a module with a recurrent layer on a GPU; else nothing.

    cuDNN refuses the backward of its RNN kernels outside training mode ("cudnn RNN backward
    can only be called in training mode"). Training mode would change what dropout does, so
    the call runs with cuDNN off instead, and the record says so.
    """
    t = torch()
    recurrent = isinstance(obj, t.nn.Module) and any(isinstance(m, t.nn.RNNBase) for m in obj.modules())
    if device.startswith("cuda") and grad and mode != "train" and recurrent:
        return t.backends.cudnn.flags(enabled=False), CUDNN_EVAL_RNN
    return contextlib.nullcontext(), ""


def run(
    obj: Any,
    inputs: Sequence[np.ndarray],
    call_kwargs: Mapping[str, Any],
    cotangents: Callable[[list[np.ndarray]], list[np.ndarray]] | None,
    *,
    mode: str,
    device: str,
    stages: Sequence[tuple[str, str]] = (),
    drop: frozenset[str] = frozenset(),
) -> Outcome:
    """Forward, and with ``cotangents`` the VJP for the inputs and every parameter.

    ``cotangents`` makes the cotangent arrays from the forward outputs (it needs their
    shapes), so a stateful layer runs its forward exactly once per call. With ``stages``
    (name, submodule path), every call of those submodules is recorded: its output, and
    with cotangents the gradient at its first input. Outputs keyed in ``drop`` (no TF
    counterpart, declared by the pair) are left out before anything, the VJP included.
    """
    t = torch()
    want_grad = cotangents is not None
    xs = _inputs(inputs, device, want_grad)
    if isinstance(obj, t.nn.Module):
        obj.train(mode == "train")
        params = {n: p for n, p in obj.named_parameters() if p.requires_grad}  # a frozen one has no gradient
    else:
        params = {}
    fn = _compiled(obj) if mode == "graph" else obj
    cudnn, note = cudnn_for(obj, device, mode, want_grad)
    with _capture(obj, stages) as log, _flush_denormal(), t.set_grad_enabled(want_grad), _compiling(mode), cudnn:
        named = [(n, o) for n, o in named_leaves(_call(obj, fn, xs, call_kwargs)) if n not in drop]
    outs = [o for _, o in named]
    outcome = Outcome([_numpy(o) for o in outs], [n for n, _ in named], stages=[StageCall(n, o) for n, _, o in log],
                      execution={"cudnn": note} if note else {})
    if not want_grad:
        return outcome
    outcome.cotangents = cotangents(outcome.outputs)
    connected = [(o, c) for o, c in zip(outs, outcome.cotangents, strict=True) if o.requires_grad]
    stage_inputs = [x for _, x, _ in log]
    watched = [x for x in xs if x.requires_grad]  # ids and masks take no gradient
    targets = watched + list(params.values()) + [x for x in stage_inputs if x is not None and x.requires_grad]
    if connected:
        with _flush_denormal(), _compiling(mode), cudnn_for(obj, device, mode, want_grad)[0]:
            grads = t.autograd.grad(
                [o for o, _ in connected],
                targets,
                grad_outputs=[t.tensor(c, device=device, dtype=o.dtype) for o, c in connected],
                allow_unused=True,
            )
    else:
        grads = (None,) * len(targets)
    grads = [None if g is None else _numpy(g) for g in grads]
    n_in, n_params = len(watched), len(params)
    input_grads = iter(grads[:n_in])
    outcome.input_grads = [next(input_grads) if x.requires_grad else None for x in xs]
    outcome.param_grads = dict(zip(params, grads[n_in:n_in + n_params], strict=True))
    stage_grads = iter(grads[n_in + n_params:])
    for call, x in zip(outcome.stages, stage_inputs, strict=True):
        call.input_grad = next(stage_grads) if x is not None and x.requires_grad else None
    return outcome


def step(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
         cotangents: Sequence[np.ndarray] | None, compiled: bool, device: str) -> Callable[[], Any]:
    """One timed call, inputs already on ``device``: forward, or forward and VJP with ``cotangents``.

    Inference mode (``eval()``); forward runs without autograd as inference does, the VJP
    covers the inputs and every parameter, as the gradient check does. Results stay tensors.
    """
    t = torch()
    want_grad = cotangents is not None
    xs = _inputs(inputs, device, want_grad)
    if isinstance(obj, t.nn.Module):
        obj.eval()
    params = [p for p in obj.parameters() if p.requires_grad] if isinstance(obj, t.nn.Module) else []
    targets = [x for x in xs if x.requires_grad] + params
    cots = [t.tensor(c, device=device) for c in cotangents or ()]
    fn = _compiled(obj) if compiled else obj
    mode = "graph" if compiled else "eval"

    def forward() -> Any:
        with t.no_grad(), _compiling(mode):
            return _call(obj, fn, xs, call_kwargs)

    def vjp() -> Any:
        with _compiling(mode):
            outs = leaves(_call(obj, fn, xs, call_kwargs))
            connected = [(o, c) for o, c in zip(outs, cots, strict=True) if o.requires_grad]
            return t.autograd.grad([o for o, _ in connected], targets, grad_outputs=[c for _, c in connected],
                                   allow_unused=True)

    return vjp if want_grad else forward


def observe(obj: Any, path: str, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
            device: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """One training-mode forward; (input, output) of every call of the sublayer at ``path``.

    ``""`` is the layer itself. No gradient is taken: this feeds the dropout statistics.
    """
    t = torch()
    xs = [t.tensor(a, device=device) for a in inputs]
    obj.train(True)
    with t.no_grad(), _flush_denormal():
        if not path:
            return [(np.asarray(inputs[0]), _numpy(first_leaf(_call(obj, obj, xs, call_kwargs))))]
        with _capture(obj, [("observed", path)]) as log:
            _call(obj, obj, xs, call_kwargs)
    return [(_numpy(x), out) for _, x, out in log]


def reloaded(obj: Any, rebuild: Callable[[], Any], inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any],
             device: str) -> dict[str, Callable[[], Reloaded] | str]:
    """Serialisation round trips of the module, each a thunk giving the :class:`Reloaded` module.

    ``torch.save`` of the ``state_dict`` into a fresh module from the pair's factory, loaded
    with ``weights_only=True`` and ``strict=True``, as a user restores a checkpoint. The
    reloaded module runs the same eager kernels, so its outputs must be bit-identical. A
    value is a string where the round trip does not apply, saying why.
    """
    t = torch()
    label = "torch state_dict save/load"
    if not isinstance(obj, t.nn.Module):
        return {label: "not applicable: a plain function has no state_dict"}

    def state_dict() -> Reloaded:
        buffer = io.BytesIO()
        t.save(obj.state_dict(), buffer)
        buffer.seek(0)
        fresh = rebuild()
        _CONVENTIONS[fresh] = _CONVENTIONS.get(obj, POSITIONAL)
        fresh.load_state_dict(t.load(buffer, weights_only=True), strict=True)
        def outputs(xs: Sequence[np.ndarray]) -> list[tuple[str, np.ndarray]]:
            reloaded = run(fresh, xs, call_kwargs, None, mode="eval", device=device)
            return list(zip(reloaded.names, reloaded.outputs, strict=True))

        return Reloaded(outputs,
                        state(fresh), state(obj))

    return {label: state_dict}


def sgd(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], targets: Sequence[np.ndarray],
        loss: Callable[..., Any], lr: float, steps: int, device: str,
        drop: frozenset[str] = frozenset()) -> tuple[list[dict[str, np.ndarray]],
                                                                               list[float]]:
    """``steps`` plain SGD steps in training mode: the trainable parameters after each, and each loss.

    The loss is summed over the outputs, ``loss(output, target)`` each. Element 0 of the
    returned weights is the starting point.
    """
    t = torch()
    obj.train(True)
    params = {n: p for n, p in obj.named_parameters() if p.requires_grad}
    optimiser = t.optim.SGD(params.values(), lr=lr)
    xs = [t.tensor(a, device=device) for a in inputs]
    ys = [t.tensor(a, device=device) for a in targets]
    weights, losses = [{n: _numpy(p) for n, p in params.items()}], []
    with _flush_denormal():
        for _ in range(steps):
            optimiser.zero_grad()
            outs = [o for n, o in named_leaves(_call(obj, obj, xs, call_kwargs)) if n not in drop]
            value = sum(loss(o, y) for o, y in zip(outs, ys, strict=True))
            if value.requires_grad:  # a loss with no path to any parameter (all detached) updates nothing
                value.backward()
            optimiser.step()
            losses.append(float(value.detach()))
            weights.append({n: _numpy(p) for n, p in params.items()})
    return weights, losses


def low_precision_ops(obj: Any, inputs: Sequence[np.ndarray], call_kwargs: Mapping[str, Any], mode: str,
                      grad: bool, device: str) -> list[str]:
    """The aten operations that produce float32 (or lower) tensors in a float64 call (and its backward).

    Recorded by a ``TorchDispatchMode``, which sees every operation autograd and the module
    run, eager, below any Python code.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    t = torch()
    low = (t.float32, t.float16, t.bfloat16)
    found: set[str] = set()

    class _Log(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            result = func(*args, **(kwargs or {}))
            if any(isinstance(r, t.Tensor) and r.dtype in low for r in leaves(result)):
                found.add(str(func.overloadpacket))
            return result

    cotangents = (lambda outs: [np.zeros(o.shape) for o in outs]) if grad else None
    with _Log():
        run(obj, inputs, call_kwargs, cotangents, mode=mode, device=device)
    return sorted(found)
