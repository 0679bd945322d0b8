"""The upgrade gate: a baseline run against a candidate run, verdict as an exit code.

Why a separate command and not a diff of reports: CI needs one number. ``conform gate``
reads two sides (each one or more result directories: shards merge), refuses to compare
what is not comparable, and lists every finding that crosses a threshold:

- completeness: every key of the baseline that the candidate lacks crosses (an interrupted
  or smaller candidate is not a pass), and so does a check that ran fewer examples than in the
  baseline; an incomplete side (run.json) is said above the table; the same directory on both
  sides, or a side without records, is unusable input;
- regressions (a check that passed, reproduced its declared divergence or showed only a
  float32 precision effect now fails or errors) and fixes (the reverse, reported, never
  failing); a check that became ``inconclusive`` crosses too: it no longer vouches for anything;
- error growth: the worst error/allowed of a key grew by more than a factor; for a
  ``precision`` record on both sides, also the less accurate framework's float32 distance from
  the float64 result; a precision effect that appears or changes side is listed;
- golden drift: this environment's torch and TF replay the baseline's snapshot (identical
  inputs and weights) and each framework's results are compared with the baseline's own,
  so a framework that moved shows even where both moved together;
- benchmark slowdowns: a median slower than the baseline's by more than a percentage;
- pairs on one side only;
- the findings ledger: where each side holds ``findings.json`` (``conform findings --check``),
  defects a release fixed (reported) and defects it brought (crossing); and every regression
  says whether it matches a ledger entry or none (then it is the port's own, or new).

Two runs on CPUs with different vector extensions (AVX2 against AVX-512) may round float32
differently with the same frameworks: the gate says so, above its table.

Exit codes: 0 nothing crosses, 1 something does (each pair named), 2 unusable input.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.ledger import FINDINGS_FILE
from harness.results import BENCHMARKS_FILE, ENVIRONMENT_FILE, Record, ResultsError, read_directory

__all__ = [
    "Finding", "GateError", "Side", "Thresholds", "Verdict", "cpu_difference", "gate", "load_side", "text",
    "thresholds_from", "verdict_line",
]

GOOD = ("pass", "known-divergence", "precision", "inconclusive")
BAD = ("fail", "error")
# Settings that make two runs' numbers comparable; framework versions are what a gate compares.
COMPARABLE = (("hypothesis_profile",), ("max_examples",), ("derandomize",), ("settings", "threads"),
              ("settings", "TF_ENABLE_ONEDNN_OPTS"), ("bench_quick",))
# An error's growth is measured above 1% of the allowance: below it, both are rounding noise.
HEADROOM_FLOOR = 0.01


class GateError(ValueError):
    """Input the gate cannot use: missing or corrupt files, unreadable schema, incomparable runs."""


@dataclass(frozen=True)
class Thresholds:
    """What crosses: error growth factor, slowdown percentage, drift in units of the tolerance."""

    max_error_growth: float = 4.0
    max_slowdown: float = 10.0
    max_drift: float = 1.0


@dataclass(frozen=True)
class Finding:
    """One row of the gate's table."""

    kind: str
    pair: str
    what: str
    baseline: str
    candidate: str
    crosses: bool


@dataclass
class Side:
    """One side of the gate: records by key, the environment, benchmark medians, directories."""

    directories: list[Path]
    records: dict[tuple[str, ...], Record]
    environment: dict[str, Any]
    benchmarks: dict[str, float] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pairs(self) -> set[str]:
        return {key[0] for key in self.records}


def _environment(directory: Path) -> dict[str, Any]:
    path = directory / ENVIRONMENT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{directory}: no {ENVIRONMENT_FILE}; without it the runs cannot be shown comparable") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GateError(f"{path}: corrupt ({exc})") from None
    if not isinstance(data, dict):
        raise GateError(f"{path}: expected a JSON object")
    return data


def _benchmarks(directory: Path) -> dict[str, float]:
    path = directory / BENCHMARKS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {b["fullname"]: float(b["stats"]["median"]) for b in data["benchmarks"]}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GateError(f"{path}: corrupt benchmark file ({exc})") from None


def _ledger(directory: Path) -> dict[str, dict[str, Any]]:
    """``conform findings --check --out DIR``'s statuses by defect id, where the directory holds them."""
    path = directory / FINDINGS_FILE
    if not path.is_file():
        return {}
    try:
        return {r["id"]: r for r in json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise GateError(f"{path}: corrupt findings file ({exc})") from None


def load_side(directories: Sequence[Path]) -> Side:
    """One side from one or more result directories (shards of one run merge)."""
    if not directories:
        raise GateError("each side needs at least one result directory")
    dirs = [Path(d) for d in directories]
    for d in dirs:
        if not d.is_dir():
            raise GateError(f"{d}: no such result directory")
    try:
        sets = [read_directory(d) for d in dirs]
    except ResultsError as exc:
        raise GateError(str(exc)) from None
    records = [r for result in sets for r in result.records]
    merged: dict[tuple[str, ...], Record] = {}
    for r in records:
        if r.key in merged and merged[r.key].verdict != r.verdict:
            raise GateError(f"{r.key} appears twice on one side with verdicts {merged[r.key].verdict!r} and "
                            f"{r.verdict!r}: overlapping shards or two runs given as one")
        merged[r.key] = r
    environments = [_environment(d) for d in dirs]
    benchmarks: dict[str, float] = {}
    for d in dirs:
        benchmarks.update(_benchmarks(d))
    incomplete = [f"{result.directory}: {result.interrupted}" for result in sets if result.interrupted]
    statuses = {k: v for d in dirs for k, v in _ledger(d).items()}
    return Side(dirs, merged, environments[0], benchmarks, incomplete, statuses)


def _get(env: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = env
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _incomparable(base: Side, cand: Side) -> list[str]:
    return [f"{'.'.join(p)}: {_get(base.environment, p)!r} vs {_get(cand.environment, p)!r}"
            for p in COMPARABLE if _get(base.environment, p) != _get(cand.environment, p)]


def _worst(record: Record) -> float:
    return max((float(m.get("headroom", 0.0)) for m in record.metrics.values() if isinstance(m, dict)), default=0.0)


def _key_text(key: tuple[str, ...]) -> str:
    return " ".join(key[1:])


def _oracle_worst(record: Record) -> tuple[str | None, float]:
    """A precision record's less accurate framework and its worst distance from float64, in tolerances.

    Read defensively: a hand-edited or foreign oracle that lacks a number counts as none.
    """
    oracle = record.oracle or {}
    side = oracle.get("less_accurate") if isinstance(oracle.get("less_accurate"), str) else None
    tensors = oracle.get("tensors") if isinstance(oracle.get("tensors"), dict) else {}
    worst = []
    for row in tensors.values():
        distance = row.get(side) if isinstance(row, dict) and side else None
        value = distance.get("tolerances") if isinstance(distance, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            worst.append(float(value))
    return side, max(worst, default=0.0)


def _precision(key: tuple[str, ...], b: Record, c: Record, t: Thresholds) -> list[Finding]:
    """A float32 precision effect that appeared, changed side or grew."""
    side, after = _oracle_worst(c)
    if b.verdict != "precision":
        return [Finding("precision", key[0], _key_text(key), b.verdict,
                        f"precision: {side} float32 {after:.3g} tolerances from float64", False)]
    before_side, before = _oracle_worst(b)
    out = []
    if before_side != side:
        out.append(Finding("precision", key[0], _key_text(key), f"{before_side} less accurate",
                           f"{side} less accurate", False))
    growth = (after + HEADROOM_FLOOR) / (before + HEADROOM_FLOOR)
    if growth > t.max_error_growth:
        out.append(Finding("precision growth", key[0], _key_text(key), f"{before_side} {before:.3g} tolerances",
                           f"{side} {after:.3g} tolerances from float64 ({growth:.3g}x)", True))
    return out


def _missing(base: Side, cand: Side) -> list[Finding]:
    """Keys of the baseline the candidate lacks (pairs it lacks whole are one finding, in ``_one_side``)."""
    return [Finding("missing in candidate", key[0], _key_text(key), base.records[key].verdict, "no record", True)
            for key in sorted(base.records.keys() - cand.records.keys()) if key[0] in cand.pairs]


def _records(base: Side, cand: Side, t: Thresholds) -> list[Finding]:
    out = _missing(base, cand)
    for key in sorted(base.records.keys() & cand.records.keys()):
        b, c = base.records[key], cand.records[key]
        if b.verdict in GOOD and c.verdict in GOOD and c.examples < b.examples:
            out.append(Finding("fewer examples", key[0], _key_text(key), f"{b.examples} examples",
                               f"{c.examples} examples: the candidate tested less", True))
        if b.verdict in GOOD and c.verdict in BAD:
            out.append(Finding("regression", key[0], _key_text(key), b.verdict,
                               f"{c.verdict} [{_defects(c)}]: {c.message[:160]}", True))
        elif b.verdict in BAD and c.verdict in GOOD:
            out.append(Finding("fix", key[0], _key_text(key), b.verdict, c.verdict, False))
        elif c.verdict == "inconclusive" and b.verdict in GOOD and b.verdict != "inconclusive":
            out.append(Finding("coverage lost", key[0], _key_text(key), b.verdict, f"inconclusive: {c.message[:160]}",
                               True))
        elif b.verdict in GOOD and c.verdict in GOOD:
            growth = (_worst(c) + HEADROOM_FLOOR) / (_worst(b) + HEADROOM_FLOOR)
            if growth > t.max_error_growth:
                out.append(Finding("error growth", key[0], _key_text(key), f"{_worst(b):.3g} of allowed",
                                   f"{_worst(c):.3g} of allowed ({growth:.3g}x)", True))
            if c.verdict == "precision":
                out += _precision(key, b, c, t)
    return out


def _defects(record: Record) -> str:
    """Which ledger defects a failing record matches, or that it matches none (the port's own difference)."""
    ids = [f["id"] for f in record.findings or () if isinstance(f, dict) and "id" in f]
    return f"framework defect: {', '.join(ids)}" if ids else "no ledger entry"


def _ledger_changes(base: Side, cand: Side) -> list[Finding]:
    """Ledger entries whose reproducer changed its answer between the two environments (``findings.json``)."""
    out = []
    for defect in sorted(base.ledger.keys() & cand.ledger.keys()):
        b, c = base.ledger[defect], cand.ledger[defect]
        was, now = f"{b['status']} ({b.get('version')})", f"{c['status']} ({c.get('version')})"
        if b["status"] == "present" and c["status"] == "fixed":
            out.append(Finding("ledger: fixed", defect, f"{c.get('framework')} defect", was, now, False))
        elif b["status"] == "fixed" and c["status"] == "present":
            out.append(Finding("ledger: appeared", defect, f"{c.get('framework')} defect", was, now, True))
        elif b["status"] not in ("present", "fixed") and c["status"] in ("present", "fixed"):
            # not runnable in the baseline (a package missing there): nothing to compare, so not a change
            out.append(Finding("ledger: unchecked in baseline", defect, f"{c.get('framework')} defect", was, now,
                               False))
    return out


def _conventions(base: Side, cand: Side) -> list[Finding]:
    """Atlas conventions whose measured outcome differs between the two sides: a release changed a default."""
    from harness.report.atlas import conventions, outcome

    before, after = conventions(list(base.records.values())), conventions(list(cand.records.values()))
    out = []
    for pair in sorted(before.keys() & after.keys()):
        was, now = outcome(before[pair])[0], outcome(after[pair])[0]
        if was != now:
            atlas = before[pair][0].origin["atlas"]
            out.append(Finding("convention changed", pair, f"{atlas.get('torch')} / {atlas.get('keras')}: "
                               f"{atlas.get('setting')}", was, now, True))
    return out


def cpu_difference(base: Side, cand: Side) -> str | None:
    """A line saying the two runs' CPUs differ in the vector extensions float32 kernels use, if they do."""
    def of(side: Side) -> tuple[Any, Any]:
        ext = side.environment.get("cpu_vector_extensions") or {}
        return tuple(ext.get("flags") or ()), ext.get("torch_cpu_capability")

    if of(base) == of(cand) or not (base.environment.get("cpu_vector_extensions")
                                    and cand.environment.get("cpu_vector_extensions")):
        return None
    (bf, bc), (cf, cc) = of(base), of(cand)
    only_b, only_c = sorted(set(bf) - set(cf)), sorted(set(cf) - set(bf))
    return (f"the two runs' CPUs differ in vector extensions (baseline only: {only_b or 'none'}, torch {bc}; "
            f"candidate only: {only_c or 'none'}, torch {cc}): float32 results may round differently with the "
            "same frameworks")


def _one_side(base: Side, cand: Side) -> list[Finding]:
    return ([Finding("baseline only", p, "pair", "present", "absent", True) for p in sorted(base.pairs - cand.pairs)]
            + [Finding("candidate only", p, "pair", "absent", "present", True)
               for p in sorted(cand.pairs - base.pairs)])


def _slowdowns(base: Side, cand: Side, t: Thresholds) -> list[Finding]:
    out = []
    for name in sorted(base.benchmarks.keys() & cand.benchmarks.keys()):
        b, c = base.benchmarks[name], cand.benchmarks[name]
        change = 100.0 * (c / b - 1.0) if b > 0 else 0.0
        if change > t.max_slowdown:
            pair = name.split("[", 1)[-1].split("-", 1)[0]
            out.append(Finding("slowdown", pair, name.split("::")[-1], f"{b * 1e6:.1f} µs",
                               f"{c * 1e6:.1f} µs (+{change:.0f}%)", True))
    return out


def _drift(base: Side, t: Thresholds, pairs: dict[str, Any]) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Replay the baseline's snapshot here; one finding per pair x framework x dtype that moved."""
    from harness import snapshot

    snap_dir = next((d for d in base.directories if (d / snapshot.SNAPSHOT_DIR).is_dir()), None)
    if snap_dir is None:
        return [], []
    try:
        drifts, problems = snapshot.replay(snap_dir, pairs)
    except snapshot.SnapshotError as exc:
        raise GateError(str(exc)) from None
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for d in drifts:
        groups.setdefault((d.pair, d.framework, d.dtype), []).append(d)
    summary, out = [], []
    for key in sorted(groups):
        worst = max(groups[key], key=lambda d: d.headroom)
        identical = all(d.identical for d in groups[key])
        summary.append({"pair": worst.pair, "framework": worst.framework, "dtype": worst.dtype, "tensor": worst.tensor,
                        "case": worst.case, "max_abs": worst.max_abs, "max_rel": worst.max_rel,
                        "headroom": worst.headroom, "identical": identical})
        if not identical:
            out.append(Finding("golden drift", worst.pair, f"{worst.framework} {worst.dtype} {worst.tensor} "
                               f"(case {worst.case})", "snapshot", f"moved {worst.max_abs:.3g} abs, "
                               f"{worst.max_rel:.3g} rel ({worst.headroom:.3g} of the tolerance)",
                               worst.headroom > t.max_drift))
    out += [Finding("golden drift", p, "replay", "snapshot", why, True) for p, why in problems.items()]
    return sorted(out, key=lambda f: (f.pair, f.what)), summary


@dataclass
class Verdict:
    findings: list[Finding]
    drift: list[dict[str, Any]]
    base: Side
    cand: Side

    @property
    def code(self) -> int:
        return 1 if any(f.crosses for f in self.findings) else 0

    @property
    def failing_pairs(self) -> list[str]:
        return sorted({f.pair for f in self.findings if f.crosses})


def _unusable(base: Side, cand: Side) -> str | None:
    """Why two sides cannot be gated at all: the same run on both, or a side with nothing in it."""
    same = {d.resolve() for d in base.directories} & {d.resolve() for d in cand.directories}
    if same:
        return f"the same directory is on both sides ({', '.join(map(str, sorted(same)))}): nothing would be compared"
    for label, side in (("baseline", base), ("candidate", cand)):
        if not side.records and not side.benchmarks:
            return f"the {label} ({', '.join(map(str, side.directories))}) holds no record and no benchmark"
    return None


def gate(base: Side, cand: Side, t: Thresholds, pairs: dict[str, Any] | None = None) -> Verdict:
    """Compare two sides; ``pairs`` (the registry here) enables the golden-drift replay."""
    unusable = _unusable(base, cand)
    if unusable:
        raise GateError(unusable)
    differences = _incomparable(base, cand)
    if differences:
        raise GateError("the two runs used different settings and are not comparable: " + "; ".join(differences))
    findings = (_records(base, cand, t) + _conventions(base, cand) + _ledger_changes(base, cand)
                + _one_side(base, cand) + _slowdowns(base, cand, t))
    drift: list[dict[str, Any]] = []
    if pairs is not None:
        more, drift = _drift(base, t, pairs)
        findings += more
    return Verdict(findings, drift, base, cand)


def thresholds_from(pyproject: Path, **given: float | None) -> tuple[Thresholds, dict[str, Any]]:
    """Thresholds from ``[tool.conform.gate]`` (command-line values win), and that table."""
    table: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("conform", {}) \
                .get("gate", {})
        except tomllib.TOMLDecodeError as exc:
            raise GateError(f"{pyproject}: not valid TOML ({exc})") from None
    known = {"baseline", "candidate", "max_error_growth", "max_slowdown", "max_drift"}
    unknown = set(table) - known
    if unknown:
        raise GateError(f"{pyproject} [tool.conform.gate]: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    values = {k: float(table[k]) for k in ("max_error_growth", "max_slowdown", "max_drift") if k in table}
    values.update({k: float(v) for k, v in given.items() if v is not None})
    bad = {k: v for k, v in values.items() if v <= 0}
    if bad:
        raise GateError(f"thresholds must be positive. Received: {bad}")
    return Thresholds(**values), table


def text(verdict: Verdict) -> str:
    """The table CI prints."""
    b, c = verdict.base.environment, verdict.cand.environment
    lines = [f"baseline : {', '.join(map(str, verdict.base.directories))} (torch {b.get('torch_version')}, "
             f"tensorflow {b.get('tensorflow_version')})",
             f"candidate: {', '.join(map(str, verdict.cand.directories))} (torch {c.get('torch_version')}, "
             f"tensorflow {c.get('tensorflow_version')})",
             f"records compared: {len(verdict.base.records.keys() & verdict.cand.records.keys())}; "
             f"benchmarks compared: {len(verdict.base.benchmarks.keys() & verdict.cand.benchmarks.keys())}; "
             f"snapshot tensors replayed: {'yes' if verdict.drift else 'no snapshot'}"]
    cpu = cpu_difference(verdict.base, verdict.cand)
    if cpu:
        lines.append(f"note: {cpu}")
    for label, side in (("baseline", verdict.base), ("candidate", verdict.cand)):
        lines += [f"note: the {label} is incomplete: {why}" for why in side.incomplete]
    unexplained = [f for f in verdict.findings if f.kind == "regression" and "[no ledger entry]" in f.candidate]
    if verdict.base.ledger and verdict.cand.ledger:
        lines.append(f"ledger: {len(verdict.base.ledger)} defects re-checked on both sides; "
                     f"{sum(f.kind == 'ledger: fixed' for f in verdict.findings)} fixed, "
                     f"{sum(f.kind == 'ledger: appeared' for f in verdict.findings)} appeared, "
                     f"{sum(f.kind == 'ledger: unchecked in baseline' for f in verdict.findings)} checked in the "
                     "candidate only")
    lines.append(f"new failures that match no ledger entry: {len(unexplained)}"
                 + (f" ({', '.join(sorted({f.pair for f in unexplained}))})" if unexplained else ""))
    if verdict.findings:
        rows = [("", "kind", "pair", "what", "baseline", "candidate")]
        rows += [("!!" if f.crosses else "", f.kind, f.pair, f.what, f.baseline, f.candidate)
                 for f in verdict.findings]
        widths = [min(max(len(r[i]) for r in rows), 60) for i in range(5)]
        for r in rows:
            lines.append("  ".join(r[i][:60].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    else:
        lines.append("no differences")
    return "\n".join(lines)


def verdict_line(verdict: Verdict) -> str:
    """The last line CI shows: the verdict and every pair that crossed a threshold."""
    return f"gate: FAIL (exit 1): {', '.join(verdict.failing_pairs)}" if verdict.code else "gate: PASS (exit 0)"
