"""The ``serialization`` check: every save/load round trip a user relies on reproduces the layer.

Each framework is checked against itself, not against the other: a reloaded layer must give
*exactly* the outputs of the original on the same inputs (tolerance zero: the same weights
and the same kernels leave no room for rounding). The round trips are torch's ``state_dict``
checkpoint, and Keras's ``get_config``/``from_config``, ``.keras`` file and ``tf.saved_model``
export. A round trip that raises is a failure of that round trip, with the exception as the
evidence; one that cannot apply (a plain function has no config) says why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.cases import Case
from harness.compare import Policy, TensorMetrics, compare
from harness.evaluate import Evaluation, draw_inputs, flag, layout_of, prepare, side_call

__all__ = ["EXACT", "evaluate"]

EXACT = Policy(0.0, 0.0, "exact: a reloaded layer must reproduce the original's outputs bit for bit")


def _round_trip(label: str, reload: Callable[[], Any] | str, run: Callable[[Any], list[np.ndarray]],
                reference: list[np.ndarray]) -> list[TensorMetrics]:
    if isinstance(reload, str):
        return [flag(label, True, reload)]
    try:
        reloaded = reload()
        if isinstance(reloaded, tuple):  # (reloaded, the original run the same way) where eager is not the reference
            reloaded, original = reloaded
            reference = run(original)
        outputs = run(reloaded)
    except Exception as exc:  # noqa: BLE001 - a round trip that raises is this check's finding
        return [flag(label, False, f"round trip raised {type(exc).__name__}: {str(exc).strip()[:600]}")]
    if len(outputs) != len(reference):
        return [flag(label, False, f"reloaded layer returned {len(outputs)} outputs, the original {len(reference)}")]
    names = ["output"] if len(reference) == 1 else [f"output[{i}]" for i in range(len(reference))]
    return [compare(f"{label}: {n}", got, want, EXACT, note="reloaded vs original, same framework")
            for n, got, want in zip(names, outputs, reference, strict=True)]


def evaluate(target: Any, case: Case, dtype: str, _policy: Policy, _localise: bool) -> Evaluation:
    """Round-trip both layers and compare each reloaded layer with its original."""
    from harness.sides import tf_side, torch_side

    pair = target.pair
    tw = prepare(target, case, dtype)
    inputs = draw_inputs(pair, case, tw.rng, dtype)
    tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)]

    def torch_outputs(module: Any) -> list[np.ndarray]:
        return torch_side.run(module, inputs, tw.kwargs, None, mode="eval", device=target.device).outputs

    th_ref = side_call("torch", "forward", lambda: torch_outputs(tw.th))
    tf_ref = side_call("tf", "forward", lambda: tf_side.run(tw.tf, tf_inputs, tw.kwargs, None, mode="eval").outputs)
    rebuild = lambda: torch_side.build(pair.torch, case.params, dtype, target.device, case.seed)  # noqa: E731
    metrics: list[TensorMetrics] = []
    for label, reload in torch_side.reloaded(tw.th, rebuild).items():
        metrics += _round_trip(label, reload, torch_outputs, th_ref)
    with tempfile.TemporaryDirectory(prefix="conform-serialization-") as directory:
        for label, reload in tf_side.reloaded(tw.tf, tf_inputs, tw.kwargs, directory).items():
            metrics += _round_trip(label, reload, lambda run: run(tf_inputs), tf_ref)
    return Evaluation(metrics)
