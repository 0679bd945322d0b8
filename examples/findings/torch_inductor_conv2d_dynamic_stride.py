"""torch 2.13's Inductor compiles a Conv2d backward that asserts a stride from an earlier shape.

Three nn.Conv2d(stride=2) modules share nn.Conv2d.forward, so dynamo's automatic dynamic shapes
carry over from one to the next: after Conv2d(1, 1, 1) at (1, 1, 1, 1) and Conv2d(2, 2, 2) at
(2, 2, 2, 2), Conv2d(4, 1, 2) compiles with dynamic batch and height at (2, 4, 3, 8). Its
compiled backward then checks the saved input against the strides of that first shape: at
(2, 4, 2, 8) the backward raises

    AssertionError: expected size 2==2, stride 64==96 at dim=0
      assert_size_stride(primals_6, (s33, 4, s69, 8), (96, 1, 32, 4), 'input')

96 is 3 * 8 * 4, the channels-last batch stride of height 3: a constant where the symbolic
height belongs. The forward at (2, 4, 2, 8) runs and matches eager; only the backward fails.
Seen in float32 and float64.

How the harness found it: `conform run --pairs-from tests/builtin_pairs.py --pairs
builtin_conv2d_valid_stride2 --checks gradient --modes graph` (graph mode compiles each of a
record's three layer configurations and runs several shapes through each; the shrinking phase
replayed (2, 4, 2, 8) after (2, 4, 3, 8)).

Upstream: no report found for this assertion on convolution_backward.

Run:  .venv/bin/python examples/findings/torch_inductor_conv2d_dynamic_stride.py
Exit status: 1 while the defect is present, 0 once every compiled gradient runs and matches
eager, 77 (with the reason) where torch, Inductor or a C++ compiler is missing, 2 on an
unexpected error (another compile error, or a compiled gradient that differs from eager).
"""

from __future__ import annotations

import logging
import shutil
import sys
import traceback

NOT_RUNNABLE = 77
# (in_channels, out_channels, kernel_size) of an nn.Conv2d(stride=2), and the NCHW input it is called at, in order
STEPS = (((1, 1, 1), (1, 1, 1, 1)), ((2, 2, 2), (2, 2, 2, 2)), ((4, 1, 2), (2, 4, 3, 8)), ((4, 1, 2), (2, 4, 2, 8)))


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
    modules: dict[tuple[int, int, int], tuple[torch.nn.Module, torch.nn.Module]] = {}
    print("torch.compile(nn.Conv2d(..., stride=2)) per module, default (inductor) backend; gradient of a random "
          "cotangent:")
    for config, shape in STEPS:
        if config not in modules:
            module = torch.nn.Conv2d(*config, stride=2)
            modules[config] = module, torch.compile(module)
        module, compiled = modules[config]
        x = torch.randn(*shape, requires_grad=True)
        eager_out = module(x)
        cotangent = torch.randn_like(eager_out)
        eager = torch.autograd.grad(eager_out, [x, *module.parameters()], cotangent)
        out = compiled(x)
        try:
            got = torch.autograd.grad(out, [x, *module.parameters()], cotangent)
        except AssertionError as e:
            if "stride" not in str(e):
                raise
            print(f"  Conv2d{config} at {shape}: backward raised AssertionError: {str(e).splitlines()[0]}")
            print(f"bug present: Inductor's compiled Conv2d backward asserts a stride of an earlier shape at {shape} "
                  f"({str(e).splitlines()[0]})")
            return 1
        diff = max(float((a - b).abs().max()) for a, b in zip(got, eager, strict=True))
        print(f"  Conv2d{config} at {shape}: compiled gradient, max |compiled - eager| {diff:.3g}")
        if diff > 1e-4:
            raise AssertionError(f"compiled Conv2d gradient differs from eager by {diff:.3g} at {shape}: "
                                 "not this defect, but investigate")
    print("fixed: every compiled Conv2d backward runs and matches eager")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
