"""The ``serialization`` check: every save/load round trip a user relies on reproduces the layer.

Each framework is checked against itself, not against the other. What must be exact is
compared exactly, and what the framework may legitimately change is compared within the
dtype's tolerance; every metric says which comparison it made (``comparison``):

* **weights** (every saved variable, by name) and **configs** must round-trip bit for bit:
  saving moves numbers and settings, it must not round or forget them;
* **outputs** of a reloaded layer that runs the same eager kernels (torch ``state_dict``,
  Keras ``from_config`` and ``.keras``) must be bit-identical to the original's;
* **outputs** of an execution the framework recompiles or rewrites on load (a SavedModel's
  graph, which Grappler rewrites) are compared with the dtype's tolerance: a rewritten graph
  one ulp away from the eager layer is not a bug in anyone's port.

A round trip that raises is a failure of that round trip, with the exception as the
evidence; one that cannot apply (a plain function has no config) says why. Each round trip is
made once per example and ``INPUTS`` input sets go through it: an export costs far more than
an input, and a record exports few configurations (:mod:`harness.configurations`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.cases import Case
from harness.compare import Policy
from harness.engine import Evaluation, Tally, draw_inputs, output_labels, prepare, side_call, structure
from harness.layouts import layout_of
from harness.sides import Outcome, Reloaded, in_order, keyed

__all__ = ["EXACT", "INPUTS", "evaluate"]

EXACT = Policy(0.0, 0.0, "exact: a reloaded layer must reproduce the original bit for bit")
# Input sets per export: the export is the cost (a SavedModel: ~60 % of an example), an input is cheap.
INPUTS = 3


def _identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _weights(tally: Tally, label: str, got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    changed = [f"{k} (max abs change {np.max(np.abs(got[k].astype(np.float64) - want[k])):.3g})"
               if got[k].shape == want[k].shape else f"{k} (shape {want[k].shape} -> {got[k].shape})"
               for k in sorted(want.keys() & got.keys()) if not _identical(got[k], want[k])]
    problems = ([f"lost: {missing}"] if missing else []) + ([f"new: {extra}"] if extra else []) + \
        ([f"changed: {', '.join(changed)}"] if changed else [])
    note = "; ".join(problems) if problems else f"{len(want)} variables bit-identical after the round trip"
    tally.flag(f"{label}: weights", not problems, note)


def _as_saved(config: dict[str, Any]) -> dict[str, Any]:
    """A config as its JSON file holds it: a tuple saved and read back is a list, and that is no change."""
    return json.loads(json.dumps(config, sort_keys=True, default=repr))


def _config(tally: Tally, label: str, original: dict[str, Any], reloaded: dict[str, Any]) -> None:
    original, reloaded = _as_saved(original), _as_saved(reloaded)
    differ = sorted(k for k in original.keys() | reloaded.keys() if original.get(k) != reloaded.get(k))
    note = ("keys that differ: " + ", ".join(f"{k}: {original.get(k)!r} -> {reloaded.get(k)!r}" for k in differ)
            if differ else f"{len(original)} config entries identical after the round trip")
    tally.flag(f"{label}: config", not differ, note)


def _round_trip(tally: Tally, label: str, reload: Callable[[], Reloaded] | str,
                runs: list[tuple[list[np.ndarray], Outcome]], policy: Policy) -> None:
    """One round trip, made once; every input set of ``runs`` goes through the reloaded layer and the original."""
    if isinstance(reload, str):
        tally.flag(label, True, reload)
        return
    try:
        trip = reload()
        named = [trip.run(inputs) for inputs, _ in runs]
    except Exception as exc:  # noqa: BLE001 - a round trip that raises is this check's finding
        tally.flag(label, False, f"round trip raised {type(exc).__name__}: {str(exc).strip()[:600]}")
        return
    _weights(tally, label, trip.weights, trip.original_weights)
    if trip.config is not None:
        _config(tally, label, *trip.config)
    why = (f"within the {policy.source}: TensorFlow rewrites a SavedModel's graph on load" if trip.rewritten
           else "bit for bit: the reloaded layer runs the same eager kernels")
    for i, ((_, reference), pairs) in enumerate(zip(runs, named, strict=True)):
        suffix = f" (input {i + 1})" if i else ""
        names, outputs = in_order(pairs, reference.names if keyed(reference.names) else None)
        keys = (names, reference.names) if keyed(names) or keyed(reference.names) else None
        if not structure(tally, f"{label}: outputs{suffix}", outputs, reference.outputs, ("reloaded", "original"),
                         keys=keys):
            return
        labels = output_labels(reference.names or [str(j) for j in range(len(reference.outputs))])
        for name, got, want in zip(labels, outputs, reference.outputs, strict=True):
            tally.compare(f"{label}: {name}{suffix}", got, want, note=f"reloaded vs original, {why}",
                          sides=("reloaded", "original"), policy=policy if trip.rewritten else EXACT)


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """Round-trip both layers once and compare each reloaded layer with its original on ``INPUTS`` input sets."""
    from harness.sides import tf_side, torch_side

    pair = target.pair
    tw = prepare(target, case, dtype)
    tally = Tally(policy)
    th_runs, tf_runs = [], []

    def originals(inputs: list[np.ndarray], tf_inputs: list[np.ndarray]) -> None:
        th_runs.append((inputs, side_call("torch", "forward", lambda: torch_side.run(
            tw.th, inputs, tw.kwargs, None, mode="eval", device=target.device))))
        tf_runs.append((tf_inputs, side_call("tf", "forward", lambda: tf_side.run(
            tw.tf, tf_inputs, tw.kwargs, None, mode="eval"))))

    for _ in range(INPUTS):
        inputs = draw_inputs(pair, case, tw.rng, dtype)
        tally.saw(inputs)
        originals(inputs, [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(pair.inputs, inputs, strict=True)])
    rebuild = lambda: torch_side.build(pair.torch, case.params, dtype, target.device, case.seed,  # noqa: E731
                                       pair.convention("torch"))
    for label, reload in torch_side.reloaded(tw.th, rebuild, th_runs[0][0], tw.kwargs, target.device).items():
        _round_trip(tally, label, reload, th_runs, policy)
    with tempfile.TemporaryDirectory(prefix="conform-serialization-") as directory:
        for label, reload in tf_side.reloaded(tw.tf, tf_runs[0][0], tw.kwargs, directory).items():
            _round_trip(tally, label, reload, tf_runs, policy)
    return tally.evaluation()
