"""The ``state`` check: buffers and non-trainable variables after each of several calls.

Running statistics, counters and custom running means change inside forward calls; two
ports can agree on every output and still drift apart here (a momentum passed unconverted).
In ``graph`` mode each side's compiled state is compared with its eager state as well.
"""

from __future__ import annotations

from typing import Any

from harness import bridge
from harness.cases import Case
from harness.compare import Policy
from harness.engine import Evaluation, Tally, Twins, prepare, run_both
from harness.spec import STATE_CALLS, SpecError

__all__ = ["evaluate"]


def _cross(tally: Tally, tw: Twins, suffix: str) -> None:
    from harness.sides import tf_side, torch_side

    stateful = [s for s in tw.slots if not s.trainable]
    th, tf_ = torch_side.state(tw.th), bridge.from_tf(tf_side.state(tw.tf), stateful)
    for s in stateful:
        tally.compare(f"state {s.canonical}{suffix}", th[s.canonical], tf_[s.canonical])


def _own(tally: Tally, label: str, sides: tuple[str, str], compiled: dict[str, Any], eager: dict[str, Any] | None,
         suffix: str) -> None:
    for k, v in (eager or {}).items():
        tally.compare(f"state {k} [{label}]{suffix}", compiled[k], v, sides=sides)


def evaluate(target: Any, case: Case, dtype: str, policy: Policy, _localise: bool) -> Evaluation:
    """Buffers and non-trainable variables after each of ``max(calls, 3)`` calls in the target's mode."""
    from harness.sides import tf_side, torch_side

    tw = prepare(target, case, dtype)
    if all(s.trainable for s in tw.slots):
        raise SpecError(f"pair {target.pair.name!r} declares the state check, but its weight map has no buffer or "
                        "non-trainable variable to compare")
    tally = Tally(policy)
    graph = target.mode == "graph"
    for call in range(1, max(target.pair.calls, STATE_CALLS) + 1):
        run = run_both(target, tw, dtype, case, grad=False)
        tally.saw(run.inputs)
        suffix = f" (call {call})"
        _cross(tally, tw, suffix)
        if graph:
            _own(tally, "torch.compile vs eager", ("torch.compile", "torch eager"), torch_side.state(tw.th),
                 run.th_eager_state, suffix)
            _own(tally, "tf.function vs eager", ("tf.function", "tf eager"), tf_side.state(tw.tf), run.tf_eager_state,
                 suffix)
    execution = {"torch": torch_side.COMPILER, "tf": tf_side.compiler(tw.tf)} if graph else {}
    return tally.evaluation(execution=execution)
