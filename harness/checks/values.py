"""The ``forward`` and ``gradient`` checks: every call's outputs, and the last call's VJP.

Structure first: the outputs' count and shapes are compared before any value (the gradient
check included, whose VJP against a cotangent of the wrong shape could broadcast silently).
In ``graph`` mode the compiled results are compared across frameworks and each with its own
eager result. On a GPU, torch's GPU results are compared with torch on the CPU as well; where
TF has no GPU that is all the check compares (:func:`across_devices`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from harness import bridge, devices
from harness.cases import Case
from harness.compare import Policy, compare, magnitude
from harness.engine import (
    Evaluation,
    Tally,
    as_drawn,
    draw_inputs,
    initial_value,
    output_keys,
    output_labels,
    prepare,
    run_both,
    side_call,
    structure,
    tf_gradients,
    tf_outputs,
)
from harness.layouts import layout_of
from harness.sides import Outcome, StageCall
from harness.spec import LayerPair, Link, SpecError

__all__ = ["across_devices", "evaluate"]


def _outputs(tally: Tally, pair: LayerPair, th: Outcome, tf_: Outcome, suffix: str) -> None:
    theirs = tf_outputs(pair, tf_)
    if not structure(tally, f"outputs{suffix}", th.outputs, theirs, keys=output_keys(pair, th, tf_)):
        return
    names = output_labels(th.names or [str(i) for i in range(len(th.outputs))])
    tally.group([(n + suffix, a, b) for n, a, b in zip(names, th.outputs, theirs, strict=True)])


def _gradients(tally: Tally, pair: LayerPair, slots: list[bridge.Slot], th: Outcome, tf_: Outcome) -> None:
    if not structure(tally, "outputs", th.outputs, tf_outputs(pair, tf_), keys=output_keys(pair, th, tf_)):
        return
    tf_input_grads, tf_param_grads = tf_gradients(pair, slots, tf_)
    named = [(f"grad {s.name}", a, b) for s, a, b in zip(pair.inputs, th.input_grads, tf_input_grads, strict=True)]
    named += [(f"grad {s.canonical}", th.param_grads.get(s.canonical), tf_param_grads.get(s.canonical))
              for s in slots if s.trainable]
    _group_with_missing(tally, named, ("torch", "tf"), th.cotangents)


def _group_with_missing(tally: Tally, named: list[tuple[str, Any, Any]], sides: tuple[str, str],
                        cotangents: list[np.ndarray]) -> None:
    """One VJP's gradients as one group; a side with no gradient path is compared as zeros, and says so.

    The group's scale includes the cotangent: every gradient element is a sum of cotangent
    entries times local derivatives, so where a local derivative is a cancellation (``1 - y**2``
    once ``tanh`` has rounded to 1) both frameworks leave noise the size of the cotangent times
    the unit roundoff, however small the true gradient is. A gradient judged only against its
    own size would call that noise a divergence, in float64 too.
    """
    filled = []
    for name, a, b in named:
        if a is None and b is None:
            continue  # no gradient path on either side: nothing to compare
        note = ""
        if a is None or b is None:
            note = f"{sides[0] if a is None else sides[1]} reports no gradient path to this tensor (detached or " \
                   "unused); compared as zeros"
            a = np.zeros_like(b) if a is None else a
            b = np.zeros_like(a) if b is None else b
        filled.append((name, a, b, note))
    tally.group(filled, sides=sides, scaled_by=cotangents)


def self_metrics(tally: Tally, label: str, sides: tuple[str, str], compiled: Outcome, eager: Outcome,
                 cotangents: list[np.ndarray] | None) -> None:
    """One framework against itself (compiled vs eager, GPU vs CPU): outputs, or (given the VJP's
    ``cotangents``, in torch's layout) every gradient of the VJP."""
    if not structure(tally, f"outputs [{label}]", compiled.outputs, eager.outputs, sides):
        return
    if cotangents is not None:
        named = [(f"grad input {i} [{label}]", a, b) for i, (a, b) in
                 enumerate(zip(compiled.input_grads, eager.input_grads, strict=False))]
        named += [(f"grad {k} [{label}]", compiled.param_grads.get(k), v) for k, v in eager.param_grads.items()]
        _group_with_missing(tally, named, sides, cotangents)
    else:
        tally.group([(f"output {i} [{label}]", a, b)
                     for i, (a, b) in enumerate(zip(compiled.outputs, eager.outputs, strict=True))], sides=sides)


def _canonical(outcome: Outcome, slots: list[bridge.Slot]) -> Outcome:
    """TF's parameter gradients under torch's names: Keras's own variable paths are numbered per process
    (``multi_head_attention_1/query/kernel``), so a float64 replay's layer would not name them alike."""
    grads = {k: v for k, v in outcome.param_grads.items() if v is not None}
    return replace(outcome, param_grads=dict(bridge.from_tf(grads, slots)))


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
    order = range(len(labels) - 1, -1, -1) if grad else range(len(labels))
    pairs = []
    for i in order:
        a, b = th.stages[i], tf_.stages[i]
        x, y = (a.input_grad, b.input_grad) if grad else (a.output, b.output)
        if x is None or y is None:
            continue
        declared = a.name if a.name in layout else re.sub(r"(\.\d+)+$", "", a.name)  # "layers.3" from "layers.*"
        pairs.append((labels[i], x, layout_of(layout[declared], y.ndim).inverse(y)))
    # One scale for every stage, the largest value any stage carries: a stage whose gradient is
    # nearly zero differs by rounding noise of the size of the others (2.7e-17 in float64), which
    # is no divergence, however large that noise is against the stage's own values.
    scale = magnitude(*(v for _, x, y in pairs for v in (x, y)))
    rows = []
    for label, x, y in pairs:
        m = compare(label, x, y, policy, group_scale=scale)
        rows.append({"stage": label, "ok": m.ok, "max_abs_error": m.max_abs_error,
                     "max_rel_error": m.max_rel_error, "headroom": m.headroom})
    first = next((r["stage"] for r in rows if not r["ok"]), None)
    return {"direction": "backward" if grad else "forward", "first": first, "stages": rows}


def _graph_execution(tw: Any) -> dict[str, Any]:
    from harness.sides import tf_side, torch_side

    return {"torch": torch_side.COMPILER, "tf": tf_side.compiler(tw.tf)}


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, localise: bool) -> Evaluation:
    """``forward`` (every call's outputs) and ``gradient`` (the last call's VJP)."""
    pair, tw = target.pair, prepare(target, case, dtype)
    grad = target.check == "gradient"
    graph = target.mode == "graph"
    cpu = _CpuTwin(target, case, dtype, tw.th) if target.device != "cpu" else None
    tally = Tally(policy)
    for name, note in tw.findings:  # what the weight transfer itself got wrong: a converter that rounds
        tally.flag(name, False, note)
    for call in range(1, pair.calls + 1):
        last = call == pair.calls
        run = run_both(target, tw, dtype, case, grad and last, localise and last and not graph)
        tally.saw(run.inputs)
        suffix = f" (call {call})" if pair.calls > 1 else ""
        if cpu is not None:
            cpu.compare(tally, run.th, run.inputs, tw.kwargs, grad and last, suffix)
        if not grad:
            _outputs(tally, pair, run.th, run.tf, suffix)
            if graph:
                self_metrics(tally, f"torch.compile vs eager{suffix}", ("torch.compile", "torch eager"), run.th,
                             run.th_eager, None)
                self_metrics(tally, f"tf.function vs eager{suffix}", ("tf.function", "tf eager"), run.tf,
                             run.tf_eager, None)
    if grad:
        _gradients(tally, pair, tw.slots, run.th, run.tf)
        if graph:
            cot = run.th.cotangents
            self_metrics(tally, "torch.compile vs eager", ("torch.compile", "torch eager"), run.th, run.th_eager, cot)
            self_metrics(tally, "tf.function vs eager", ("tf.function", "tf eager"), _canonical(run.tf, tw.slots),
                         _canonical(run.tf_eager, tw.slots), cot)
    where = None
    if localise and pair.stages and not graph:
        from harness.sides import torch_side

        where = _localise(pair, run.th, run.tf, policy, grad)
        where["undeclared"] = torch_side.undeclared(tw.th, [(s.name, s.torch) for s in pair.stages])
    return tally.evaluation(localisation=where, execution={**(_graph_execution(tw) if graph else {}),
                                                           **run.th.execution})


class _CpuTwin:
    """torch on the CPU beside torch on the GPU: same weights, inputs and cotangent, every call.

    A GPU run checks the GPU kernels against the CPU ones as well as against TF; where TF
    has no GPU this is what the record compares (:func:`across_devices`).
    """

    def __init__(self, target: Any, case: Case, dtype: str, gpu: Any):
        from harness.sides import torch_side

        self.device = target.device
        self.mode = "eval" if target.mode == "graph" else target.mode
        self.drop = target.pair.dropped_outputs
        self.th = side_call("torch", "construction",
                            lambda: torch_side.build(target.pair.torch, case.params, dtype, "cpu", case.seed,
                                                     target.pair.convention("torch")))
        torch_side.load(self.th, torch_side.state(gpu))

    def compare(self, tally: Tally, gpu: Outcome, inputs: list[np.ndarray], kwargs: dict[str, Any], grad: bool,
                suffix: str) -> Outcome:
        """Compare the GPU's outcome with torch on the CPU, on the same inputs and cotangent; the CPU's outcome."""
        from harness.sides import torch_side

        cotangents = (lambda _: gpu.cotangents) if grad else None
        cpu = side_call("torch", "cpu reference", lambda: torch_side.run(self.th, inputs, kwargs, cotangents,
                                                                         mode=self.mode, device="cpu", drop=self.drop))
        self_metrics(tally, f"torch {self.device} vs cpu{suffix}", (f"torch {self.device}", "torch cpu"), gpu, cpu,
                     gpu.cotangents if grad else None)
        return cpu


def across_devices(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """torch on the GPU against torch on the CPU alone: the forward/gradient check where TF has no GPU."""
    from harness.sides import torch_side

    pair, rng = target.pair, np.random.default_rng(case.seed)
    kwargs = {name: case.params[name] for name in pair.call_args}
    gpu = side_call("torch", "construction",
                    lambda: torch_side.build(pair.torch, case.params, dtype, target.device, case.seed,
                                             pair.convention("torch")))
    current = torch_side.state(gpu)
    parameters = set(dict(gpu.named_parameters())) if hasattr(gpu, "named_parameters") else set(current)
    torch_side.load(gpu, {k: as_drawn(initial_value(_init(pair, k, k in parameters), v, rng), v.dtype)
                          for k, v in current.items()})
    cpu = _CpuTwin(target, case, dtype, gpu)
    grad = target.check == "gradient"
    tally = Tally(policy)
    for call in range(1, pair.calls + 1):
        last = call == pair.calls
        inputs = draw_inputs(pair, case, rng, dtype)
        tally.saw(inputs)
        cotangents = (lambda outs: [as_drawn(rng.standard_normal(o.shape), dtype) for o in outs]) \
            if grad and last else None
        outcome = side_call("torch", target.check, lambda: torch_side.run(  # noqa: B023 - called at once
            gpu, inputs, kwargs, cotangents, mode=target.mode,  # noqa: B023
            device=target.device, drop=pair.dropped_outputs))
        reference = cpu.compare(tally, outcome, inputs, kwargs, grad and last,
                                f" (call {call})" if pair.calls > 1 else "")
        _valid_state(pair, inputs, reference)
    return tally.evaluation(execution={"tf": f"unavailable: {devices.unavailable('tf', target.device)}",
                                       **outcome.execution})


def _init(pair: LayerPair, name: str, parameter: bool) -> str:
    """How the GPU-only path draws one state entry: as the weight map says, else a parameter drawn and a buffer kept.

    Without TF there is no Keras layer to read defaults from, so the map's ``init`` is the
    only word on a buffer; one it does not name (a running variance under a ``*`` key is
    named) keeps the module's own value rather than a draw that could be negative.
    """
    found = None if pair.auto_weights else bridge.lookup(pair.weights, name)
    if found is None:
        return "normal" if parameter else "keep"
    return found[1].init if isinstance(found[1], Link) else "keep"


def _valid_state(pair: LayerPair, inputs: list[np.ndarray], reference: Outcome) -> None:
    """Refuse a drawn state that makes torch on the CPU non-finite from finite inputs: that is the harness's draw
    outside the layer's domain, not a divergence of the device (both devices would say NaN and test nothing)."""
    if all(np.isfinite(x).all() for x in inputs if np.issubdtype(x.dtype, np.floating)) and \
            not all(np.isfinite(o).all() for o in reference.outputs):
        raise SpecError(f"pair {pair.name!r}: with the state the harness drew, torch on the CPU returns non-finite "
                        "outputs from finite inputs, so nothing could be compared; the weight map's `init` of a "
                        "buffer (a variance must be drawn 'positive') or the drawn dims put the layer outside its "
                        "domain")
