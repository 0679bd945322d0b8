"""torch 2.13's Inductor cannot compile Conv3d's backward once a second input shape makes the graph dynamic.

torch.compile(nn.Conv3d(2, 2, 2, stride=2, padding=1)) compiles forward and backward at a first
input shape (1, 2, 3, 3, 3); at a second shape, (2, 2, 2, 2, 2), dynamo recompiles with dynamic
sizes (automatic dynamic shapes) and the backward fails to compile:

    torch._inductor.exc.InductorError: LoweringException: ValueRangeError: Invalid ranges [0:-1]
      target: aten.convolution_backward.default

The forward at the second shape compiles and runs; the error is raised by .backward(). Seen in
float32 and float64. A second shape that changes only the spatial size ((1, 2, 2, 2, 2),
(1, 2, 4, 4, 4), (1, 2, 5, 5, 5)) fails the same way; one that changes only the batch
((2, 2, 3, 3, 3)) compiles, and so does (3, 2, 5, 4, 3). torch.compile(dynamic=True) from the
start compiles (2, 2, 2, 2, 2) fine: the failure needs the recompilation after a static first
shape.

Mechanism, torch 2.13.0 (from the traceback): Inductor's layout constraint for
aten.convolution_backward (torch/_inductor/kernel/conv.py, `constrain_conv_bwd_to_fx_strides`,
lines 1224-1232 -> torch/_inductor/lowering.py `constrain_to_fx_strides`, line 3345) asks whether
the symbolic grad_output strides are in order (torch/_inductor/ir.py, `is_stride_ordered`, line
4384, and `_stride_expr_ge_or_false`, line 4381: guard_or_false(Eq(left % right, 0))). Bounding
that Mod of the strides ((s//2 + 1) products, through a reciprocal: the log shows
pow_by_natural([VR[4, int_oo], VR[-1, -1]]) failing) builds an empty range, and
torch/utils/_sympy/value_ranges.py line 164 raises ValueRangeError, which guard_or_false does not
turn into "unknown".

How the harness found it: `conform run --pairs atlas_conv3d --checks gradient --modes graph`
(the graph mode compiles the torch side; the second drawn case changed the input shape and the
gradient check errored on the torch side).

Upstream: not reported for convolution_backward. Closest: pytorch/pytorch#188422 (closed: the
same "ValueRangeError: Invalid ranges [0:-1]" in aten.convolution.default, forward, with
torch.compile(dynamic=True), a torch 2.13 RC regression from 2.12 seen in transformers'
test_sdpa_can_compile_dynamic for Segformer) and #188423 (closed, same report, the same
pow_by_natural warning); #188226 (open: "Invalid ranges [0:-61]" in pooling index propagation).
The fix for #188422, whatever it was, does not cover this case in the 2.13.0 release.

Run:  .venv/bin/python examples/findings/torch_inductor_conv3d_dynamic_backward.py
It compiles twice with Inductor (a C++ toolchain is needed): about 7 s on a 2-core machine with
Inductor's on-disk cache warm, 9 s cold (the first, static compile takes about 4 s of it).
Exit status: 1 while the defect is present (the backward at the second shape raises the
LoweringException / ValueRangeError), 0 once the compiled backward runs and matches eager, 77
(with the reason) where torch, Inductor or a C++ compiler is missing; 2 on an unexpected error,
including any other compile error and a compiled gradient that differs from eager.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
import traceback

NOT_RUNNABLE = 77
SHAPES = ((1, 2, 3, 3, 3), (2, 2, 2, 2, 2))  # NCDHW: the first compiles static, the second recompiles dynamic
SIGNATURE = ("Invalid ranges", "ValueRangeError", "LoweringException")


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
    torch._logging.set_logs(all=logging.ERROR)  # Inductor logs the failure as warnings on stderr before raising it

    torch.manual_seed(0)
    module = torch.nn.Conv3d(2, 2, 2, stride=2, padding=1)
    compiled = torch.compile(module)
    print("torch.compile(nn.Conv3d(2, 2, 2, stride=2, padding=1)), default (inductor) backend; backward of sum():")
    for shape in SHAPES:
        x = torch.randn(*shape)
        eager_x, compiled_x = x.clone().requires_grad_(), x.clone().requires_grad_()
        module.zero_grad()
        module(eager_x).sum().backward()
        eager = [eager_x.grad, module.weight.grad.clone(), module.bias.grad.clone()]
        module.zero_grad()
        start = time.perf_counter()
        out = compiled(compiled_x)
        try:
            out.sum().backward()
        except Exception as e:  # sorted below: the defect's error, or re-raised as unexpected
            text = f"{type(e).__name__}: {e}"
            if not any(s in text for s in SIGNATURE):
                raise
            first = next((line for line in str(e).splitlines() if "Invalid ranges" in line), str(e).splitlines()[0])
            target = next((line.strip() for line in str(e).splitlines() if "target:" in line), "")
            print(f"  {shape}: backward raised {type(e).__module__}.{type(e).__name__} after "
                  f"{time.perf_counter() - start:.1f} s:\n    {first.strip()}\n    {target}")
            print(f"bug present: Inductor cannot compile Conv3d's backward at the second shape {shape} "
                  f"({first.strip()}; {target or 'aten.convolution_backward'})")
            return 1
        got = [compiled_x.grad, module.weight.grad, module.bias.grad]
        diff = max(float((a - b).abs().max()) for a, b in zip(got, eager, strict=True))
        print(f"  {shape}: compiled forward + backward in {time.perf_counter() - start:.1f} s; "
              f"max |compiled - eager| over input, weight, bias gradients {diff:.3g}")
        if diff > 1e-4:
            raise AssertionError(f"compiled Conv3d gradient differs from eager by {diff:.3g} at {shape}: "
                                 "not this defect, but investigate")
    print(f"fixed: Inductor compiles Conv3d's backward at {SHAPES[0]} then {SHAPES[1]}, gradients match eager")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
