"""``conform gate``: identical runs pass, a planted upgrade fails naming its pair, bad input exits 2.

The "upgrade" is ``tests/upgrade_pairs.py``'s torch side scaled by 1 + 1e-4 through an
environment variable, so baseline and candidate are two real runs of the CLI in two
environments that differ in one layer's numerics, as two framework releases would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.frameworks import thread_count
from tests.e2e import conform

PAIRS = str(Path(__file__).with_name("upgrade_pairs.py"))
PLANTED = {"CONFORM_TEST_TORCH_SCALE": str(1 + 1e-4)}


def run_and_snapshot(cwd: Path, out: str, env: dict[str, str] | None = None, *extra: str) -> Path:
    run = conform("run", "--pairs-from", PAIRS, "--modes", "eval", "--max-examples", "3", "--out", out, *extra,
                  cwd=cwd, env=env)
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-2000:]
    snap = conform("snapshot", "--pairs-from", PAIRS, "--out", out, cwd=cwd, env=env)
    assert snap.returncode == 0, snap.stdout + snap.stderr
    return cwd / out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("gate")
    return cwd, run_and_snapshot(cwd, "base"), run_and_snapshot(cwd, "same"), run_and_snapshot(cwd, "planted", PLANTED)


def gate(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return conform("gate", *args, "--pairs-from", PAIRS, cwd=cwd, env=env)


@pytest.mark.slow
def test_identical_runs_gate_to_0(runs):
    cwd, base, same, _ = runs
    result = gate(cwd, str(base), str(same))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no differences" in result.stdout and "gate: PASS (exit 0)" in result.stdout
    assert (same / "gate.html").is_file()


@pytest.mark.slow
def test_a_planted_change_to_one_layer_gates_to_1_naming_exactly_that_pair(runs):
    cwd, base, _, planted = runs
    result = gate(cwd, str(base), str(planted), env=PLANTED)  # the gate runs in the candidate's environment
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "gate: FAIL (exit 1): drifting_linear"
    regressions = [line for line in result.stdout.splitlines() if "regression" in line]
    assert regressions and all("drifting_linear" in line for line in regressions)
    assert "steady_linear" not in result.stdout


@pytest.mark.slow
def test_golden_drift_is_per_framework_torch_moved_tf_did_not(runs):
    cwd, base, _, planted = runs
    result = gate(cwd, str(base), str(planted), env=PLANTED)
    drift = [line for line in result.stdout.splitlines() if "golden drift" in line]
    assert drift and all("drifting_linear" in line and " torch " in f" {line} " for line in drift)
    assert any("1e-04 rel" in line or "0.0001 rel" in line for line in drift), drift
    page = (planted / "gate.html").read_text()
    # the page lists every replayed pair x framework x dtype: TF's results are bit-identical
    assert page.count("bit-identical") == 6  # steady: torch and tf, 2 dtypes; drifting: tf, 2 dtypes
    assert "drifting_linear</th><td>torch</td><td>float32</td>" in page


@pytest.mark.slow
def test_a_corrupt_results_file_gates_to_2_and_a_cut_one_is_read_up_to_the_cut(runs, tmp_path):
    cwd, base, same, _ = runs
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "environment.json").write_text((same / "environment.json").read_text())
    lines = (same / "results.jsonl").read_text().splitlines()
    (broken / "results.jsonl").write_text(lines[0][:40] + "\n" + "\n".join(lines[1:]) + "\n")
    result = gate(cwd, str(base), str(broken))
    assert result.returncode == 2
    assert "results.jsonl:1: corrupt line" in result.stderr and "truncated" in result.stderr
    # a killed run's last line, cut without its newline: the complete records gate, the missing key crosses
    (broken / "results.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])
    result = gate(cwd, str(base), str(broken), "--no-replay")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "was cut short (a killed run)" in result.stdout and "missing in candidate" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["schema", "settings", "environment", "missing"])
def test_unusable_input_gates_to_2(runs, tmp_path, damage):
    cwd, base, same, _ = runs
    cand = tmp_path / "cand"
    cand.mkdir()
    lines = (same / "results.jsonl").read_text().splitlines()
    env = json.loads((same / "environment.json").read_text())
    if damage == "schema":
        first = json.loads(lines[0])
        lines[0] = json.dumps({**first, "schema_version": 99})
    if damage == "settings":
        env["max_examples"] = 500
    (cand / "results.jsonl").write_text("\n".join(lines) + "\n")
    if damage != "environment":
        (cand / "environment.json").write_text(json.dumps(env))
    target = str(tmp_path / "nowhere") if damage == "missing" else str(cand)
    result = gate(cwd, str(base), target, "--no-replay")
    assert result.returncode == 2, result.stdout + result.stderr
    expected = {"schema": "schema_version 99 cannot be read", "settings": "max_examples: 3 vs 500",
                "environment": "no environment.json", "missing": "no such result directory"}[damage]
    assert expected in result.stderr


@pytest.mark.slow
def test_shards_of_one_run_gate_as_that_run_and_thresholds_come_from_pyproject(runs):
    cwd, base, _, _ = runs
    for i in (1, 2):
        result = conform("run", "--pairs-from", PAIRS, "--modes", "eval", "--max-examples", "3", "--shard", f"{i}/2",
                         "--out", f"shard{i}", cwd=cwd)
        assert result.returncode == 0, result.stdout[-2000:]
    counts = [len((cwd / f"shard{i}" / "results.jsonl").read_text().splitlines()) for i in (1, 2)]
    assert sum(counts) == len((base / "results.jsonl").read_text().splitlines()) and min(counts) > 0
    (cwd / "pyproject.toml").write_text('[tool.conform.gate]\nbaseline = "base"\ncandidate = ["shard1", "shard2"]\n'
                                        "max_error_growth = 3\nmax_slowdown = 5\n")
    result = conform("gate", "--no-replay", cwd=cwd)  # what CI runs: a bare `conform gate`
    (cwd / "pyproject.toml").unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shard1, shard2" in result.stdout


def _with_benchmarks(directory: Path, tmp: Path, name: str, medians: dict[str, float]) -> Path:
    out = tmp / name
    out.mkdir()
    for f in ("results.jsonl", "environment.json"):
        (out / f).write_text((directory / f).read_text())
    (out / "benchmarks.json").write_text(json.dumps({"benchmarks": [
        {"fullname": f"benchmarks/test_layers.py::test_layer[{k}]", "stats": {"median": v}}
        for k, v in medians.items()]}))
    return out


@pytest.mark.slow
def test_benchmark_slowdowns_and_one_sided_pairs_cross(runs, tmp_path):
    cwd, base, same, _ = runs
    ids = ["steady_linear-small-cpu-fwd-eager-torch", "drifting_linear-small-cpu-fwd-eager-tf"]
    b = _with_benchmarks(base, tmp_path, "b", {ids[0]: 1e-3, ids[1]: 1e-3})
    c = _with_benchmarks(same, tmp_path, "c", {ids[0]: 1.25e-3, ids[1]: 1.05e-3})
    result = gate(cwd, str(b), str(c), "--no-replay")
    assert result.returncode == 1 and result.stdout.strip().endswith("gate: FAIL (exit 1): steady_linear")
    assert "+25%" in result.stdout
    assert gate(cwd, str(b), str(c), "--no-replay", "--max-slowdown", "30").returncode == 0
    lines = (same / "results.jsonl").read_text().splitlines()
    (c / "results.jsonl").write_text("\n".join(x for x in lines if '"steady_linear"' not in x) + "\n")
    result = gate(cwd, str(b), str(c), "--no-replay", "--max-slowdown", "30")
    assert result.returncode == 1 and "baseline only" in result.stdout


@pytest.mark.slow
def test_xdist_spreads_a_run_and_keeps_every_record(runs):
    cwd, base, _, _ = runs
    result = conform("run", "--pairs-from", PAIRS, "--modes", "eval", "--max-examples", "3", "-n", "2",
                     "--out", "parallel", cwd=cwd)
    assert result.returncode == 0, result.stdout[-2000:]
    keys = sorted(json.loads(x)["pair"] + json.loads(x)["check"] + json.loads(x)["dtype"]
                  for x in (cwd / "parallel" / "results.jsonl").read_text().splitlines())
    expected = sorted(json.loads(x)["pair"] + json.loads(x)["check"] + json.loads(x)["dtype"]
                      for x in (base / "results.jsonl").read_text().splitlines())
    assert keys == expected
    # environment.json describes the processes that made the records: each worker's share of the cores
    settings = json.loads((cwd / "parallel" / "environment.json").read_text())["settings"]
    assert settings["threads"] == settings["torch_threads"] == settings["tf_intra_op_threads"] == thread_count(2)
    assert gate(cwd, str(base), str(cwd / "parallel"), "--no-replay").returncode == 0


@pytest.mark.slow
def test_the_same_seed_gives_the_same_snapshot_bit_for_bit(runs):
    import numpy as np

    _, base, same, _ = runs
    index = json.loads((base / "snapshot" / "index.json").read_text())
    assert index == json.loads((same / "snapshot" / "index.json").read_text())
    assert sorted(index["pairs"]) == ["drifting_linear", "steady_linear"]
    for entry in index["pairs"].values():
        with np.load(base / "snapshot" / entry["file"]) as a, np.load(same / "snapshot" / entry["file"]) as b:
            assert a.files == b.files and any(k.startswith("0/float64/weight/") for k in a.files)
            assert all(np.array_equal(a[k], b[k]) for k in a.files)


@pytest.mark.slow
def test_error_growth_crosses_and_a_fix_is_reported_without_failing(runs, tmp_path):
    cwd, base, same, planted = runs
    grown = tmp_path / "grown"
    grown.mkdir()
    (grown / "environment.json").write_text((same / "environment.json").read_text())
    records = [json.loads(line) for line in (same / "results.jsonl").read_text().splitlines()]
    target = next(r for r in records if r["pair"] == "steady_linear" and r["check"] == "gradient"
                  and r["dtype"] == "float32")
    assert target["verdict"] == "pass" and target["metrics"]
    for metric in target["metrics"].values():
        metric["headroom"] = 0.5  # still a pass: half the allowance, from 0 in the baseline
    (grown / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = gate(cwd, str(base), str(grown), "--no-replay")
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [x for x in result.stdout.splitlines() if "error growth" in x]
    assert line.startswith("!!") and "steady_linear" in line and "gradient float32" in line
    assert gate(cwd, str(base), str(grown), "--no-replay", "--max-error-growth", "100").returncode == 0
    # the reverse of the planted upgrade: what failed passes again, a fix, listed and not failing
    result = gate(cwd, str(planted), str(base), "--no-replay")
    assert result.returncode == 0, result.stdout + result.stderr
    fixes = [x for x in result.stdout.splitlines() if " fix " in f" {x} "]
    assert fixes and all("drifting_linear" in x and not x.startswith("!!") for x in fixes)


@pytest.mark.slow
def test_golden_drift_beyond_the_tolerance_crosses_and_smaller_moves_do_not(runs):
    cwd, base, _, planted = runs
    drift = [x for x in gate(cwd, str(base), str(planted), env=PLANTED).stdout.splitlines() if "golden drift" in x]
    assert drift and all(x.startswith("!!") for x in drift)  # 1e-4 against float32's 1.3e-6 + 1e-5
    loose = gate(cwd, str(base), str(planted), "--max-drift", "1e6", env=PLANTED).stdout.splitlines()
    assert [x for x in loose if "golden drift" in x and not x.startswith("!!")]


def test_a_pair_that_raises_is_recorded_in_the_snapshot_and_reported_by_the_replay(tmp_path):
    from harness import snapshot
    from tests import broken_pairs as bp
    from tests.upgrade_pairs import steady_linear

    index = snapshot.write([bp.raises_in_tf, steady_linear], tmp_path)
    assert "error" in index["pairs"]["raises_in_tf"] and index["pairs"]["steady_linear"]["file"]
    drifts, problems = snapshot.replay(tmp_path, {"raises_in_tf": bp.raises_in_tf})
    assert not drifts
    assert problems["raises_in_tf"].startswith("not in the snapshot:")
    assert problems["steady_linear"] == "not registered in this environment"


# --- verdicts of schema 3: precision, inconclusive, and the CPU's vector extensions (in process) ---------------


def _side(records, flags=("avx2", "fma"), capability="AVX2", name="base"):
    from harness.gate import Side
    from harness.results import Record

    made = {}
    for pair, verdict, extra in records:
        r = Record(pair=pair, check="gradient", dtype="float32", device="cpu", mode="eval", verdict=verdict, **extra)
        made[r.key] = r
    env = {"cpu_vector_extensions": {"flags": list(flags), "torch_cpu_capability": capability}}
    return Side([Path(f"/runs/{name}")], made, env)


def _oracle(side: str, tolerances: float) -> dict:
    return {"oracle": {"less_accurate": side, "tensors": {"grad weight": {
        "sides": ["torch", "tf"], "less_accurate": side, side: {"tolerances": tolerances}}}},
        "metrics": {"grad weight": {"headroom": 1.5}}}


def _findings(base, cand):
    from dataclasses import replace

    from harness.gate import Thresholds, gate

    return {(f.kind, f.pair): f for f in gate(base, replace(cand, directories=[Path("/runs/cand")]),
                                              Thresholds()).findings}


def test_precision_to_fail_is_a_regression_and_pass_to_inconclusive_loses_coverage():
    base = _side([("a", "precision", _oracle("torch", 1.2)), ("b", "pass", {}), ("c", "pass", {})])
    cand = _side([("a", "fail", {"message": "float64 diverges too"}), ("b", "inconclusive", {"message": "all empty"}),
                  ("c", "pass", {})])
    found = _findings(base, cand)
    assert found[("regression", "a")].crosses and found[("regression", "a")].baseline == "precision"
    assert found[("coverage lost", "b")].crosses
    assert not [k for k in found if k[1] == "c"]


def test_a_precision_effect_is_listed_when_it_appears_and_crosses_when_it_grows():
    appears = _findings(_side([("a", "pass", {"metrics": {"w": {"headroom": 0.9}}})]),
                        _side([("a", "precision", _oracle("tf", 1.1))]))
    assert not appears[("precision", "a")].crosses and "tf float32" in appears[("precision", "a")].candidate
    grows = _findings(_side([("a", "precision", _oracle("torch", 1.2))]),
                      _side([("a", "precision", _oracle("tf", 30.0))]))
    assert grows[("precision growth", "a")].crosses
    assert "torch less accurate" in grows[("precision", "a")].baseline  # the side changed, listed
    steady = _findings(_side([("a", "precision", _oracle("torch", 1.2))]),
                       _side([("a", "precision", _oracle("torch", 1.3))]))
    assert not steady


def test_the_gate_says_when_the_two_cpus_differ_in_vector_extensions():
    from harness.gate import Thresholds, gate, text

    base = _side([("a", "pass", {})])
    cand = _side([("a", "pass", {})], flags=("avx2", "fma", "avx512f"), capability="AVX512", name="cand")
    report = text(gate(base, cand, Thresholds()))
    assert "CPUs differ in vector extensions" in report and "candidate only: ['avx512f'], torch AVX512" in report
    assert "vector extensions" not in text(gate(base, _side([("a", "pass", {})], name="cand"), Thresholds()))
