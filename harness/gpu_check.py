"""``make gpu-check``: the GPU path in one command, one summary, a few minutes on a machine with a GPU.

Why one command: a GPU is lent rarely and briefly, and the first run on one found four harness
defects and a torch CUDA bug at once. This runs, each step in its own process with its own time
limit, so that one step's crash or hang costs only that step:

1. the CUDA tests (``tests/test_devices.py``: the clock against CUDA events, GPU vs CPU);
2. ``conform run --device cuda`` over the catalogue, forward and gradient, eval and train,
   at the smoke profile, one process per core;
3. the same in graph mode (``torch.compile`` on the GPU) on a handful of pairs;
4. ``conform bench --device cuda --sizes gpu`` on a handful of pairs: the size that fills the
   device, each layer's GFLOP/s beside the device's own matmul rate.

It works where TF has no GPU or is not installed (torch on the GPU is then compared with torch
on the CPU). Exit 0 when no record fails or errors, 1 when one does, 2 without a CUDA device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["GRAPH_PAIRS", "BENCH_PAIRS", "main", "summary"]

GRAPH_PAIRS = ("dense_bias_001", "conv_block_002", "layer_norm_002", "my_rnn_sequence_001", "self_attention_002")
BENCH_PAIRS = ("raw_linear_002", "custom_conv2d_003", "self_attention_002", "layer_norm_002", "simple_unet_002")
# Seconds per step: together five minutes at most, whatever hangs.
LIMITS = {"tests": 60, "run": 120, "graph": 60, "bench": 60}


def _step(name: str, command: list[str], out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LIMITS[name], check=False)
        code, text = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, text = "timeout", f"{exc.stdout or ''}{exc.stderr or ''}\nstopped after {LIMITS[name]} s"
    (out / f"{name}.log").write_text(text if isinstance(text, str) else text.decode(errors="replace"))
    return {"step": name, "exit": code, "seconds": round(time.perf_counter() - started, 1)}


def _records(directory: Path) -> list[dict[str, Any]]:
    path = directory / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _benchmarks(directory: Path) -> list[dict[str, Any]]:
    path = directory / "benchmarks.json"
    return json.loads(path.read_text())["benchmarks"] if path.is_file() else []


def summary(steps: list[dict[str, Any]], out: Path) -> tuple[str, int]:
    """The one summary a person reads, and the exit code: records by verdict, every failure, the bench table."""
    lines = ["step      exit  seconds"] + [f"{s['step']:<9} {s['exit']!s:<5} {s['seconds']:>7}" for s in steps]
    bad = []
    for run in ("run", "graph"):
        records = _records(out / run)
        counts = Counter(r["verdict"] for r in records)
        lines.append(f"{run}: {len(records)} records: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
        bad += [r for r in records if r["verdict"] in ("fail", "error")]
    for r in bad:
        first = (r.get("message") or "").splitlines()[:1]
        lines.append(f"  {r['verdict']:<5} {r['pair']} {r['check']} {r['dtype']} {r['mode']}: "
                     f"{first[0] if first else ''}")
    lines.append("bench (gpu size): pair, framework, pass, median, GFLOP/s, share of the device's matmul, launch share")
    for b in _benchmarks(out / "bench"):
        x = b.get("extra_info", {})
        share = x.get("fraction_of_peak")
        lines.append(f"  {x.get('pair')} {x.get('framework')} {x.get('pass')} {b['stats']['median'] * 1e3:.3f} ms "
                     f"{x.get('gflops_per_s') or 0:.1f} {'-' if share is None else f'{100 * share:.1f} %'} "
                     f"{x.get('launch_share', 0):.2f}")
    failed_steps = [s for s in steps if s["step"] in ("tests", "bench") and s["exit"] not in (0, 5)]
    return "\n".join(lines), 1 if bad or failed_steps else 0


def main() -> int:
    from harness import devices

    problem = devices.unavailable("torch", "cuda")
    if problem:
        print(f"gpu-check: no CUDA device here ({problem}); run it on a machine with a GPU", file=sys.stderr)
        return 2
    out = Path(os.environ.get("CONFORM_GPU_CHECK_OUT", "reports/gpu-check"))
    out.mkdir(parents=True, exist_ok=True)
    conform = [sys.executable, "-m", "harness"]
    common = ["--device", "cuda", "--checks", "forward,gradient", "--profile", "smoke", "--overwrite"]
    steps = [
        _step("tests", [sys.executable, "-m", "pytest", "tests/test_devices.py", "-q", "-p", "no:cacheprovider"], out),
        _step("run", [*conform, "run", *common, "--modes", "eval,train", "-n", "auto", "--out", str(out / "run")], out),
        _step("graph", [*conform, "run", *common, "--modes", "graph", "--pairs", *GRAPH_PAIRS, "-n", "auto",
                        "--out", str(out / "graph")], out),
        _step("bench", [*conform, "bench", "--device", "cuda", "--sizes", "gpu", "--pairs", *BENCH_PAIRS,
                        "--out", str(out / "bench"), "--", "--benchmark-max-time=0.2", "--bench-executions=eager"],
              out),
    ]
    text, code = summary(steps, out)
    print(text)
    (out / "summary.txt").write_text(text + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
