"""What a run selects, validated before anything runs: pairs x checks x dtypes x modes on a device.

One function for the ``conform`` command and the pytest plugin, so that the command can refuse
a selection that is empty, a device that does not exist and a case that does not fit its pair
with exit 2 and a reason, instead of letting pytest report an empty parameter set as a skip
(exit 0) or every check as an error record (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.cases import Case
from harness.check import Target
from harness.registry import Catalogue
from harness.spec import CHECKS, DTYPES, MODES, LayerPair

__all__ = [
    "Options", "SelectionError", "case_problem", "device_problem", "nothing_selected", "record", "shard", "sharded",
    "targets",
]

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


class SelectionError(ValueError):
    """A selection that cannot run: the message says what was asked and what exists."""


@dataclass(frozen=True)
class Options:
    """The selection as given on the command line (``None`` for checks: each pair's own)."""

    pairs: Sequence[str]
    pairs_from: Sequence[str]
    checks: Sequence[str] | None
    dtypes: Sequence[str]
    modes: Sequence[str]
    device: str


def record(options: Options, *, shard: str | None, case: str | None, max_examples: int | None,
           profile: str) -> dict[str, object]:
    """The selection as run.json keeps it: what ``--resume`` must find unchanged to append to a run."""
    return {"pairs": sorted(options.pairs), "pairs_from": sorted(options.pairs_from),
            "checks": sorted(options.checks) if options.checks else None, "dtypes": sorted(options.dtypes),
            "modes": sorted(options.modes), "device": options.device, "shard": shard, "case": case,
            "max_examples": max_examples, "profile": profile}


def _chosen(catalogue: Catalogue, options: Options) -> list[LayerPair]:
    if options.pairs or not options.pairs_from:
        return catalogue.select(options.pairs)
    return [p for n, p in catalogue.pairs.items() if n in catalogue.sources]


def targets(catalogue: Catalogue, options: Options) -> list[Target]:
    """Every pair x check x dtype x mode the options select, in a stable order; unknown names raise."""
    for what, given, known in (("dtype", options.dtypes, DTYPES), ("modes", options.modes, MODES),
                               ("checks", options.checks or (), CHECKS)):
        bad = [v for v in given if v not in known]
        if bad:
            raise SelectionError(f"--{what}: unknown {bad}; known: {list(known)}")
    return [
        Target(pair, check, dtype, options.device, mode, catalogue.sources.get(pair.name))
        for pair in _chosen(catalogue, options)
        for check in pair.checks
        if options.checks is None or check in options.checks
        for dtype in options.dtypes
        for mode in pair.modes_for(check)
        if mode in options.modes
    ]


def nothing_selected(catalogue: Catalogue, options: Options) -> str:
    """Why a selection is empty, naming what the chosen pairs do declare."""
    pairs = _chosen(catalogue, options)
    if not pairs:
        files = ", ".join(options.pairs_from) or "the catalogue"
        return f"nothing selected: no pair is defined in {files}"
    declared = sorted({c for p in pairs for c in p.checks})
    modes = sorted({m for p in pairs for c in p.checks for m in p.modes_for(c)})
    return (f"nothing selected: the {len(pairs)} chosen pair(s) declare checks {declared} in modes {modes}; "
            f"asked for checks {list(options.checks) if options.checks else 'all'} in modes {list(options.modes)}")


def shard(value: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), 1 <= I <= N; ValueError with the rule otherwise."""
    try:
        index, count = (int(v) for v in value.split("/"))
    except ValueError:
        raise ValueError(f"a shard is I/N with integers, e.g. 2/4. Received: {value!r}") from None
    if not 1 <= index <= count:
        raise ValueError(f"a shard I/N needs 1 <= I <= N. Received: {value!r}")
    return index, count


def sharded(ids: Sequence[str], value: str | None) -> set[str]:
    """The ids slice I of N keeps: every N-th in sorted order, from the I-th (stable across machines)."""
    if not value:
        return set(ids)
    index, count = shard(value)
    return {i for rank, i in enumerate(sorted(ids)) if rank % count == index - 1}


def device_problem(device: str) -> str | None:
    """Why ``device`` cannot be run on here, or None. Names that are no device at all are refused too."""
    if not _DEVICE.match(device):
        return f"unknown device {device!r}: use cpu, cuda or cuda:N"
    if device == "cpu":
        return None
    from harness import devices

    return devices.unavailable("torch", device)


def case_problem(pair: LayerPair, case: Case) -> str | None:
    """Why a ``--case`` cannot be a case of ``pair`` (dims it lacks or does not have), or None."""
    missing = [d for d in pair.dims if d not in case.params]
    extra = [d for d in case.params if d not in pair.dims]
    if not missing and not extra:
        return None
    parts = ([f"lacks {missing}"] if missing else []) + ([f"has dims the pair does not: {extra}"] if extra else [])
    return f"--case for pair {pair.name!r} {' and '.join(parts)}; its dims are {list(pair.dims)}"
