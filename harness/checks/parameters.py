"""The ``parameters`` check: do the two layers have corresponding parameter sets?

The weight map is planned against both real layers: every torch parameter and buffer must
have a Keras variable of the right shape and trainability, and no Keras variable may be left
unfilled. A misfit here is the finding (two ports that would train different sets), so it is
a failing metric listing every problem rather than an error.
"""

from __future__ import annotations

from typing import Any

from harness import bridge
from harness.cases import Case
from harness.compare import Policy
from harness.engine import Evaluation, flag, prepare

__all__ = ["evaluate"]


def evaluate(target: Any, case: Case, dtype: str, _policy: Policy, _localise: bool) -> Evaluation:
    try:
        tw = prepare(target, case, dtype)
    except bridge.WeightMapError as exc:
        return Evaluation([flag("weight map", False, "\n".join(exc.problems))])
    return Evaluation([flag("weight map", True, f"{len(tw.slots)} entries correspond")])
