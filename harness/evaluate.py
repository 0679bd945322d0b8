"""One case through both frameworks: build, fill identical weights, run, compare.

This is the only module that drives both sides for a check. Everything a case needs is
drawn from one numpy generator seeded by the case, in a fixed order (weights, then each
call's inputs, then the cotangent), so a case replays bit for bit -- including the replay
that localises a divergence to a sublayer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness import bridge
from harness.cases import Case, fill, weight_values
from harness.compare import Policy, TensorMetrics, compare, magnitude, policy_for
from harness.sides import Outcome, SideError, StageCall
from harness.spec import LayerPair

__all__ = ["Evaluation", "evaluate", "flag"]


@dataclass
class Evaluation:
    """What one case showed: per-tensor metrics and, when asked, the per-stage localisation."""

    metrics: list[TensorMetrics]
    localisation: dict[str, Any] | None = None

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


def flag(name: str, ok: bool, note: str) -> TensorMetrics:
    """A metric that is a yes/no finding (the weight map fits, an output count matches)."""
    bad = float("inf")
    return TensorMetrics(name, (), ok, 0.0 if ok else bad, 0.0 if ok else bad, 0 if ok else 1, 0 if ok else 1,
                         (), None, None, 0.0 if ok else bad, note)


def _layout(layout: str, rank: int) -> bridge.Transform:
    return bridge.channels_last(rank) if layout == "channels_first" else bridge.IDENTITY


def _side(framework: str, stage: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except bridge.WeightMapError:
        raise
    except Exception as exc:  # noqa: BLE001 - any framework failure becomes an error record
        raise SideError(framework, stage, exc) from exc


def _inputs(pair: LayerPair, case: Case, rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    special = list(pair.special_values(case.params)) if pair.special_values else []
    arrays = []
    for spec in pair.inputs:
        regime = case.regime if spec.regimes is None or case.regime in spec.regimes else "normal"
        arrays.append(fill(regime, spec.concrete_shape(case.params), rng, special).astype(dtype))
    return arrays


def _value(slot: bridge.Slot, torch_value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if slot.init == "keep":
        return torch_value
    if slot.init == "positive":  # variances: away from 0, where an epsilon would dominate
        return 0.5 + 1.5 * rng.random(torch_value.shape)
    return weight_values(torch_value.shape, rng)


def _prepare(target: Any, case: Case, dtype: str) -> _Twins:
    """Build both layers, validate the map, draw every mapped entry and load it into both."""
    from harness.sides import tf_side, torch_side  # frameworks load on first evaluation only

    pair = target.pair
    rng = np.random.default_rng(case.seed)
    kwargs = {name: case.params[name] for name in pair.call_args}
    probe = _inputs(pair, case, np.random.default_rng(case.seed), dtype)  # shapes to build TF with
    tf_probe = [_layout(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, probe, strict=True)]
    th = _side("torch", "construction",
               lambda: torch_side.build(pair.torch, case.params, dtype, target.device, case.seed))
    tf = _side("tf", "construction", lambda: tf_side.build(pair.tf, case.params, dtype, tf_probe, kwargs))
    slots = bridge.plan(pair.name, pair.weights, torch_side.entries(th),
                        lambda path: tf_side.resolve(tf, path), tf_side.entries(tf))
    current = torch_side.state(th)
    values = {s.canonical: _value(s, current[s.canonical], rng).astype(current[s.canonical].dtype) for s in slots}
    torch_side.load(th, values)
    tf_side.load(tf, bridge.to_tf(values, slots))
    return _Twins(pair, th, tf, slots, rng, kwargs)


def _run_both(target: Any, tw: _Twins, dtype: str, case: Case, grad: bool, capture: bool) -> tuple[Outcome, Outcome]:
    """One call on both sides with fresh inputs; with ``grad``, the VJP with one cotangent."""
    from harness.sides import tf_side, torch_side

    pair = tw.pair
    inputs = _inputs(pair, case, tw.rng, dtype)
    tf_inputs = [_layout(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    th_stages = [(s.name, s.torch) for s in pair.stages] if capture else []
    tf_stages = [(s.name, s.tf) for s in pair.stages] if capture else []
    stage = "gradient" if grad else "forward"

    def cotangents(outputs: list[np.ndarray]) -> list[np.ndarray]:
        return [tw.rng.standard_normal(o.shape).astype(dtype) for o in outputs]

    th = _side("torch", stage, lambda: torch_side.run(tw.th, inputs, tw.kwargs, cotangents if grad else None,
                                                      mode=target.mode, device=target.device, stages=th_stages))
    tf_cot = [_layout(pair.output_layout, c.ndim).forward(c) for c in th.cotangents] if grad else None
    tf_ = _side("tf", stage, lambda: tf_side.run(tw.tf, tf_inputs, tw.kwargs, tf_cot, mode=target.mode,
                                                 stages=tf_stages))
    return th, tf_


def _output_metrics(pair: LayerPair, th: Outcome, tf_: Outcome, policy: Policy, suffix: str) -> list[TensorMetrics]:
    if len(th.outputs) != len(tf_.outputs):
        return [flag(f"outputs{suffix}", False, f"torch returned {len(th.outputs)} outputs, tf {len(tf_.outputs)}")]
    names = ["output"] if len(th.outputs) == 1 else [f"output[{i}]" for i in range(len(th.outputs))]
    scale = magnitude(*th.outputs, *tf_.outputs)
    return [compare(n + suffix, a, _layout(pair.output_layout, b.ndim).inverse(b), policy, group_scale=scale)
            for n, a, b in zip(names, th.outputs, tf_.outputs, strict=True)]


def _gradient_metrics(pair: LayerPair, slots: list[bridge.Slot], th: Outcome, tf_: Outcome,
                      policy: Policy) -> list[TensorMetrics]:
    tf_input_grads = [None if g is None else _layout(spec.layout, g.ndim).inverse(g)
                      for spec, g in zip(pair.inputs, tf_.input_grads, strict=True)]
    tf_param_grads = bridge.from_tf({k: v for k, v in tf_.param_grads.items() if v is not None}, slots)
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


def _state_metrics(tw: _Twins, policy: Policy) -> list[TensorMetrics]:
    """Buffers and other non-trainable state after the calls (running statistics, say)."""
    from harness.sides import tf_side, torch_side

    stateful = [s for s in tw.slots if not s.trainable]
    if not stateful:
        return []
    th, tf_ = torch_side.state(tw.th), bridge.from_tf(tf_side.state(tw.tf), stateful)
    return [compare(f"state {s.canonical}", th[s.canonical], tf_[s.canonical], policy) for s in stateful]


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
        m = compare(labels[i], x, _layout(layout[declared], y.ndim).inverse(y), policy)
        rows.append({"stage": labels[i], "ok": m.ok, "max_abs_error": m.max_abs_error,
                     "max_rel_error": m.max_rel_error, "headroom": m.headroom})
    first = next((r["stage"] for r in rows if not r["ok"]), None)
    return {"direction": "backward" if grad else "forward", "first": first, "stages": rows}


def evaluate(target: Any, case: Case, dtype: str | None = None, localise: bool = False) -> Evaluation:
    """Run one case for ``target.check`` and compare what that check looks at."""
    pair, dtype = target.pair, dtype or target.dtype
    policy = policy_for(dtype, pair.tolerance_override(target.check, dtype))
    if target.check == "parameters":
        try:
            tw = _prepare(target, case, dtype)
        except bridge.WeightMapError as exc:
            return Evaluation([flag("weight map", False, "\n".join(exc.problems))])
        return Evaluation([flag("weight map", True, f"{len(tw.slots)} entries correspond")])
    tw = _prepare(target, case, dtype)
    grad = target.check == "gradient"
    metrics: list[TensorMetrics] = []
    for call in range(1, pair.calls + 1):
        last = call == pair.calls
        th, tf_ = _run_both(target, tw, dtype, case, grad and last, localise and last)
        suffix = f" (call {call})" if pair.calls > 1 else ""
        if not grad:
            metrics += _output_metrics(pair, th, tf_, policy, suffix)
    if grad:
        same_count = len(th.outputs) == len(tf_.outputs)
        metrics = _gradient_metrics(pair, tw.slots, th, tf_, policy) if same_count else \
            _output_metrics(pair, th, tf_, policy, "")
    else:
        metrics += _state_metrics(tw, policy)
    return Evaluation(metrics, _localise(pair, th, tf_, policy, grad) if localise and pair.stages else None)
