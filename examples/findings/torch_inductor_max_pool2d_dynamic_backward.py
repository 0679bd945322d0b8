"""torch 2.13's Inductor compiles a MaxPool2d backward with a dynamic height that indexes out of bounds.

nn.MaxPool2d(5, stride=1, padding=2) compiled and called at (1, 1, 1, 1), then at (1, 1, 2, 1):
the second shape makes dynamo recompile with a dynamic height (automatic dynamic shapes,
torch.compile's default), and the generated backward reads outside the gradient it scatters
into ("index out of bounds: 0 <= tmp13 < ks0" from the C++ kernel's bounds check, or "index -3
is out of bounds for dimension 1 with size 2"). The forward runs and matches eager; the
backward raises. A window wider than the input (padding 2 around a height of 1 or 2) is where
it shows. Seen in float32 and float64.

How the harness found it: `conform run --pairs atlas_max_pool2d_same --checks gradient --modes
graph` (graph mode compiles a record's layer once per configuration and runs several input
shapes through it; the shrinking phase reached (1, 1, 1, 1) then (1, 1, 2, 1)).

Upstream: no report found for max_pool2d_with_indices_backward under dynamic shapes.

Run:  .venv/bin/python examples/findings/torch_inductor_max_pool2d_dynamic_backward.py
Exit status: 1 while the defect is present, 0 once every compiled gradient runs and matches
eager, 77 (with the reason) where torch, Inductor or a C++ compiler is missing, 2 on an
unexpected error (another error, or a compiled gradient that differs from eager).
"""

from __future__ import annotations

import logging
import shutil
import sys
import traceback

NOT_RUNNABLE = 77
SHAPES = ((1, 1, 1, 1), (1, 1, 2, 1))  # in order: the second makes the height dynamic


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
    torch.manual_seed(0)
    module = torch.nn.MaxPool2d(5, stride=1, padding=2)
    compiled = torch.compile(module)
    print("torch.compile(nn.MaxPool2d(5, stride=1, padding=2)), default (inductor) backend; gradient of a random "
          "cotangent:")
    for shape in SHAPES:
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        eager_out = module(x)
        cotangent = torch.randn_like(eager_out)
        eager, = torch.autograd.grad(eager_out, [x], cotangent)
        out = compiled(x)
        try:
            got, = torch.autograd.grad(out, [x], cotangent)
        except (RuntimeError, IndexError) as e:
            if "out of bounds" not in str(e):
                raise
            print(f"  at {shape}: backward raised {type(e).__name__}: {str(e).splitlines()[0][-120:]}")
            print(f"bug present: Inductor's dynamic MaxPool2d backward indexes out of bounds at {shape}")
            return 1
        diff = float((got - eager).abs().max())
        print(f"  at {shape}: compiled gradient, max |compiled - eager| {diff:.3g}")
        if diff > 1e-12:
            raise AssertionError(f"compiled MaxPool2d gradient differs from eager by {diff:.3g} at {shape}: "
                                 "not this defect, but investigate")
    print("fixed: every compiled MaxPool2d backward runs and matches eager")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
