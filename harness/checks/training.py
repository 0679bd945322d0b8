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
from harness.compare import Policy, compare, magnitude
from harness.engine import (
    Evaluation,
    Tally,
    as_drawn,
    draw_inputs,
    output_order,
    prepare,
    side_call,
    structure,
    trajectory_point,
)
from harness.layouts import layout_of
from harness.spec import SpecError

__all__ = ["evaluate"]


def _step(step: int, slots: list[bridge.Slot], th: dict[str, np.ndarray], tf_: dict[str, np.ndarray],
          losses: tuple[float, float], loss_scale: float, policy: Policy) -> Tally:
    """One step's weights (one comparison group) and loss.

    The losses of a run are one group too: a loss that training has driven towards 0 is a
    cancellation of outputs against targets, accurate to the size of the first loss, not
    to its own.
    """
    canonical = bridge.from_tf(tf_, slots)
    tally = Tally(policy)
    tally.group([(f"weight {s.canonical} (step {step})", th[s.canonical], canonical[s.canonical]) for s in slots])
    tally.compare(f"loss (step {step})", np.asarray(losses[0]), np.asarray(losses[1]),
                  note="the loss before this step's update", scale=loss_scale)
    return tally


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """SGD on both sides; metrics of the first divergent step (else the last), and the trajectory.

    The outputs' structure is compared first, on one forward call of each side.
    """
    from harness.sides import tf_side, torch_side

    pair, spec = target.pair, target.pair.train_step
    tw = prepare(target, case, dtype)
    slots = [s for s in tw.slots if s.trainable]
    if not slots:
        raise SpecError(f"pair {pair.name!r} declares a train_step, but its weight map has no trainable parameter")
    inputs = draw_inputs(pair, case, tw.rng, dtype)
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]
    th = side_call("torch", "forward", lambda: torch_side.run(tw.th, inputs, tw.kwargs, None, mode="eval",
                                                              device=target.device, drop=pair.dropped_outputs))
    th_out, order = th.outputs, output_order(pair, th.names)
    tf_out = side_call("tf", "forward", lambda: tf_side.run(tw.tf, tf_inputs, tw.kwargs, None, mode="eval",
                                                            order=order).outputs)
    shapes = Tally(policy)
    if not structure(shapes, "outputs", th_out, [layout_of(pair.output_layout, o.ndim).inverse(o) for o in tf_out]):
        return shapes.evaluation()  # one loss against targets of another shape says nothing
    targets = [as_drawn(tw.rng.standard_normal(o.shape), dtype) for o in th_out]
    tf_targets = [layout_of(pair.output_layout, y.ndim).forward(y) for y in targets]
    th_w, th_loss = side_call("torch", "train_step", lambda: torch_side.sgd(
        tw.th, inputs, tw.kwargs, targets, spec.torch_loss(), spec.lr, spec.steps, target.device,
        pair.dropped_outputs))
    tf_w, tf_loss = side_call("tf", "train_step", lambda: tf_side.sgd(
        tw.tf, tf_inputs, tw.kwargs, tf_targets, spec.tf_loss(), spec.lr, spec.steps, order))
    trajectory = [trajectory_point(0, [compare(f"weight {s.canonical} (step 0)", th_w[0][s.canonical],
                                     bridge.from_tf(tf_w[0], slots)[s.canonical], policy) for s in slots])]
    loss_scale = magnitude(np.asarray(th_loss), np.asarray(tf_loss))
    per_step = [_step(step, slots, th_w[step], tf_w[step], (th_loss[step - 1], tf_loss[step - 1]), loss_scale, policy)
                for step in range(1, spec.steps + 1)]
    trajectory += [trajectory_point(step, tally.metrics) for step, tally in enumerate(per_step, 1)]
    shown = next((t for t in per_step if not all(m.ok for m in t.metrics)), per_step[-1])
    arrays = {name: compared for t in per_step for name, compared in t.arrays.items()}
    return Evaluation(shown.metrics, arrays, trajectory=trajectory, every=[m for t in per_step for m in t.metrics],
                      steps=[[m.name for m in t.metrics] for t in per_step],
                      groups=[g for t in per_step for g in t.groups])
