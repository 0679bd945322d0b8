"""`conform robust`: the sensitive records under other kernels, thread counts and MKL paths keep their verdicts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness import robust
from harness.environment import cpu_vector_extensions
from harness.results import Record
from tests import noise_pairs as npairs
from tests.e2e import ROOT, conform

ZEN4 = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"]


def test_the_configurations_are_those_this_cpu_offers_the_base_first():
    names = [c.name for c in robust.configurations(ZEN4)]
    assert names == ["base", "default-1t", "default-2t", "avx2-1t", "avx2-2t", "avx512-1t", "avx512-2t",
                     "mkl-compatible", "mkl-avx2"]
    assert [c.name for c in robust.configurations(["sse4_2", "avx", "avx2", "fma"])][-3:] == \
        ["avx2-2t", "mkl-compatible", "mkl-avx2"]  # no AVX-512: no avx512 kernels asked for
    assert [c.name for c in robust.configurations(["asimd"])] == ["base", "default-1t", "default-2t"]  # not x86
    avx2 = next(c for c in robust.configurations(ZEN4) if c.name == "avx2-1t")
    assert avx2.env == {"ATEN_CPU_CAPABILITY": "avx2", "CONFORM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}


def test_each_kernel_set_compiles_into_an_inductor_cache_of_its_own(monkeypatch):
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    configs = {c.name: c for c in robust.configurations(ZEN4)}
    base, default, mkl = (robust.environment(configs[n]) for n in ("base", "default-1t", "mkl-compatible"))
    assert "TORCHINDUCTOR_CACHE_DIR" not in base and "TORCHINDUCTOR_CACHE_DIR" not in mkl  # the machine's own
    assert default["TORCHINDUCTOR_CACHE_DIR"].endswith("-default") and default["ATEN_CPU_CAPABILITY"] == "default"
    assert robust.environment(configs["avx2-2t"])["TORCHINDUCTOR_CACHE_DIR"].endswith("-avx2")


def _record(name: str, verdict: str = "pass", headroom: float = 0.0, floor: bool = False) -> Record:
    return Record(pair=name, check="forward", dtype="float64", device="cpu", mode="eval", verdict=verdict,
                  per_example=[{"headroom": headroom}], noise_floor={"k": 16} if floor else None)


def test_sensitive_records_are_near_their_tolerance_floor_judged_or_not_a_pass():
    records = [_record("far", headroom=1e-4), _record("near", headroom=0.02), _record("floor", floor=True),
               _record("precise", "precision"), _record("declared", "known-divergence", headroom=1e9),
               _record("skipped", "skip")]
    assert [r.pair for r in robust.sensitive(records)] == ["near", "floor", "precise", "declared"]


def test_a_changed_or_missing_verdict_is_a_difference():
    base = [_record("a"), _record("b"), _record("c")]
    other = [_record("a"), _record("b", "fail")]
    found = robust.differences(base, {"avx2-1t": other})
    assert [(d["key"][0], d["base"], d["other"]) for d in found] == [("b", "pass", "fail"), ("c", "pass", "missing")]
    assert "CHANGED under avx2-1t: b/forward/float64/cpu/eval: pass -> fail" in robust.text(
        {"configs": {"base": "", "avx2-1t": ""}, "records": 3, "sensitive": 3, "differences": found})


def test_pass_against_precision_is_listed_and_fails_only_where_precision_fails_the_run():
    """conform robust found atlas_layer_norm's float32 weight gradient `precision` under torch's AVX-512 kernels (torch
    2.6e-5 off a float64 value of -1.7e-12) and `pass` under the default ones: a float32 effect of the kernels."""
    base = [_record("norm", "precision"), _record("sigmoid"), _record("port")]
    base[0].message = "torch's float32 grad weight is 1.54e+07x further from the float64 result than tf's"
    other = [_record("norm"), _record("sigmoid", "precision"), _record("port", "fail")]
    found = robust.differences(base, {"default-1t": other})
    assert [(d["key"][0], d["outcome"]) for d in found] == [("norm", False), ("sigmoid", False), ("port", True)]
    assert found[0]["message"].startswith("torch's float32 grad weight")  # the precision side's account
    summary = {"configs": {"base": "", "default-1t": ""}, "records": 3, "sensitive": 3, "fail_on": ["fail", "error"],
               "differences": found[:2]}
    text = robust.text(summary)
    assert "ROUNDING under default-1t: norm/forward/float64/cpu/eval: precision -> pass" in text
    assert "no verdict changed" in text and "2 change(s) between pass and precision" in text
    strict = robust.differences(base, {"default-1t": other}, fail_on=("fail", "error", "precision"))
    assert all(d["outcome"] for d in strict)  # --fail-on precision: the same changes fail


def _robust(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return conform("robust", "--out", str(tmp_path), *args, cwd=ROOT)


@pytest.mark.slow
def test_robust_finds_a_verdict_that_depends_on_the_thread_count(tmp_path):
    done = _robust(tmp_path, "--pairs-from", "tests/noise_pairs.py", "--pairs", "linear_off_on_one_thread",
                   "--dtype", "float64", "--max-examples", "2", "--configs", "default-1t,default-2t")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CHANGED under default-1t: linear_off_on_one_thread/forward/float64/cpu/eval: pass -> fail" in done.stdout
    assert "default-2t" not in done.stdout.split("CHANGED", 1)[1]  # two threads: the same verdict as the base
    assert json.loads((tmp_path / "robust.json").read_text())["differences"][0]["config"] == "default-1t"


@pytest.mark.slow
def test_the_records_that_once_depended_on_the_cpu_keep_their_verdicts(tmp_path):
    """`make robust`'s sample: the U-Net case that failed on an AMD EPYC, and the three sigmoid gradient records that
    failed on an AVX-512 Xeon, under the default kernels on one thread, AVX-512 on two, and MKL's compatible path."""
    configs = "default-1t,avx512-2t,mkl-compatible"
    if "avx512-2t" not in {c.name for c in robust.configurations(cpu_vector_extensions()["flags"])}:
        configs = "default-1t,default-2t,mkl-compatible"
    unet = _robust(tmp_path / "unet", "--pairs", "simple_unet_002", "--checks", "train_step", "--dtype", "float64",
                   "--modes", "train", "--case", npairs.UNET_CASE, "--configs", configs)
    assert unet.returncode == 0, unet.stdout + unet.stderr
    assert "1 of 1 records sensitive" in unet.stdout and "no verdict changed" in unet.stdout
    sigmoid = _robust(tmp_path / "sigmoid", "--pairs", "dense_bias_001", "dense_with_activation_003",
                      "custom_dense_003", "--checks", "gradient", "--dtype", "float32", "--modes", "eval",
                      "--configs", configs)
    assert sigmoid.returncode == 0, sigmoid.stdout + sigmoid.stderr
    assert "no verdict changed" in sigmoid.stdout
