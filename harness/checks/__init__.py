"""The checks, one module each, and the table that dispatches a target to its check.

Layering (tests/test_layering.py keeps it true): :mod:`harness.engine` builds and runs a case
and never imports this package; each check module imports the engine and compares what its
question is about; :mod:`harness.check` turns a check into a record and imports only
:func:`evaluate` and :func:`tf_absent` (which declarations it can judge) from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness import devices
from harness.cases import Case
from harness.checks import parameters, serialization, state, statistics, training, values
from harness.compare import policy_for
from harness.engine import Evaluation

__all__ = ["RUNNERS", "TORCH_ONLY_CHECKS", "evaluate", "tf_absent"]

# What a GPU run still checks where TF has no GPU: torch's GPU kernels against its CPU ones.
TORCH_ONLY_CHECKS = ("forward", "gradient")

Runner = Callable[[Any, Case, str, Any, bool], Evaluation]
RUNNERS: dict[str, Runner] = {
    "parameters": parameters.evaluate,
    "forward": values.evaluate,
    "gradient": values.evaluate,
    "state": state.evaluate,
    "statistics": statistics.evaluate,
    "serialization": serialization.evaluate,
    "train_step": training.evaluate,
}


def tf_absent(target: Any) -> str | None:
    """Why this record compares torch on its device with torch on the CPU alone (TF has no GPU here), or None."""
    return devices.unavailable("tf", target.device) if target.check in TORCH_ONLY_CHECKS else None


def evaluate(target: Any, case: Case, dtype: str | None = None, localise: bool = False) -> Evaluation:
    """Run one case for ``target.check`` (in ``dtype``, default the target's) and compare what that check looks at."""
    pair, dtype = target.pair, dtype or target.dtype
    policy = policy_for(dtype, pair.tolerance_override(target.check, dtype))
    if tf_absent(target):
        return values.across_devices(target, case, dtype, policy, localise)
    with devices.tf_scope(target.device):  # TF would put a CPU run on a GPU it sees, and needs telling
        return RUNNERS[target.check](target, case, dtype, policy, localise)
