"""Options and parametrisation of the benchmark suite (``harness.timing`` does the work).

The matrix is pair x size x device x pass x execution x framework (and the frameworks'
built-in layer where a pair declares one), one pytest item each, so a pair that raises fails
its own items and the rest still run. Groups put torch, TF and the built-ins of one pair,
size, device, pass and execution side by side in pytest-benchmark's table.
"""

from __future__ import annotations

import pytest

from harness import registry
from harness.spec import BENCH_SIZES
from harness.timing import DEVICES, EXECUTIONS, GPU_SIZE, workloads

SIZES = (*BENCH_SIZES, GPU_SIZE)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conform-bench", "conform benchmark suite")
    group.addoption("--bench-device", default="cpu", choices=("cpu", "cuda", "all"),
                    help="cpu, cuda or all (default: cpu)")
    group.addoption("--bench-pairs", default="", help="comma-separated pair names (default: every pair)")
    group.addoption("--bench-pairs-from", action="append", default=[], metavar="FILE",
                    help="also load pairs from this Python file; repeatable")
    group.addoption("--bench-quick", action="store_true",
                    help="the small size only (the catalogue in about three minutes on a 2-core CPU)")
    group.addoption("--bench-sizes", default=None,
                    help=f"comma-separated sizes among {', '.join(SIZES)}; gpu grows the large size until launching "
                         "is under a tenth of a call, on a GPU only (default: all of them; small with --bench-quick)")
    group.addoption("--bench-executions", default=",".join(EXECUTIONS),
                    help=f"comma-separated executions (default: {','.join(EXECUTIONS)})")
    group.addoption("--bench-tf32", action="store_true",
                    help="allow TF32 in both frameworks on GPU (default: off in both, for a like-for-like float32)")


def pytest_configure(config: pytest.Config) -> None:
    from harness import devices

    if config.getoption("bench_device") != "cpu":
        devices.set_tf32(config.getoption("bench_tf32"))
        devices.cudnn_benchmark(True)  # autotuning happens in the warm-up, outside the clock


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "workload" not in metafunc.fixturenames:
        return
    config = metafunc.config
    catalogue = registry.load(config.getoption("bench_pairs_from"))
    try:
        pairs = catalogue.select(_csv(config.getoption("bench_pairs")))
    except registry.UnknownPairError as exc:
        raise pytest.UsageError(str(exc)) from None
    quick = config.getoption("bench_quick")
    executions = _csv(config.getoption("bench_executions"))
    unknown = [x for x in executions if x not in EXECUTIONS]
    if unknown or not executions:
        raise pytest.UsageError(f"--bench-executions: unknown {unknown or executions}; known: {', '.join(EXECUTIONS)}")
    device = config.getoption("bench_device")
    sizes = _csv(config.getoption("bench_sizes") or "") or (list(SIZES[:1]) if quick else list(SIZES))
    unknown = [x for x in sizes if x not in SIZES]
    if unknown:
        raise pytest.UsageError(f"--bench-sizes: unknown {unknown}; known: {', '.join(SIZES)}")
    items = workloads(pairs, DEVICES if device == "all" else (device,), sizes, executions)
    metafunc.parametrize("workload", items, ids=[w.id for w in items])
