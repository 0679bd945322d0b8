"""The ``train_step`` check: the same loss, the same SGD steps, from the same weights and batch.

Forward and gradient equivalence at one point do not yet say that two ports *train* alike:
an optimiser's update, a loss's argument order, a training-mode branch of the layer all
enter only here. Both sides take ``steps`` plain SGD steps in training mode on one batch
with one set of targets; the trainable weights are compared after every step (in canonical
layout, through the bridge), and so are the losses. The per-step divergence is kept as a
trajectory: a growing curve is how a small per-step discrepancy compounds in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness import bridge
from harness.cases import Case
from harness.compare import Policy, TensorMetrics, compare, magnitude
from harness.evaluate import Evaluation, draw_inputs, layout_of, prepare, side_call
from harness.spec import SpecError

__all__ = ["evaluate"]


def _step_metrics(step: int, slots: list[bridge.Slot], th: dict[str, np.ndarray], tf_: dict[str, np.ndarray],
                  losses: tuple[float, float], loss_scale: float, policy: Policy) -> list[TensorMetrics]:
    """One step's weights (one comparison group) and loss.

    The losses of a run are one group too: a loss that training has driven towards 0 is a
    cancellation of outputs against targets, accurate to the size of the first loss, not
    to its own.
    """
    canonical = bridge.from_tf(tf_, slots)
    scale = magnitude(*th.values(), *canonical.values())
    metrics = [compare(f"weight {s.canonical} (step {step})", th[s.canonical], canonical[s.canonical], policy,
                       group_scale=scale) for s in slots]
    metrics.append(compare(f"loss (step {step})", np.asarray(losses[0]), np.asarray(losses[1]), policy,
                           note="the loss before this step's update", group_scale=loss_scale))
    return metrics


def _point(step: int, metrics: list[TensorMetrics]) -> dict[str, Any]:
    return {"step": step, "ok": all(m.ok for m in metrics),
            "max_abs_error": max((m.max_abs_error for m in metrics), default=0.0),
            "max_rel_error": max((m.max_rel_error for m in metrics), default=0.0),
            "headroom": max((m.headroom for m in metrics), default=0.0)}


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """SGD on both sides; metrics of the first divergent step (else the last), and the trajectory."""
    from harness.sides import tf_side, torch_side

    pair, spec = target.pair, target.pair.train_step
    tw = prepare(target, case, dtype)
    slots = [s for s in tw.slots if s.trainable]
    if not slots:
        raise SpecError(f"pair {pair.name!r} declares a train_step, but its weight map has no trainable parameter")
    inputs = draw_inputs(pair, case, tw.rng, dtype)
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    shapes = side_call("torch", "forward", lambda: torch_side.run(tw.th, inputs, tw.kwargs, None, mode="eval",
                                                                  device=target.device).outputs)
    targets = [tw.rng.standard_normal(o.shape).astype(dtype) for o in shapes]
    tf_targets = [layout_of(pair.output_layout, y.ndim).forward(y) for y in targets]
    th_w, th_loss = side_call("torch", "train_step", lambda: torch_side.sgd(
        tw.th, inputs, tw.kwargs, targets, spec.torch_loss(), spec.lr, spec.steps, target.device))
    tf_w, tf_loss = side_call("tf", "train_step", lambda: tf_side.sgd(
        tw.tf, tf_inputs, tw.kwargs, tf_targets, spec.tf_loss(), spec.lr, spec.steps))
    trajectory = [_point(0, [compare(f"weight {s.canonical} (step 0)", th_w[0][s.canonical],
                                     bridge.from_tf(tf_w[0], slots)[s.canonical], policy) for s in slots])]
    loss_scale = magnitude(np.asarray(th_loss), np.asarray(tf_loss))
    per_step = [_step_metrics(step, slots, th_w[step], tf_w[step], (th_loss[step - 1], tf_loss[step - 1]),
                              loss_scale, policy) for step in range(1, spec.steps + 1)]
    trajectory += [_point(step, metrics) for step, metrics in enumerate(per_step, 1)]
    shown = next((m for m in per_step if not all(x.ok for x in m)), per_step[-1])
    return Evaluation(shown, trajectory=trajectory)
