"""Golden snapshots: fixed cases with their inputs, weights and each framework's results, as .npz.

Why: cross-framework conformance can keep passing while *both* frameworks move (a new
oneDNN kernel, a changed reduction order in one release). A snapshot pins, per pair, a few
seeded cases -- inputs, canonical weights, the cotangent -- and what torch and TF computed
from them. Replaying a snapshot in another environment runs *its* torch and *its* TF on the
identical inputs and weights and says, per framework, how far each output and gradient
moved: torch X vs torch X+1, independently of the other framework.

Layout: ``DIR/snapshot/index.json`` (seed, cases, per-pair file or error) and one
``DIR/snapshot/<pair>.npz`` per pair with keys ``<case>/<dtype>/<kind>/<name>``: ``input``,
``cotangent`` and ``weight`` (canonical, torch layout), and ``torch`` / ``tf`` results
(``output``, ``grad_input``, ``grad``; TF's brought back to torch layout).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness import devices
from harness.cases import Case
from harness.compare import compare, magnitude, policy_for
from harness.spec import DTYPES, LayerPair

__all__ = ["SNAPSHOT_DIR", "Drift", "SnapshotError", "replay", "write"]

SNAPSHOT_DIR = "snapshot"
INDEX = "index.json"
VERSION = 1
SEED = 20261124
FRAMEWORKS = ("torch", "tf")


class SnapshotError(ValueError):
    """A snapshot directory that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Drift:
    """How far one framework's result for one tensor moved from the snapshot."""

    pair: str
    case: int
    dtype: str
    framework: str
    tensor: str
    max_abs: float
    max_rel: float
    headroom: float
    identical: bool


def _cases(pair: LayerPair) -> list[Case]:
    """The pair's snapshot cases: its minimal case and its small bench size, seeded."""
    from harness.coverage import minimal_case

    cases = [Case(minimal_case(pair).params, "normal", SEED)]
    if pair.bench is not None:
        cases.append(Case(dict(pair.bench.small), "normal", SEED + 1))
    return cases


def _target(pair: LayerPair, dtype: str) -> Any:
    from harness.check import Target

    return Target(pair, "gradient", dtype)


def _results(pair: LayerPair, tw: Any, th: Any, tf: Any, grad: bool) -> dict[str, dict[str, np.ndarray]]:
    """Each framework's outputs and gradients, TF's in torch's layout and canonical names."""
    from harness.engine import tf_gradients, tf_outputs

    out = {"torch": {f"output/{i}": o for i, o in enumerate(th.outputs)},
           "tf": {f"output/{i}": o for i, o in enumerate(tf_outputs(pair, tf))}}
    if not grad:
        return out
    tf_inputs, tf_params = tf_gradients(pair, tw.slots, tf)
    for framework, inputs, params in (("torch", th.input_grads, th.param_grads), ("tf", tf_inputs, tf_params)):
        out[framework].update({f"grad_input/{i}": g for i, g in enumerate(inputs) if g is not None})
        out[framework].update({f"grad/{k}": v for k, v in params.items() if v is not None})
    return out


def _run(pair: LayerPair, case: Case, dtype: str, saved: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """One case through both frameworks: drawn from the seed, or (``saved``) replayed exactly."""
    from harness.engine import prepare, run_both

    grad = "gradient" in pair.checks
    target = _target(pair, dtype)
    given: dict[str, Any] = {}
    weights = None
    if saved is not None:
        weights = {k[len("weight/"):]: v for k, v in saved.items() if k.startswith("weight/")}
        given["inputs"] = [saved[f"input/{i}"] for i in range(len(pair.inputs))]
        given["cotangents"] = [saved[f"cotangent/{i}"] for i in range(sum(k.startswith("cotangent/") for k in saved))]
    with devices.tf_scope("cpu"):
        tw = prepare(target, case, dtype, weights)
        run = run_both(target, tw, dtype, case, grad, **given)
    flat: dict[str, np.ndarray] = {f"input/{i}": x for i, x in enumerate(run.inputs)}
    flat.update({f"cotangent/{i}": c for i, c in enumerate(run.th.cotangents or [])})
    flat.update({f"weight/{k}": v for k, v in tw.values.items()})
    for framework, arrays in _results(pair, tw, run.th, run.tf, grad).items():
        flat.update({f"{framework}/{k}": v for k, v in arrays.items()})
    return flat


def write(pairs: Iterable[LayerPair], directory: Path) -> dict[str, Any]:
    """Snapshot every pair into ``directory/snapshot``; a pair that raises is recorded, not fatal."""
    target = Path(directory) / SNAPSHOT_DIR
    target.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"version": VERSION, "seed": SEED, "dtypes": list(DTYPES), "pairs": {}}
    for pair in pairs:
        if "forward" not in pair.checks:
            continue  # parameters-only pairs: the tutorial's layer cannot run
        entry: dict[str, Any] = {"cases": []}
        try:
            arrays: dict[str, np.ndarray] = {}
            for i, case in enumerate(_cases(pair)):
                entry["cases"].append(case.to_json())
                for dtype in DTYPES:
                    arrays.update({f"{i}/{dtype}/{k}": v for k, v in _run(pair, case, dtype).items()})
            np.savez_compressed(target / f"{pair.name}.npz", **arrays)
            entry["file"] = f"{pair.name}.npz"
        except Exception as exc:  # noqa: BLE001 - one pair's failure is recorded; the rest still snapshot
            entry["error"] = f"{type(exc).__name__}: {exc}"
        index["pairs"][pair.name] = entry
    (target / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index


def read_index(directory: Path) -> dict[str, Any]:
    path = Path(directory) / SNAPSHOT_DIR / INDEX
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{directory}: no {SNAPSHOT_DIR}/{INDEX} (write one with `conform snapshot`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{path}: unreadable ({exc})") from None
    if not isinstance(index, dict) or index.get("version") != VERSION or not isinstance(index.get("pairs"), dict):
        raise SnapshotError(f"{path}: not a snapshot index of version {VERSION}")
    return index


def _drifts(pair: str, case: int, dtype: str, saved: dict[str, np.ndarray],
            now: dict[str, np.ndarray]) -> list[Drift]:
    policy = policy_for(dtype)
    out = []
    for framework in FRAMEWORKS:
        names = sorted(k for k in saved if k.startswith(f"{framework}/"))
        scale = magnitude(*(saved[k] for k in names))
        for name in names:
            old, new = saved[name], now.get(name)
            if new is None or new.shape != old.shape:
                out.append(Drift(pair, case, dtype, framework, name, float("inf"), float("inf"), float("inf"), False))
                continue
            m = compare(name, new, old, policy, group_scale=scale)
            out.append(Drift(pair, case, dtype, framework, name, m.max_abs_error, m.max_rel_error, m.headroom,
                             bool(np.array_equal(old, new))))
    return out


def replay(directory: Path, pairs: dict[str, LayerPair]) -> tuple[list[Drift], dict[str, str]]:
    """Run this environment's torch and TF on a snapshot's inputs and weights; drift per tensor.

    Returns the drifts and, per pair, why it was not replayed (unknown here, snapshot error,
    a layer that now raises).
    """
    index = read_index(directory)
    drifts: list[Drift] = []
    problems: dict[str, str] = {}
    for name, entry in sorted(index["pairs"].items()):
        if "error" in entry:
            problems[name] = f"not in the snapshot: {entry['error']}"
            continue
        if name not in pairs:
            problems[name] = "not registered in this environment"
            continue
        try:
            with np.load(Path(directory) / SNAPSHOT_DIR / entry["file"]) as data:
                stored = {k: data[k] for k in data.files}
        except Exception as exc:  # noqa: BLE001 - a damaged file is this pair's problem
            raise SnapshotError(f"{directory}/{SNAPSHOT_DIR}/{entry.get('file')}: unreadable ({exc})") from None
        try:
            for i, case_json in enumerate(entry["cases"]):
                case = Case.from_json(case_json)
                for dtype in index["dtypes"]:
                    prefix = f"{i}/{dtype}/"
                    saved = {k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}
                    drifts += _drifts(name, i, dtype, saved, _run(pairs[name], case, dtype, saved))
        except Exception as exc:  # noqa: BLE001 - a layer that raises now is reported, the rest replay
            problems[name] = f"replay raised {type(exc).__name__}: {exc}"
    return drifts, problems
