"""One case through both frameworks: build, fill identical weights, run, compare.

This is the module that drives both sides for the value checks (forward, gradient, state)
and builds the twins every other check starts from. Everything a case needs is drawn from
one numpy generator seeded by the case, in a fixed order (weights, then each call's inputs,
then the cotangent), so a case replays bit for bit -- including the replay that localises a
divergence to a sublayer.

In ``graph`` mode each side runs compiled *and* eager on the same inputs, weights and
cotangent (state is restored in between): the compiled results are compared across
frameworks and each against its own eager result. Built twins are reused across examples
whose factories read the same params, so a new batch size does not cost a new trace.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness import bridge, devices
from harness.cases import Case, fill, weight_values
from harness.compare import Policy, TensorMetrics, compare, magnitude, policy_for
from harness.sides import Outcome, SideError, StageCall
from harness.spec import STATE_CALLS, LayerPair, Link, SpecError

__all__ = [
    "TORCH_ONLY_CHECKS", "Evaluation", "draw_inputs", "evaluate", "flag", "layout_of", "prepare", "run_both",
    "side_call", "tf_gradients",
]


# What a GPU run still checks where TF has no GPU: torch's GPU kernels against its CPU ones.
TORCH_ONLY_CHECKS = ("forward", "gradient")


@dataclass
class Evaluation:
    """What one case showed: per-tensor metrics and, when asked, the per-stage localisation.

    ``execution`` names what ran where that is not obvious (the compilers of graph mode);
    ``trajectory`` is a training check's divergence per step.
    """

    metrics: list[TensorMetrics]
    localisation: dict[str, Any] | None = None
    execution: dict[str, Any] = field(default_factory=dict)
    trajectory: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.metrics)


@dataclass
class _Twins:
    pair: LayerPair
    th: Any
    tf: Any
    slots: list[bridge.Slot]
    rng: np.random.Generator
    kwargs: dict[str, Any] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)


def flag(name: str, ok: bool, note: str) -> TensorMetrics:
    """A metric that is a yes/no finding (the weight map fits, an output count matches)."""
    bad = float("inf")
    return TensorMetrics(name, (), ok, 0.0 if ok else bad, 0.0 if ok else bad, 0 if ok else 1, 0 if ok else 1,
                         (), None, None, 0.0 if ok else bad, note)


def layout_of(layout: str, rank: int) -> bridge.Transform:
    return bridge.channels_last(rank) if layout == "channels_first" else bridge.IDENTITY


def side_call(framework: str, stage: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except bridge.WeightMapError:
        raise
    except Exception as exc:  # noqa: BLE001 - any framework failure becomes an error record
        raise SideError(framework, stage, exc) from exc


def draw_inputs(pair: LayerPair, case: Case, rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    special = list(pair.special_values(case.params)) if pair.special_values else []
    arrays = []
    for spec in pair.inputs:
        regime = case.regime if spec.regimes is None or case.regime in spec.regimes else "normal"
        arrays.append(fill(regime, spec.concrete_shape(case.params), rng, special).astype(dtype))
    return arrays


def _value(init: str, torch_value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if init == "keep":
        return torch_value
    if init == "positive":  # variances: away from 0, where an epsilon would dominate
        return 0.5 + 1.5 * rng.random(torch_value.shape)
    return weight_values(torch_value.shape, rng)


class _Reads(Mapping[str, Any]):
    """The drawn params, remembering which ones a factory reads (its layer's structure)."""

    def __init__(self, params: Mapping[str, Any]):
        self._params = params
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._params[key]

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._params)
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)


class _Built:
    """Twins built in graph mode, keyed by what their factories read, for the current check.

    Reuse is what keeps compiled runs from tracing once per example: an example that differs
    from an earlier one only in dims the factories do not read (the batch, a spatial size)
    reuses the layers, hence the tf.function and the dynamo graph. Weights are reloaded
    every example. Bounded, and emptied at the start of every check.
    """

    LIMIT = 16

    def __init__(self) -> None:
        self.twins: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self.reads: dict[str, set[str]] = {}
        self.built = 0

    def reset(self) -> None:
        self.twins.clear()
        self.reads.clear()
        self.built = 0

    def key(self, pair: LayerPair, case: Case, dtype: str, device: str) -> tuple[Any, ...] | None:
        read = self.reads.get(pair.name)
        if read is None:
            return None
        return (pair.name, dtype, device, json.dumps({k: case.params[k] for k in sorted(read)}, default=repr))


BUILT = _Built()


def _build(target: Any, case: Case, dtype: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    from harness.sides import tf_side, torch_side  # frameworks load on first evaluation only

    pair = target.pair
    reuse = target.mode == "graph"
    key = BUILT.key(pair, case, dtype, target.device) if reuse else None
    if key is not None and key in BUILT.twins:
        BUILT.twins.move_to_end(key)
        return BUILT.twins[key]
    probe = draw_inputs(pair, case, np.random.default_rng(case.seed), dtype)  # shapes to build TF with
    tf_probe = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, probe, strict=True)]
    params = _Reads(case.params)
    th = side_call("torch", "construction",
                   lambda: torch_side.build(pair.torch, params, dtype, target.device, case.seed))
    tf = side_call("tf", "construction", lambda: tf_side.build(pair.tf, params, dtype, tf_probe, kwargs))
    if reuse:
        BUILT.built += 1
        BUILT.reads[pair.name] = params.read | set(pair.call_args)
        BUILT.twins[BUILT.key(pair, case, dtype, target.device)] = (th, tf)
        while len(BUILT.twins) > BUILT.LIMIT:
            BUILT.twins.popitem(last=False)
    return th, tf


def prepare(target: Any, case: Case, dtype: str, values: Mapping[str, np.ndarray] | None = None) -> _Twins:
    """Build both layers, validate the map, draw every mapped entry (or take ``values``) and load it into both."""
    from harness.sides import tf_side, torch_side

    pair = target.pair
    rng = np.random.default_rng(case.seed)
    kwargs = {name: case.params[name] for name in pair.call_args}
    th, tf = _build(target, case, dtype, kwargs)
    slots = bridge.plan(pair.name, pair.weights, torch_side.entries(th),
                        lambda path: tf_side.resolve(tf, path), tf_side.entries(tf))
    current = torch_side.state(th)
    drawn = {s.canonical: _value(s.init, current[s.canonical], rng).astype(current[s.canonical].dtype) for s in slots}
    values = drawn if values is None else dict(values)  # drawn either way: the inputs come next from rng
    torch_side.load(th, values)
    tf_side.load(tf, bridge.to_tf(values, slots))
    return _Twins(pair, th, tf, slots, rng, kwargs, values)


@dataclass
class _Run:
    """One call on both sides; in graph mode also each side's eager reference and its state after."""

    th: Outcome
    tf: Outcome
    inputs: list[np.ndarray]
    th_eager: Outcome | None = None
    tf_eager: Outcome | None = None
    th_eager_state: dict[str, np.ndarray] | None = None
    tf_eager_state: dict[str, np.ndarray] | None = None


def _restoring(state: Callable[[Any], dict[str, np.ndarray]], load: Callable[[Any, Any], None], obj: Any,
               run: Callable[[], Outcome]) -> tuple[Outcome, dict[str, np.ndarray]]:
    """Run, note the state it leaves, and put the state back as it was before."""
    before = state(obj)
    outcome = run()
    after = state(obj)
    load(obj, before)
    return outcome, after


def run_both(target: Any, tw: _Twins, dtype: str, case: Case, grad: bool, capture: bool = False, *,
             inputs: list[np.ndarray] | None = None, cotangents: list[np.ndarray] | None = None) -> _Run:
    """One call on both sides with fresh inputs; with ``grad``, the VJP with one cotangent.

    ``inputs`` and ``cotangents`` replay given ones instead of drawing (a snapshot's).
    """
    from harness.sides import tf_side, torch_side

    pair = tw.pair
    inputs = draw_inputs(pair, case, tw.rng, dtype) if inputs is None else inputs
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    th_stages = [(s.name, s.torch) for s in pair.stages] if capture else []
    tf_stages = [(s.name, s.tf) for s in pair.stages] if capture else []
    stage = "gradient" if grad else "forward"
    drawn: list[np.ndarray] = list(cotangents or [])

    def cotangent(outputs: list[np.ndarray]) -> list[np.ndarray]:
        if not drawn:  # once per call: a graph-mode eager reference gets the same cotangent
            drawn.extend(tw.rng.standard_normal(o.shape).astype(dtype) for o in outputs)
        return drawn

    def torch_run(mode: str) -> Outcome:
        return side_call("torch", stage, lambda: torch_side.run(tw.th, inputs, tw.kwargs, cotangent if grad else None,
                                                            mode=mode, device=target.device, stages=th_stages))

    def tf_run(mode: str, th: Outcome) -> Outcome:
        tf_cot = [layout_of(pair.output_layout, c.ndim).forward(c) for c in th.cotangents] if grad else None
        return side_call("tf", stage, lambda: tf_side.run(tw.tf, tf_inputs, tw.kwargs, tf_cot, mode=mode,
                                                      stages=tf_stages))

    if target.mode != "graph":
        th = torch_run(target.mode)
        return _Run(th, tf_run(target.mode, th), inputs)
    th_eager, th_state = _restoring(torch_side.state, torch_side.load, tw.th, lambda: torch_run("eval"))
    tf_eager, tf_state = _restoring(tf_side.state, tf_side.load, tw.tf, lambda: tf_run("eval", th_eager))
    th = torch_run("graph")
    return _Run(th, tf_run("graph", th), inputs, th_eager, tf_eager, th_state, tf_state)


def _output_metrics(pair: LayerPair, th: Outcome, tf_: Outcome, policy: Policy, suffix: str) -> list[TensorMetrics]:
    if len(th.outputs) != len(tf_.outputs):
        return [flag(f"outputs{suffix}", False, f"torch returned {len(th.outputs)} outputs, tf {len(tf_.outputs)}")]
    names = ["output"] if len(th.outputs) == 1 else [f"output[{i}]" for i in range(len(th.outputs))]
    scale = magnitude(*th.outputs, *tf_.outputs)
    return [compare(n + suffix, a, layout_of(pair.output_layout, b.ndim).inverse(b), policy, group_scale=scale)
            for n, a, b in zip(names, th.outputs, tf_.outputs, strict=True)]


def tf_gradients(pair: LayerPair, slots: list[bridge.Slot],
                 tf_: Outcome) -> tuple[list[np.ndarray | None], dict[str, np.ndarray]]:
    """TF's input and parameter gradients in torch's layouts and canonical names."""
    inputs = [None if g is None else layout_of(spec.layout, g.ndim).inverse(g)
              for spec, g in zip(pair.inputs, tf_.input_grads, strict=True)]
    return inputs, bridge.from_tf({k: v for k, v in tf_.param_grads.items() if v is not None}, slots)


def _gradient_metrics(pair: LayerPair, slots: list[bridge.Slot], th: Outcome, tf_: Outcome,
                      policy: Policy) -> list[TensorMetrics]:
    tf_input_grads, tf_param_grads = tf_gradients(pair, slots, tf_)
    pairs = [(f"grad {s.name}", a, b) for s, a, b in zip(pair.inputs, th.input_grads, tf_input_grads, strict=True)]
    pairs += [(f"grad {s.canonical}", th.param_grads.get(s.canonical), tf_param_grads.get(s.canonical))
              for s in slots if s.trainable]
    metrics = []
    scale = magnitude(*(x for _, a, b in pairs for x in (a, b)))
    for name, a, b in pairs:
        if a is None and b is None:
            continue  # no gradient path on either side: nothing to compare
        note = ""
        if a is None or b is None:
            side = "torch" if a is None else "tf"
            note = f"{side} reports no gradient path to this tensor (detached or unused); compared as zeros"
            a = np.zeros_like(b) if a is None else a
            b = np.zeros_like(a) if b is None else b
        metrics.append(compare(name, a, b, policy, note, group_scale=scale))
    return metrics


def _state_metrics(tw: _Twins, policy: Policy, suffix: str) -> list[TensorMetrics]:
    """Buffers and other non-trainable state after a call (running statistics, say)."""
    from harness.sides import tf_side, torch_side

    stateful = [s for s in tw.slots if not s.trainable]
    th, tf_ = torch_side.state(tw.th), bridge.from_tf(tf_side.state(tw.tf), stateful)
    return [compare(f"state {s.canonical}{suffix}", th[s.canonical], tf_[s.canonical], policy) for s in stateful]


def _self_metrics(label: str, compiled: Outcome, eager: Outcome, policy: Policy, grad: bool) -> list[TensorMetrics]:
    """One framework compiled against itself eager: outputs, or every gradient of the VJP."""
    if grad:
        named = [(f"grad input {i}", a, b) for i, (a, b) in
                 enumerate(zip(compiled.input_grads, eager.input_grads, strict=False))]
        named += [(f"grad {k}", compiled.param_grads.get(k), v) for k, v in eager.param_grads.items()]
    else:
        named = [(f"output {i}", a, b) for i, (a, b) in enumerate(zip(compiled.outputs, eager.outputs, strict=False))]
        if len(compiled.outputs) != len(eager.outputs):
            return [flag(f"outputs [{label}]", False, f"compiled returned {len(compiled.outputs)} outputs, "
                                                      f"eager {len(eager.outputs)}")]
    scale = magnitude(*(x for _, a, b in named for x in (a, b)))
    return [compare(f"{name} [{label}]", np.zeros_like(b) if a is None else a, np.zeros_like(a) if b is None else b,
                    policy, group_scale=scale)
            for name, a, b in named if a is not None or b is not None]


def _self_state(label: str, compiled: dict[str, np.ndarray], eager: dict[str, np.ndarray] | None,
                policy: Policy, suffix: str) -> list[TensorMetrics]:
    return [compare(f"state {k} [{label}]{suffix}", compiled[k], v, policy) for k, v in (eager or {}).items()]


def _labels(calls: list[StageCall]) -> list[str]:
    totals = Counter(c.name for c in calls)
    seen: Counter[str] = Counter()
    labels = []
    for c in calls:
        labels.append(c.name if totals[c.name] == 1 else f"{c.name}[{seen[c.name]}]")
        seen[c.name] += 1
    return labels


def _localise(pair: LayerPair, th: Outcome, tf_: Outcome, policy: Policy, grad: bool) -> dict[str, Any]:
    """Compare every stage call; name the first that diverges in the direction of the check.

    Forward: outputs in call order. Backward: the gradient at each stage's input, from the
    output end back, so the first divergent one is the sublayer whose backward is wrong.
    """
    layout = {s.name: s.layout for s in pair.stages}
    labels = _labels(th.stages)
    if _labels(tf_.stages) != labels:
        return {"direction": "backward" if grad else "forward", "first": None, "stages": [],
                "note": f"stage calls differ: torch {labels}, tf {_labels(tf_.stages)}"}
    rows = []
    order = range(len(labels) - 1, -1, -1) if grad else range(len(labels))
    for i in order:
        a, b = th.stages[i], tf_.stages[i]
        x, y = (a.input_grad, b.input_grad) if grad else (a.output, b.output)
        if x is None or y is None:
            continue
        declared = a.name if a.name in layout else a.name.rsplit(".", 1)[0]  # "layers.3" from "layers.*"
        m = compare(labels[i], x, layout_of(layout[declared], y.ndim).inverse(y), policy)
        rows.append({"stage": labels[i], "ok": m.ok, "max_abs_error": m.max_abs_error,
                     "max_rel_error": m.max_rel_error, "headroom": m.headroom})
    first = next((r["stage"] for r in rows if not r["ok"]), None)
    return {"direction": "backward" if grad else "forward", "first": first, "stages": rows}


def _graph_execution(tw: _Twins) -> dict[str, Any]:
    from harness.sides import tf_side, torch_side

    return {"torch": torch_side.COMPILER, "tf": tf_side.compiler(tw.tf)}


def _values(target: Any, case: Case, dtype: str, policy: Policy, localise: bool) -> Evaluation:
    """``forward`` (every call's outputs) and ``gradient`` (the last call's VJP)."""
    pair, tw = target.pair, prepare(target, case, dtype)
    grad = target.check == "gradient"
    graph = target.mode == "graph"
    cpu = _CpuTwin(target, case, dtype, tw.th) if target.device != "cpu" else None
    metrics: list[TensorMetrics] = []
    for call in range(1, pair.calls + 1):
        last = call == pair.calls
        run = run_both(target, tw, dtype, case, grad and last, localise and last and not graph)
        suffix = f" (call {call})" if pair.calls > 1 else ""
        if cpu is not None:
            metrics += cpu.compare(run.th, run.inputs, tw.kwargs, grad and last, policy, suffix)
        if not grad:
            metrics += _output_metrics(pair, run.th, run.tf, policy, suffix)
            if graph:
                metrics += _self_metrics(f"torch.compile vs eager{suffix}", run.th, run.th_eager, policy, False)
                metrics += _self_metrics(f"tf.function vs eager{suffix}", run.tf, run.tf_eager, policy, False)
    if grad:
        same_count = len(run.th.outputs) == len(run.tf.outputs)
        metrics = _gradient_metrics(pair, tw.slots, run.th, run.tf, policy) if same_count else \
            _output_metrics(pair, run.th, run.tf, policy, "")
        if graph:
            metrics += _self_metrics("torch.compile vs eager", run.th, run.th_eager, policy, True)
            metrics += _self_metrics("tf.function vs eager", run.tf, run.tf_eager, policy, True)
    where = _localise(pair, run.th, run.tf, policy, grad) if localise and pair.stages and not graph else None
    return Evaluation(metrics, where, _graph_execution(tw) if graph else {})


class _CpuTwin:
    """torch on the CPU beside torch on the GPU: same weights, inputs and cotangent, every call.

    A GPU run checks the GPU kernels against the CPU ones as well as against TF; where TF
    has no GPU this is what the record compares (:func:`_across_devices`).
    """

    def __init__(self, target: Any, case: Case, dtype: str, gpu: Any):
        from harness.sides import torch_side

        self.device = target.device
        self.mode = "eval" if target.mode == "graph" else target.mode
        self.th = side_call("torch", "construction",
                            lambda: torch_side.build(target.pair.torch, case.params, dtype, "cpu", case.seed))
        torch_side.load(self.th, torch_side.state(gpu))

    def compare(self, gpu: Outcome, inputs: list[np.ndarray], kwargs: dict[str, Any], grad: bool, policy: Policy,
                suffix: str) -> list[TensorMetrics]:
        from harness.sides import torch_side

        cotangents = (lambda _: gpu.cotangents) if grad else None
        cpu = side_call("torch", "cpu reference", lambda: torch_side.run(self.th, inputs, kwargs, cotangents,
                                                                         mode=self.mode, device="cpu"))
        return _self_metrics(f"torch {self.device} vs cpu{suffix}", gpu, cpu, policy, grad)


def _across_devices(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """torch on the GPU against torch on the CPU alone: the forward/gradient check where TF has no GPU."""
    from harness.sides import torch_side

    pair, rng = target.pair, np.random.default_rng(case.seed)
    kwargs = {name: case.params[name] for name in pair.call_args}
    gpu = side_call("torch", "construction",
                    lambda: torch_side.build(pair.torch, case.params, dtype, target.device, case.seed))
    current = torch_side.state(gpu)
    inits = {k: v.init if isinstance(v, Link) else "keep" for k, v in pair.weights.items()}
    torch_side.load(gpu, {k: _value(inits.get(k, "normal"), v, rng).astype(v.dtype) for k, v in current.items()})
    cpu = _CpuTwin(target, case, dtype, gpu)
    grad = target.check == "gradient"
    metrics: list[TensorMetrics] = []
    for call in range(1, pair.calls + 1):
        last = call == pair.calls
        inputs = draw_inputs(pair, case, rng, dtype)
        cotangents = (lambda outs: [rng.standard_normal(o.shape).astype(dtype) for o in outs]) \
            if grad and last else None
        outcome = side_call("torch", target.check, lambda: torch_side.run(
            gpu, inputs, kwargs, cotangents, mode=target.mode, device=target.device))  # noqa: B023 - called at once
        metrics += cpu.compare(outcome, inputs, kwargs, grad and last, policy,
                               f" (call {call})" if pair.calls > 1 else "")
    return Evaluation(metrics, None, {"tf": f"unavailable: {devices.unavailable('tf', target.device)}"})


def _state(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """Buffers and non-trainable variables after each of several calls in the target's mode."""
    from harness.sides import tf_side, torch_side

    tw = prepare(target, case, dtype)
    if all(s.trainable for s in tw.slots):
        raise SpecError(f"pair {target.pair.name!r} declares the state check, but its weight map has no buffer or "
                        "non-trainable variable to compare")
    metrics: list[TensorMetrics] = []
    calls = max(target.pair.calls, STATE_CALLS)
    for call in range(1, calls + 1):
        run = run_both(target, tw, dtype, case, grad=False)
        suffix = f" (call {call})"
        metrics += _state_metrics(tw, policy, suffix)
        if target.mode == "graph":
            metrics += _self_state("torch.compile vs eager", torch_side.state(tw.th), run.th_eager_state, policy,
                                   suffix)
            metrics += _self_state("tf.function vs eager", tf_side.state(tw.tf), run.tf_eager_state, policy, suffix)
    return Evaluation(metrics, None, _graph_execution(tw) if target.mode == "graph" else {})


def _parameters(target: Any, case: Case, dtype: str, _policy: Policy, _localise: bool) -> Evaluation:
    try:
        tw = prepare(target, case, dtype)
    except bridge.WeightMapError as exc:
        return Evaluation([flag("weight map", False, "\n".join(exc.problems))])
    return Evaluation([flag("weight map", True, f"{len(tw.slots)} entries correspond")])


def evaluate(target: Any, case: Case, dtype: str | None = None, localise: bool = False) -> Evaluation:
    """Run one case for ``target.check`` and compare what that check looks at."""
    from harness import serialization, statistics, training

    pair, dtype = target.pair, dtype or target.dtype
    policy = policy_for(dtype, pair.tolerance_override(target.check, dtype))
    if target.check in TORCH_ONLY_CHECKS and devices.unavailable("tf", target.device):
        return _across_devices(target, case, dtype, policy, localise)
    runner = {
        "parameters": _parameters,
        "forward": _values,
        "gradient": _values,
        "state": _state,
        "statistics": statistics.evaluate,
        "serialization": serialization.evaluate,
        "train_step": training.evaluate,
    }[target.check]
    with devices.tf_scope(target.device):  # TF would put a CPU run on a GPU it sees, and needs telling
        return runner(target, case, dtype, policy, localise)
