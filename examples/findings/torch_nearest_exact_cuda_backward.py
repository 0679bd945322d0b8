"""torch's CUDA backward of interpolate(mode="nearest-exact") sends the gradient to another cell when downsampling.

Found by `conform run --device cuda` on an H200 (torch 2.11.0+cu130): the atlas pair
`atlas_upsample_size_nearest_exact` failed its gradient on the GPU against torch on the CPU while
the forward outputs were identical on both devices. Resizing a width of 6 to 1, the forward reads
input cell floor((0 + 0.5) * 6 / 1) = 3 on both devices; the CPU backward returns the gradient to
cell 3, the CUDA backward to cell 2. Every size pair up to 12 was tried there: 6 -> 1, 10 -> 1,
12 -> 1 and 12 -> 2 differ, in float32 and float64. The same class of defect was reported and
fixed for mode="nearest" (pytorch/pytorch#38985, #51036); #97135 (mode="nearest", a scale factor)
was still open when last seen; no report of nearest-exact was found.

What it checks, independently of the CPU kernel: the gradient of a nearest resize must land on
the cell the forward read (a one-hot probe of each output finds that cell), on each device.

Exit status: 1 while the defect is present, 0 when the CUDA backward agrees with its own forward
everywhere, 77 (with the reason) where it cannot run: no torch, or no CUDA device; 2 on an
unexpected error.
"""

from __future__ import annotations

import sys
import traceback

SIZES = [(n, m) for n in range(1, 13) for m in range(1, n)]  # every downsampling up to 12
NOT_RUNNABLE = 77


def _cells_read(torch, x, size):
    """For each output cell, the input cell the forward copies (found with a one-hot input per cell)."""
    n = x.shape[-1]
    eye = torch.eye(n, dtype=x.dtype, device=x.device).reshape(n, 1, n)
    read = torch.nn.functional.interpolate(eye, size=size, mode="nearest-exact")  # (n, 1, size)
    return read[:, 0, :].argmax(dim=0).tolist()


def _gradient_cells(torch, device, n, size, dtype):
    """Where the backward sends each output's gradient (one output at a time)."""
    found = []
    for j in range(size):
        x = torch.zeros(1, 1, n, dtype=dtype, device=device, requires_grad=True)
        y = torch.nn.functional.interpolate(x, size=size, mode="nearest-exact")
        cotangent = torch.zeros_like(y)
        cotangent[..., j] = 1
        (grad,) = torch.autograd.grad(y, x, cotangent)
        found.append(int(grad[0, 0].abs().argmax()))
    return found


def main() -> int:
    try:
        import torch
    except ImportError:
        print("not runnable here: torch is not installed")
        return NOT_RUNNABLE
    if not torch.cuda.is_available():
        print("not runnable here: no CUDA device (torch.cuda.is_available() is False)")
        return NOT_RUNNABLE
    wrong = []
    for dtype in (torch.float32, torch.float64):
        for n, size in SIZES:
            x = torch.zeros(1, 1, n, dtype=dtype)
            read = _cells_read(torch, x.cuda(), size)
            if read != _cells_read(torch, x, size):
                wrong.append(f"{dtype} {n} -> {size}: the forward reads other cells on cuda and cpu")
                continue
            got = _gradient_cells(torch, "cuda", n, size, dtype)
            if got != read:
                wrong.append(f"{dtype} {n} -> {size}: forward reads {read}, cuda backward writes {got}")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    for line in wrong:
        print(line)
    if wrong:
        print(f"bug present: {len(wrong)} size pairs where the CUDA backward sends the gradient to another cell")
        return 1
    print(f"fixed: the CUDA backward agrees with its forward on all {2 * len(SIZES)} downsamplings")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # noqa: BLE001 - an unexpected error is not the defect's verdict
        traceback.print_exc()
        sys.exit(2)
