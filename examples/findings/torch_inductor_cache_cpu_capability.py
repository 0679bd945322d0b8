"""torch's Inductor reuses CPU kernels compiled for another ATen CPU capability: its cache key misses the capability.

Found by `conform robust` (torch 2.13.0 CPU, on an AMD EPYC with AVX-512): every graph-mode record
that ran with ATEN_CPU_CAPABILITY=default after the same kernels had been compiled at the
machine's own capability (avx512) errored with "CppCompileError: ... 'at::vec' has not been
declared"; with avx2 some compiled records came out different or died (SIGSEGV). Inductor's
on-disk cache (/tmp/torchinductor_$USER, TORCHINDUCTOR_CACHE_DIR) hands the first process's
vectorised kernel source to the second, which compiles it without the AVX-512 headers its
capability would select. With an empty cache, ATEN_CPU_CAPABILITY=default compiles and runs.

What it checks: in a fresh cache directory, one process compiles `torch.compile(lambda x: sin(x) *
2 + 1)` at the machine's own capability, then a second process compiles the same function with
ATEN_CPU_CAPABILITY=default. The defect is present when the second one fails to compile; the
harness's workaround is one cache directory per capability (`conform robust` does it).

Upstream: no report found of the cache key and ATEN_CPU_CAPABILITY.

Run:  .venv/bin/python examples/findings/torch_inductor_cache_cpu_capability.py   (about 40 s on 2 cores)
Exit status: 1 while the defect is present, 0 once fixed, 77 (with the reason) where it cannot run
(no torch, no C++ compiler, or a CPU without a capability above default); 2 on an unexpected error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import traceback

NOT_RUNNABLE = 77
COMPILE = ("import torch\n"
           "print(torch.backends.cpu.get_cpu_capability())\n"
           "f = torch.compile(lambda x: torch.sin(x) * 2 + 1)\n"
           "print(float(f(torch.ones(67)).sum()))\n")


def _run(cache: str, capability: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache}
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    return subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True, env=env, check=False)


def main() -> int:
    try:
        import torch
    except ImportError as exc:
        print(f"not runnable here: torch is not installed ({exc})")
        return NOT_RUNNABLE
    if shutil.which("g++") is None and shutil.which("c++") is None:
        print("not runnable here: no C++ compiler, which torch.compile needs on the CPU")
        return NOT_RUNNABLE
    own = torch.backends.cpu.get_cpu_capability()
    print(f"torch {torch.__version__}, this CPU's capability {own}")
    if own == "DEFAULT":
        print("not runnable here: this CPU has no capability above default to compile at first")
        return NOT_RUNNABLE
    with tempfile.TemporaryDirectory(prefix="inductor-cache-") as cache:
        first = _run(cache, None)
        if first.returncode != 0:
            raise RuntimeError(f"the control compile failed:\n{first.stderr[-2000:]}")
        second = _run(cache, "default")
    compiled = second.returncode == 0
    print(f"first process ({own}): compiled; second process (ATEN_CPU_CAPABILITY=default, same cache): "
          f"{'compiled' if compiled else 'failed'}")
    if not compiled:
        why = next((line.strip() for line in second.stderr.splitlines() if "error:" in line), "see stderr")
        print(f"bug present: the second process reused a kernel compiled for {own} and could not compile it "
              f"({why})")
        return 1
    print("fixed: a process at another ATen CPU capability compiles its own kernels")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - an unexpected error is not the defect's verdict
        traceback.print_exc()
        sys.exit(2)
