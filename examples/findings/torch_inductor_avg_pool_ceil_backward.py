"""torch 2.13's Inductor computes a wrong AvgPool gradient where ceil_mode leaves a window hanging over the edge.

nn.AvgPool1d(2, ceil_mode=True) at an odd length averages the last window over the one cell it
covers (count_include_pad=True counts padding, and ceil_mode's overhang is not padding): the
forward is x[-1] / 1 in eager and compiled alike. The compiled backward divides that cell's
gradient by the full kernel instead: at length 3 with a cotangent of ones, eager gives
[0.5, 0.5, 1.0] and torch.compile [0.5, 0.5, 0.5]. AvgPool2d(2, ceil_mode=True) at 3 x 3 likewise
(the corner 0.25 instead of 1.0). Static shapes suffice: one compile, the first call. The
forward matches; the gradient is silently wrong, in float32 and float64.

How the harness found it: `conform run --pairs atlas_avg_pool1d_ceil --checks gradient --modes
graph` (graph mode compares torch.compile's gradient with torch's eager one; length 1, kernel 2:
compiled -0.066 against eager -0.132).

Upstream: pytorch/pytorch#198119 (open; seen there in torch 2.14 and nightly, CPU and CUDA).

Run:  .venv/bin/python examples/findings/torch_inductor_avg_pool_ceil_backward.py
Exit status: 1 while the defect is present, 0 once every compiled gradient matches eager, 77 (with
the reason) where torch, Inductor or a C++ compiler is missing, 2 on an unexpected error.
"""

from __future__ import annotations

import logging
import shutil
import sys
import traceback

NOT_RUNNABLE = 77
# (module, input shape): each has a window that ceil_mode hangs over the input's end
CASES = (("AvgPool1d", (1, 1, 3)), ("AvgPool1d", (1, 1, 1)), ("AvgPool2d", (1, 1, 3, 3)))


def main() -> int:
    try:
        import torch
        import torch._inductor.config as inductor_config
    except ImportError as e:
        print(f"not runnable here: torch with Inductor is not installed ({e})")
        return NOT_RUNNABLE
    cxx = inductor_config.cpp.cxx
    compilers = [c for c in (cxx if isinstance(cxx, tuple) else (cxx,)) if c] + ["g++", "c++", "clang++"]
    if not any(shutil.which(c) for c in compilers):
        print(f"not runnable here: Inductor's CPU backend needs a C++ compiler and none of {compilers} is on PATH")
        return NOT_RUNNABLE
    print(f"torch {torch.__version__}  python {sys.version.split()[0]}")
    torch._logging.set_logs(all=logging.ERROR)
    print("gradient of torch.compile(nn.AvgPoolNd(2, ceil_mode=True)) against eager, cotangent of ones:")
    wrong = []
    for name, shape in CASES:
        torch._dynamo.reset()
        module = getattr(torch.nn, name)(2, ceil_mode=True)
        x = torch.arange(1.0, 1.0 + torch.Size(shape).numel(), dtype=torch.float64).reshape(shape).requires_grad_()
        eager_out, compiled_out = module(x), torch.compile(module)(x)
        if not torch.equal(eager_out, compiled_out):
            raise AssertionError(f"{name} at {shape}: the compiled forward differs from eager: not this defect")
        eager, = torch.autograd.grad(eager_out, [x], torch.ones_like(eager_out))
        compiled, = torch.autograd.grad(compiled_out, [x], torch.ones_like(compiled_out))
        same = torch.equal(eager, compiled)
        print(f"  {name} at {shape}: eager {eager.flatten().tolist()}, compiled {compiled.flatten().tolist()}"
              f"{'' if same else '  <- differs'}")
        if not same:
            wrong.append(f"{name} at {shape}")
    if wrong:
        print(f"bug present: the compiled backward divides an overhanging window by the full kernel "
              f"({', '.join(wrong)})")
        return 1
    print("fixed: every compiled gradient matches eager")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
