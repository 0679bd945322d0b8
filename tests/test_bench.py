"""``conform bench`` and the timing it rests on: the matrix, the clock, the JSON, the comparison.

Timings themselves are never asserted (they are what the benchmarks measure); what is
asserted is what a timing means: the clock includes the device's wait, FLOPs are counted
as declared, every row says what it timed, and a slower candidate fails the comparison.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from harness import devices, registry
from harness.results import BENCHMARKS_FILE
from harness.spec import Bench, LayerPair, SpecError
from harness.timing import GPU_SIZE, LAUNCH_SHARE, WARMUP_CALLS, Workload, filled, workloads
from tests.e2e import ROOT, conform

PAIRS = ("raw_linear_002", "custom_conv2d_003")
# Tiny rounds, and eager only outside the one run that shows both executions: these tests
# check what the files say, not how fast anything is.
FAST = ("--", "--benchmark-max-time=0.001", "--benchmark-min-rounds=2", "--bench-executions=eager")


@pytest.fixture(scope="module")
def catalogue():
    return registry.load([])


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick bench of two pairs (one with a built-in, both with FLOPs), shared by the tests below."""
    cwd = tmp_path_factory.mktemp("bench")
    result = conform("bench", "--quick", "--pairs", *PAIRS, "--out", "run", *FAST[:-1], cwd=cwd)
    return cwd / "run", result


def entries(directory: Path) -> list[dict]:
    return json.loads((directory / BENCHMARKS_FILE).read_text())["benchmarks"]


def test_every_pair_that_runs_declares_bench_sizes(catalogue):
    # the atlas's pairs are the frameworks' built-ins themselves, there to measure conventions: the tutorial
    # pairs time them already, as their Bench.builtin
    missing = [p.name for p in catalogue.pairs.values()
               if "forward" in p.checks and p.bench is None and not p.origin.atlas]
    assert not missing, f"pairs without LayerPair.bench: {missing}"


def test_a_bench_size_must_fix_every_dim(catalogue):
    pair = catalogue.pairs["raw_linear_002"]
    with pytest.raises(SpecError, match="must fix every dim; missing \\['units'\\]"):
        LayerPair(**{**pair.__dict__, "bench": Bench(small={"batch": 1, "in_features": 2}, large=pair.bench.large)})


def test_the_matrix_puts_torch_tf_and_builtins_of_one_setting_in_one_group(catalogue):
    items = workloads([catalogue.pairs["raw_linear_002"]], ["cpu", "cuda"])
    assert len(items) == 2 * 2 * 2 * 2 * 4  # sizes x devices x passes x executions x (torch, tf, 2 built-ins)
    assert len({w.id for w in items}) == len(items)
    group = [w for w in items if w.group == "raw_linear_002 small cpu fwd+bwd compiled"]
    assert sorted(w.id.rsplit("-", 2)[-1] if w.builtin else w.framework for w in group) == \
        ["builtin", "builtin", "tf", "torch"]


def test_a_pair_without_bench_sizes_is_one_skip_saying_why(catalogue):
    pair = catalogue.pairs["attention_layer_tutorial_001"]
    [only] = workloads([pair], ["cpu"])
    assert "declares no bench sizes" in only.skip_reason()


def test_flops_count_the_forward_and_three_times_it_with_backward(catalogue):
    pair = catalogue.pairs["raw_linear_002"]
    p = pair.bench.small
    forward = Workload(pair, "torch", "cpu", "forward", "eager", "small")
    both = Workload(pair, "torch", "cpu", "forward+backward", "eager", "small")
    assert forward.flops() == 2 * p["batch"] * p["in_features"] * p["units"]
    assert both.flops() == 3 * forward.flops()


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_the_clock_stops_only_after_the_device_is_done(catalogue, monkeypatch, framework):
    """A GPU launch returns at once; the timed call must include the wait (stood in for by a sleep)."""
    waits = []

    def slow_device(fw, device):
        waits.append(fw)
        time.sleep(0.02)

    monkeypatch.setattr(devices, "synchronize", slow_device)
    timed, _ = Workload(catalogue.pairs["raw_linear_002"], framework, "cpu", "forward", "eager", "small").prepare()
    assert waits == [framework] * WARMUP_CALLS  # the warm-up calls ran before the clock, each synchronised
    start = time.perf_counter()
    timed()
    assert time.perf_counter() - start >= 0.02


@pytest.mark.slow
def test_quick_bench_times_both_frameworks_both_passes_and_says_what_it_timed(quick_run):
    directory, result = quick_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    items = entries(directory)
    seen = {(b["extra_info"]["pair"], b["extra_info"]["framework"], b["extra_info"]["pass"],
             b["extra_info"]["execution"], bool(b["extra_info"]["builtin"])) for b in items}
    for pair in PAIRS:
        for framework in ("torch", "tf"):
            for pass_ in ("forward", "forward+backward"):
                for execution in ("eager", "compiled"):
                    assert (pair, framework, pass_, execution, False) in seen
                    assert (pair, framework, pass_, execution, True) in seen  # both pairs declare a built-in
    assert len(items) == len(seen)
    for b in items:
        extra = b["extra_info"]
        assert extra["device"] == "cpu" and extra["size"] == "small"
        assert extra["params"] and extra["flops"] > 0 and extra["gflops_per_s"] > 0
        # beside the layer's rate, the device's own matmul rate measured in the same run, and the share reached
        assert extra["peak_gflops_per_s"] > 0
        assert extra["fraction_of_peak"] == pytest.approx(extra["gflops_per_s"] / extra["peak_gflops_per_s"])
        assert extra["first_call_s"] > 0 and b["group"].startswith(extra["pair"])
        math = extra["math"]
        assert math["torch_threads"] == math["tf_intra_op_threads"] == math["threads"]
        assert {"torch_tf32_matmul", "tf_tf32", "TF_ENABLE_ONEDNN_OPTS", "torch_cudnn_benchmark"} <= set(math)
    assert (directory / "environment.json").is_file() and (directory / "results.jsonl").is_file()


@pytest.mark.slow
def test_the_report_shows_the_benchmarks_with_the_builtin_ratio(quick_run):
    directory, _ = quick_run
    page = (directory / "index.html").read_text()
    section = page[page.index('<section id="benchmarks"'):]
    for pair in PAIRS:
        assert f'id="bench-{pair}"' in section
    assert "torch / built-in (nn.Linear / Dense)" in section and "torch / built-in (nn.Conv2d / Conv2D)" in section
    assert "cpu · small · forward+backward · eager" in section and "cpu · small · forward · compiled" in section
    assert "GFLOP/s torch / TF (share of peak)" in section and "% of peak)" in section


def _baseline(quick_run, tmp_path: Path, factor: float) -> Path:
    """The quick run's JSON with every median (and the other statistics) scaled by ``factor``."""
    directory, _ = quick_run
    data = json.loads((directory / BENCHMARKS_FILE).read_text())
    for b in data["benchmarks"]:
        b["stats"] = {k: v * factor if k in ("min", "max", "mean", "median", "stddev", "iqr", "q1", "q3")
                      else v for k, v in b["stats"].items()}
    base = tmp_path / "baseline"
    base.mkdir()
    (base / BENCHMARKS_FILE).write_text(json.dumps(data))
    return base


@pytest.mark.slow
def test_compare_fails_when_the_candidate_is_slower_than_the_baseline(quick_run, tmp_path):
    base = _baseline(quick_run, tmp_path, 0.01)  # a baseline 100x faster: everything regressed
    result = conform("bench", "--quick", "--pairs", PAIRS[0], "--compare", str(base), "--out", "cand", *FAST,
                     cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Performance has regressed" in result.stdout + result.stderr
    assert "raw_linear_002-small-cpu-fwd-eager-torch" in result.stdout + result.stderr


@pytest.mark.slow
def test_compare_passes_when_the_candidate_is_not_slower(quick_run, tmp_path):
    base = _baseline(quick_run, tmp_path, 100.0)  # a baseline 100x slower: nothing regressed
    result = conform("bench", "--quick", "--pairs", PAIRS[0], "--compare", str(base), "--out", "cand", *FAST,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_compare_with_a_directory_that_holds_no_benchmarks_is_a_usage_error(tmp_path):
    result = conform("bench", "--quick", "--compare", str(tmp_path), "--out", "x", cwd=tmp_path)
    assert result.returncode == 2 and f"no {BENCHMARKS_FILE} in" in result.stderr
    assert not (tmp_path / "x").exists()


def test_an_unknown_pair_is_a_usage_error(tmp_path):
    result = conform("bench", "--pairs", "raw_linear_02", cwd=tmp_path)
    assert result.returncode == 2 and "raw_linear_002" in result.stderr


BLOCK_TF = '''
import importlib.abc, sys
class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, _NoTensorFlow())
'''


@pytest.fixture
def without_tensorflow(tmp_path) -> dict[str, str]:
    """An environment in which no process can import TensorFlow: a ``sitecustomize`` on the path,
    so the child that makes the records lacks it too, as on a machine where it is not installed."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TF)
    return {"PYTHONPATH": os.pathsep.join((str(site), str(ROOT)))}


@pytest.mark.slow
def test_without_tensorflow_torch_still_benchmarks_and_tf_is_reported_unavailable(tmp_path, without_tensorflow):
    result = conform("bench", "--quick", "--pairs", "raw_linear_002", "--out", "run", *FAST, "-rs", cwd=tmp_path,
                     env=without_tensorflow)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    frameworks = {b["extra_info"]["framework"] for b in entries(tmp_path / "run")}
    assert frameworks == {"torch"}
    assert "tensorflow is not installed in this environment" in result.stdout
    env = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert "tensorflow is not installed" in env["unavailable"]["tf"] and env["torch_version"]


@pytest.mark.slow
def test_without_tensorflow_a_conformance_run_skips_saying_why(tmp_path, without_tensorflow):
    result = conform("run", "--pairs", "raw_linear_002", "--checks", "forward", "--dtype", "float32",
                     "--modes", "eval", "--out", "run", cwd=tmp_path, env=without_tensorflow)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [record] = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert record["verdict"] == "skip"
    assert "the TF side is unavailable on 'cpu': tensorflow is not installed" in record["message"]


def test_the_gpu_size_is_timed_on_a_gpu_only_and_says_so_where_a_pair_has_no_batch(catalogue):
    pair = catalogue.pairs["raw_linear_002"]
    sizes = ("small", "large", GPU_SIZE)
    assert {w.size for w in workloads([pair], ("cpu",), sizes)} == {"small", "large"}
    assert GPU_SIZE in {w.size for w in workloads([pair], ("cuda",), sizes)}
    from hypothesis import strategies as st

    from harness.spec import Origin, Tensor

    unbatched = LayerPair(name="unbatched", origin=Origin("tests", "planted"), torch=lambda p: None, tf=lambda p: None,
                          dims={"rows": st.integers(1, 2)}, inputs=(Tensor("x", ("rows",)),),
                          bench=Bench(small={"rows": 1}, large={"rows": 8}))
    assert "no `batch` dim" in Workload(unbatched, "torch", "cuda", "forward", "eager", GPU_SIZE).skip_reason()


def test_the_fill_search_grows_the_batch_until_launching_is_a_tenth_of_a_call(catalogue):
    """Exercised on the CPU, where the same rule holds: the small size's call stands for the overhead."""
    pair = catalogue.pairs["raw_linear_002"]
    workload = Workload(pair, "torch", "cpu", "forward", "eager", GPU_SIZE)
    found = filled(workload, max_batch=4 * pair.bench.large["batch"])
    batch = found["params"]["batch"]
    assert batch >= pair.bench.large["batch"] and batch % pair.bench.large["batch"] == 0  # doubled from large
    assert found["launch_share"] <= LAUNCH_SHARE or batch == 4 * pair.bench.large["batch"]  # or it hit the cap
    assert workload.params == found["params"] and workload.extra_info()["launch_share"] == found["launch_share"]
