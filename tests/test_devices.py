"""GPU runs: torch GPU vs torch CPU, TF on its GPU or reported unavailable, and timing on CUDA.

The CUDA tests run for real on a machine with a GPU and skip elsewhere with the reason. The
GPU-vs-CPU comparison itself is also exercised here on a CPU, with a planted layer whose two
instances compute differently (standing in for a kernel that differs by device), so that
CI shows it can fail.
"""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from harness import devices
from harness.cases import Case
from harness.check import Target, run_check
from harness.checks import evaluate
from tests import broken_pairs as bp

_BUILT = itertools.count()


def _instance_scaled(p, detach_second: bool = False):
    """A linear layer whose second instance scales its output (or detaches its weight)."""
    import torch

    class Linear(torch.nn.Linear):
        def __init__(self, features: int, units: int):
            super().__init__(features, units)
            self.index = next(_BUILT)

        def forward(self, x):
            if self.index % 2 == 0:
                return super().forward(x)
            if detach_second:
                return x @ self.weight.detach().T + self.bias
            return super().forward(x) * (1 + 1e-4)

    return Linear(p["features"], p["units"])


def _without_tf(monkeypatch):
    real = devices.unavailable
    monkeypatch.setattr(devices, "unavailable",
                        lambda fw, device: "TF has no GPU here (planted)" if fw == "tf" else real(fw, device))


@pytest.mark.parametrize(("check", "detach"), [("forward", False), ("gradient", True)])
def test_the_gpu_vs_cpu_comparison_catches_a_device_dependent_layer(monkeypatch, check, detach):
    _without_tf(monkeypatch)
    from dataclasses import replace

    case = Case({"batch": 3, "features": 4, "units": 4}, "normal", 0)
    broken = replace(bp.correct_linear, name="device_dependent", torch=lambda p: _instance_scaled(p, detach))
    evaluation = evaluate(Target(broken, check, "float32"), case)
    assert not evaluation.ok and evaluation.execution["tf"].startswith("unavailable: TF has no GPU")
    failing = [m.name for m in evaluation.metrics if not m.ok]
    assert failing and all("[torch cpu vs cpu]" in name for name in failing)
    if check == "gradient":
        assert failing == ["grad weight [torch cpu vs cpu]"]  # the input gradient still agrees
    control = evaluate(Target(bp.correct_linear, check, "float32"), case)
    assert control.ok and control.metrics


def test_a_conformance_run_on_cuda_without_tf_gpu_skips_the_checks_that_need_tf(monkeypatch):
    monkeypatch.setattr(devices, "unavailable", lambda fw, device: "planted: no TF GPU" if fw == "tf" else None)
    record = run_check(Target(bp.correct_linear, "serialization", "float32", device="cuda"))
    assert record.verdict == "skip" and "the TF side is unavailable on 'cuda': planted: no TF GPU" in record.message


def _cuda_reason() -> str | None:
    return devices.unavailable("torch", "cuda")


needs_cuda = pytest.mark.skipif(_cuda_reason() is not None, reason=f"no CUDA here: {_cuda_reason()}")


@needs_cuda
def test_the_harness_cuda_clock_agrees_with_cuda_events():
    """Wall time around the synchronised call vs CUDA events around the same calls."""
    import torch

    from harness import registry
    from harness.timing import Workload

    pair = registry.load([]).pairs["raw_linear_002"]
    timed, _ = Workload(pair, "torch", "cuda", "forward+backward", "eager", "large").prepare()
    wall, events = [], []
    for _ in range(30):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter()
        start.record()
        timed()
        end.record()
        wall.append(time.perf_counter() - t0)
        end.synchronize()
        events.append(start.elapsed_time(end) / 1e3)
    w, ev = statistics.median(wall), statistics.median(events)
    assert abs(w - ev) <= max(0.1 * ev, 50e-6), f"wall {w:.3g}s vs events {ev:.3g}s"


@needs_cuda
def test_without_synchronising_the_clock_would_stop_early():
    """The control: a big matmul launched and not waited for 'takes' a fraction of its real time."""
    import torch

    a = torch.randn(8192, 8192, device="cuda")
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        a @ a
    unsynced = time.perf_counter() - t0
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5):
        a @ a
    devices.synchronize("torch", "cuda")
    synced = time.perf_counter() - t0
    assert unsynced < 0.5 * synced


@needs_cuda
def test_a_cuda_conformance_run_compares_torch_gpu_with_cpu_and_with_tf():
    record = run_check(Target(bp.correct_linear, "gradient", "float32", device="cuda"), max_examples=5)
    assert record.verdict == "pass", record.message
    assert any("[torch cuda vs cpu]" in name for name in record.metrics)
    tf_problem = devices.unavailable("tf", "cuda")
    assert (tf_problem is None) == any("grad weight" == name for name in record.metrics)


# --- what the first run on an H200 found (issue 24): each cause, planted on a CPU standing in for the GPU -----------

@pytest.fixture
def gpu_without_tf(monkeypatch):
    """The CPU standing in for a GPU where TF has none: records compare torch on "both devices", as on an H200."""
    import harness.check

    _without_tf(monkeypatch)
    monkeypatch.setattr(harness.check, "_skip_reason", lambda target: None)


def _catalogue(name: str):
    from harness import registry

    return registry.load([]).pairs[name]


def test_a_declaration_between_torch_and_tf_is_not_judged_where_tf_did_not_run(gpu_without_tf):
    record = run_check(Target(_catalogue("custom_relu_vs_builtin_002"), "gradient", "float32"), max_examples=2)
    assert record.verdict == "pass", record.message  # was: "declared known divergence did not reproduce"
    assert "not checkable here, since TF did not run (TF has no GPU here (planted))" in record.message
    assert record.known_divergence is None


def test_only_a_declaration_scoped_to_the_device_covers_torch_against_itself_across_devices(gpu_without_tf):
    from dataclasses import replace

    from harness import KnownDivergence

    layer = lambda p: _instance_scaled(p)  # noqa: E731 - the second instance (the "GPU twin's") is off
    anywhere = replace(bp.correct_linear, name="unscoped", torch=layer,
                       known_divergences=(KnownDivergence("forward", "between torch and TF, any tensor"),))
    record = run_check(Target(anywhere, "forward", "float32"), max_examples=2)
    assert record.verdict == "fail", record.message  # a torch-vs-TF declaration cannot excuse a device's kernel
    scoped = replace(anywhere, name="scoped", known_divergences=(
        KnownDivergence("forward", "this device's kernel is off", devices=("cpu",)),))
    assert run_check(Target(scoped, "forward", "float32"), max_examples=2).verdict == "known-divergence"
    elsewhere = replace(anywhere, name="elsewhere", known_divergences=(
        KnownDivergence("forward", "a GPU kernel is off", devices=("cuda",)),))
    assert run_check(Target(elsewhere, "forward", "float32"), max_examples=2).verdict == "fail"
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        KnownDivergence("forward", "why", devices=("tpu",))


def test_outputs_the_pair_drops_are_dropped_on_both_devices(gpu_without_tf):
    lstm = _catalogue("atlas_lstm")
    assert lstm.dropped_outputs  # its final states have no Keras counterpart in this pair
    for check in ("forward", "gradient"):
        record = run_check(Target(lstm, check, "float32"), max_examples=2)
        assert record.verdict == "pass", record.message  # was: "torch cuda returned 2 outputs, torch cpu 1"


def test_without_tf_buffers_are_drawn_as_the_weight_map_says_and_a_nan_state_is_the_harness_s_error(gpu_without_tf):
    from dataclasses import replace

    block = _catalogue("down_block_002")  # batch norms under `block.*` keys: running_var drawn positive
    record = run_check(Target(block, "forward", "float32", mode="train"), max_examples=2)
    assert record.verdict == "pass", record.message  # was: NaN on both devices from a negative running variance
    weights = {k: (replace(v, init="normal") if k.endswith("running_var") else v) for k, v in block.weights.items()}
    negative = replace(block, name="negative_variance", weights=weights)
    record = run_check(Target(negative, "forward", "float32"), max_examples=2)  # eval: the running variance is read
    assert record.verdict == "error", record.message
    assert "torch on the CPU returns non-finite outputs from finite inputs" in record.message


def test_an_eval_mode_rnn_gradient_on_a_gpu_runs_with_cudnn_off_and_says_so():
    import torch

    from harness.sides import torch_side

    lstm, linear = torch.nn.LSTM(3, 4), torch.nn.Linear(3, 4)
    switch, note = torch_side.cudnn_for(lstm, "cuda:0", "eval", True)
    assert note == torch_side.CUDNN_EVAL_RNN
    with switch:
        assert not torch.backends.cudnn.enabled
    assert torch.backends.cudnn.enabled
    for args in ((lstm, "cuda", "train", True), (lstm, "cuda", "eval", False), (lstm, "cpu", "eval", True),
                 (linear, "cuda", "eval", True)):
        assert torch_side.cudnn_for(*args)[1] == ""  # training, no backward, no GPU or no recurrent layer


@needs_cuda
def test_an_eval_mode_rnn_gradient_checks_on_cuda_and_the_record_says_cudnn_was_off():
    record = run_check(Target(_catalogue("atlas_lstm"), "gradient", "float32", device="cuda"), max_examples=2)
    assert record.verdict == "pass", record.message  # was: "cudnn RNN backward can only be called in training mode"
    assert record.execution["cudnn"].startswith("off: cuDNN's RNN backward runs only in training mode")


def test_the_nearest_exact_finding_is_declared_for_cuda_only_on_the_sizes_measured():
    pair = _catalogue("atlas_upsample_size_nearest_exact")
    assert not pair.declared("gradient", "float32", "eval", "cpu")
    (declared,) = pair.declared("gradient", "float32", "eval", "cuda:0")
    bites = {"height": 6, "out_height": 1, "width": 4, "out_width": 4}
    assert declared.scoped_to("normal", bites) and not declared.scoped_to("normal", {**bites, "height": 5})
    assert "examples/findings/torch_nearest_exact_cuda_backward.py" in declared.reason


def test_the_nearest_exact_reproducer_finds_the_forward_s_cells_on_the_cpu_and_says_when_it_cannot_run():
    import runpy
    import subprocess
    import sys

    import torch

    from tests.e2e import ROOT

    script = ROOT / "examples" / "findings" / "torch_nearest_exact_cuda_backward.py"
    module = runpy.run_path(str(script))
    for n, size in module["SIZES"]:  # its own logic, on the CPU's correct backward: every gradient on the cell read
        x = torch.zeros(1, 1, n)
        assert module["_gradient_cells"](torch, "cpu", n, size, torch.float64) == module["_cells_read"](torch, x, size)
    if not torch.cuda.is_available():
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
        assert done.returncode == 77 and "not runnable here: no CUDA device" in done.stdout


def test_gpu_check_says_where_it_cannot_run_and_summarises_what_a_gpu_run_wrote(tmp_path):
    import json
    import subprocess
    import sys

    from harness import gpu_check
    from tests.e2e import ROOT

    if _cuda_reason() is not None:
        done = subprocess.run([sys.executable, "-m", "harness.gpu_check"], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 2 and "no CUDA device here" in done.stderr
    (tmp_path / "run").mkdir()
    failed = {"pair": "atlas_lstm", "check": "gradient", "dtype": "float32", "mode": "eval", "verdict": "fail",
              "message": "torch cuda returned 2 outputs, torch cpu 1"}
    passed = {**failed, "pair": "dense_bias_001", "verdict": "pass", "message": ""}
    (tmp_path / "run" / "results.jsonl").write_text("\n".join(json.dumps(r) for r in (failed, passed)))
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "benchmarks.json").write_text(json.dumps({"benchmarks": [
        {"stats": {"median": 2e-4}, "extra_info": {"pair": "raw_linear_002", "framework": "torch", "pass": "forward",
                                                    "gflops_per_s": 4e4, "fraction_of_peak": 0.8,
                                                    "launch_share": 0.05}}]}))
    steps = [{"step": name, "exit": 0, "seconds": 1.0} for name in ("tests", "run", "graph", "bench")]
    text, code = gpu_check.summary(steps, tmp_path)
    assert code == 1  # a record failed
    assert "run: 2 records: 1 fail, 1 pass" in text and "fail  atlas_lstm gradient float32 eval: torch cuda" in text
    assert "raw_linear_002 torch forward 0.200 ms 40000.0 80.0 % 0.05" in text
    (tmp_path / "run" / "results.jsonl").write_text(json.dumps(passed))
    assert gpu_check.summary(steps, tmp_path)[1] == 0
