"""Verdicts that do not depend on the CPU: the sensitive records again under other kernels and thread counts.

Why: CI runs on whichever machine a submission gets (an AVX-512 Xeon one day, an AMD EPYC the
next), and a correct record that passes on one and fails on another blocks a correct change.
Three things decide how a CPU rounds, and each can be switched on one machine:

* torch's vectorised kernels, ``ATEN_CPU_CAPABILITY`` (``default``, ``avx2``, ``avx512``: each
  that this CPU has), with XLA's instruction set to match (``--xla_cpu_max_isa``: SSE4_2,
  AVX2, AVX512) for compiled TF;
* the thread count (``CONFORM_THREADS``: 1 and 2), which changes the order of parallel
  reductions in both frameworks;
* MKL's code path, ``MKL_CBWR`` (``COMPATIBLE``, ``AVX2``): MKL takes other paths on AMD
  and Intel processors, and torch's CPU matmuls are MKL's.

The *base* configuration (this machine as it is) runs the whole selection. A record is
*sensitive* when it came within ``1/100`` of its allowed error in some example, was judged
against a noise floor (:mod:`harness.noise`), or did not pass; every other configuration runs
the sensitive records again, and a record whose verdict differs from the base's is a finding:
``conform robust`` exits 1 and names it. One change is reported and does not fail:
``pass`` against ``precision`` (:data:`ROUNDING`), unless ``--fail-on precision`` makes
``precision`` fail the run. Each configuration is a ``conform run`` process of
its own, since the kernels are chosen when the frameworks load, and each kernel set compiles
into an inductor cache of its own: inductor's cache key misses the capability, and reuses
kernels compiled for another one (ledger: ``torch-inductor-cache-cpu-capability``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.environment import compile_caches
from harness.results import Record, ResultsError, read_directory

__all__ = ["ROUNDING", "SENSITIVE_HEADROOM", "Config", "configurations", "differences", "environment",
           "main_configuration", "robust", "sensitive", "text"]

SENSITIVE_HEADROOM = 0.01
# Verdicts that both say "the same function, up to float32 rounding". How far a float32 kernel rounds from the
# float64 result is the CPU's: torch's AVX-512 LayerNorm backward leaves 2.6e-5 in a weight gradient whose float64
# value is -1.7e-12 (4x the float32 tolerance: `precision`, torch named), its default kernels stay within the
# tolerance (`pass`). Neither says the port is wrong, so a change between them fails only where `precision` fails
# the run (`--fail-on precision`); it is listed either way, with the float64 oracle's account.
ROUNDING = frozenset({"pass", "precision"})
_XLA_ISA = {"default": "SSE4_2", "avx2": "AVX2", "avx512": "AVX512"}
_AVX512 = ("avx512f", "avx512bw", "avx512vl")


@dataclass(frozen=True)
class Config:
    """One way of running: a name and the environment variables it sets (on top of this process's)."""

    name: str
    env: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.env.items())) or "this machine as it is"


def _capabilities(flags: Sequence[str]) -> list[str]:
    """The torch kernel sets this CPU can run (x86: from its flags; elsewhere only the default)."""
    found = ["default"]
    if "avx2" in flags and "fma" in flags:
        found.append("avx2")
    if all(f in flags for f in _AVX512):
        found.append("avx512")
    return found


def main_configuration() -> Config:
    return Config("base")


def configurations(flags: Sequence[str], threads: Sequence[int] = (1, 2)) -> list[Config]:
    """Every configuration this CPU offers, the base first: each kernel set x each thread count, then MKL's paths."""
    out = [main_configuration()]
    for capability in _capabilities(flags):
        for n in threads:
            out.append(Config(f"{capability}-{n}t", {"ATEN_CPU_CAPABILITY": capability, "CONFORM_THREADS": str(n),
                                                   "XLA_FLAGS": f"--xla_cpu_max_isa={_XLA_ISA[capability]}"}))
    if "avx2" in flags:  # MKL's CBWR branches are x86 code paths
        out += [Config(f"mkl-{path.lower()}", {"MKL_CBWR": path}) for path in ("COMPATIBLE", "AVX2")]
    return out


def _headroom(record: Record) -> float:
    values = [e.get("headroom", 0.0) for e in record.per_example]
    values = [float(v) for v in values if v not in ("inf", "nan")] + \
        [float("inf") for v in values if v in ("inf", "nan")]
    return max(values, default=0.0)


def sensitive(records: Sequence[Record]) -> list[Record]:
    """The records whose verdict another CPU could plausibly change (see the module docstring)."""
    return [r for r in records if r.verdict not in ("skip",) and (
        r.verdict != "pass" or r.noise_floor is not None or _headroom(r) >= SENSITIVE_HEADROOM)]


def differences(base: Sequence[Record], others: Mapping[str, Sequence[Record]],
                fail_on: Sequence[str] = ("fail", "error")) -> list[dict[str, Any]]:
    """Every sensitive record whose verdict differs in a configuration (or is missing there); ``outcome`` says
    whether the change fails (anything but :data:`ROUNDING` with ``precision`` not among ``fail_on``)."""
    found = []
    for name, records in others.items():
        by_key = {r.key: r for r in records}
        for r in base:
            other = by_key.get(r.key)
            if other is None or other.verdict != r.verdict:
                rounding = other is not None and {r.verdict, other.verdict} <= ROUNDING and "precision" not in fail_on
                why = other.message if other and (other.verdict != "pass" or not rounding) else r.message
                found.append({"config": name, "key": list(r.key), "base": r.verdict,
                              "other": other.verdict if other else "missing", "outcome": not rounding,
                              "message": (why if other else "no record was written")[:400]})
    return found


def environment(config: Config) -> dict[str, str]:
    """The process environment of a configuration's run: this one's, its settings, and a kernel set's own
    inductor cache (inductor's cache key misses the capability: ledger ``torch-inductor-cache-cpu-capability``)."""
    env = {**os.environ, **config.env}
    capability = config.env.get("ATEN_CPU_CAPABILITY")
    if capability:
        env["TORCHINDUCTOR_CACHE_DIR"] = f"{compile_caches()['torch_inductor']['directory']}-{capability}"
    return env


def _run(config: Config, run_args: Sequence[str], out: Path, keys: Path | None) -> int:
    env = environment(config)
    command = [sys.executable, "-m", "harness", "run", *run_args, "--out", str(out), "--overwrite", "--fail-on",
               "fail,error"]
    if keys is not None:
        command += ["--", f"--conform-keys={keys}"]
    print(f"conform robust: {config.name} ({config.describe()})", flush=True)
    return subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False).returncode


def _read(out: Path) -> list[Record]:
    try:
        return read_directory(out).records
    except (ResultsError, FileNotFoundError):
        return []


def robust(run_args: Sequence[str], out: Path, configs: Sequence[Config], everything: bool = False,
           fail_on: Sequence[str] = ("fail", "error")) -> dict[str, Any]:
    """Run ``configs`` (the first is the base) and compare the sensitive records' verdicts (``everything``:
    every record's); the summary."""
    out.mkdir(parents=True, exist_ok=True)
    base_config, *rest = configs
    code = _run(base_config, run_args, out / base_config.name, None)
    base = _read(out / base_config.name)
    if code not in (0, 1) or not base:
        return {"error": f"the base run exited {code} with {len(base)} records: see `conform run {' '.join(run_args)}`"}
    chosen = [r for r in base if r.verdict != "skip"] if everything else sensitive(base)
    keys = out / "sensitive.json"
    keys.write_text(json.dumps([list(r.key) for r in chosen]))
    others = {}
    for config in rest if chosen else ():
        _run(config, run_args, out / config.name, keys)
        others[config.name] = _read(out / config.name)
    summary = {"configs": {c.name: c.describe() for c in configs}, "records": len(base), "sensitive": len(chosen),
               "verdicts": dict(Counter(r.verdict for r in chosen)),
               "fail_on": list(fail_on), "differences": differences(chosen, others, fail_on)}
    (out / "robust.json").write_text(json.dumps(summary, indent=2))
    return summary


def text(summary: Mapping[str, Any]) -> str:
    """What a person reads: the configurations, how many records were sensitive, every verdict that changed."""
    lines = [f"conform robust: {summary['sensitive']} of {summary['records']} records sensitive "
             f"(within {1 / SENSITIVE_HEADROOM:g}x of their allowed error, judged against a noise floor, or not "
             f"a pass), run again under {len(summary['configs']) - 1} configuration(s):"]
    lines += [f"  {name:<16} {what}" for name, what in summary["configs"].items()]
    changed = [d for d in summary["differences"] if d.get("outcome", True)]
    rounding = [d for d in summary["differences"] if not d.get("outcome", True)]
    for label, found in (("CHANGED", changed), ("ROUNDING", rounding)):
        for d in found:
            lines.append(f"{label} under {d['config']}: {'/'.join(d['key'])}: {d['base']} -> {d['other']}")
            lines.append(f"    {d['message'].splitlines()[0] if d['message'] else ''}")
    if not changed:
        lines.append(f"no verdict changed (failing verdicts: {', '.join(summary.get('fail_on', ('fail', 'error')))})")
    if rounding:
        lines.append(f"{len(rounding)} change(s) between pass and precision: a float32 effect of the kernels, not the "
                     "port's; they fail only with --fail-on precision")
    return "\n".join(lines)
