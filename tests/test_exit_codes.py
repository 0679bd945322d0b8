"""Exit codes CI can rely on, run as CI runs them: a subprocess, its exit code, its output.

0: no record has a verdict of ``--fail-on``; 1: one does (a timeout is an error record);
2: the user must change something (usage, input, an unusable ``--out``, an unreadable results
file), said in one line without a traceback; 130: interrupted, every finished record kept;
3: a fault of the harness itself. The README's table is this file's list.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e import LIMIT, conform, records

HERE = Path(__file__).resolve().parent
PAIRS = str(HERE / "ci_pairs.py")
QUICK = ("run", "--pairs-from", PAIRS, "--pairs", "quick_double", "--dtype", "float32", "--max-examples", "2")


def usage_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 2, one `conform: error:` line naming the problem, and no traceback."""
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """One finished run of the quick pair (two records), reused by the tests that read or gate it."""
    cwd = tmp_path_factory.mktemp("exit")
    result = conform(*QUICK, "--out", "done", cwd=cwd)
    assert result.returncode == 0, result.stdout[-3000:]
    return cwd, cwd / "done"


# --- 0 and 1 ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_finished_run_exits_0_and_run_json_says_it_finished(done):
    _, out = done
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["exit_status"] == 0
    assert run["selected"] == run["completed"] == len(records(out)) == 1
    assert run["started"] <= run["ended"] and run["selection"]["pairs"] == ["quick_double"]


@pytest.mark.slow
def test_a_hanging_layer_times_out_into_an_error_record_and_the_run_goes_on(tmp_path):
    result = conform("run", "--pairs-from", PAIRS, "--dtype", "float32", "--max-examples", "2", "--timeout", "2",
                     "--out", "hang", cwd=tmp_path, env={"CONFORM_TEST_HANG": "1000"})
    assert result.returncode == 1, result.stdout[-3000:]
    # the console named what was running (pytest -v: one line per check, with the progress)
    assert "test_pair[hanging_double-forward-float32-cpu-eval]" in result.stdout
    by_pair = {r["pair"]: r for r in records(tmp_path / "hang")}
    hung = by_pair["hanging_double"]
    assert hung["verdict"] == "error" and hung["error"]["framework"] == "tf" and hung["error"]["stage"] == "forward"
    assert "ran past its time limit of 2 s in tf during forward" in hung["message"]
    assert hung["duration_s"] < 60  # one wait of 2 s, not one per hypothesis replay
    assert by_pair["quick_double"]["verdict"] == "pass"  # the run went on to the next check


# --- 2: usage and input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [
    (("--checks", "statistics"), "nothing selected: the 1 chosen pair(s) declare checks ['forward']"),
    (("--device", "tpu"), "unknown device 'tpu': use cpu, cuda or cuda:N"),
    (("--case", '{"params": {"batch": 1}}'), "--case for pair 'quick_double' lacks ['features']"),
    (("--fail-on", "fail,maybe"), "unknown verdicts ['maybe']"),
    (("--timeout", "0"), "--timeout must be > 0"),
    (("--resume", "--overwrite"), "--resume and --overwrite exclude each other"),
])
def test_a_bad_selection_is_refused_before_anything_runs(tmp_path, args, expected):
    usage_error(conform(*QUICK, *args, "--out", "x", cwd=tmp_path), expected)
    assert not (tmp_path / "x").exists()


def test_a_pair_file_without_pairs_selects_nothing(tmp_path):
    empty = tmp_path / "empty_pairs.py"
    empty.write_text("X = 1\n")
    usage_error(conform("run", "--pairs-from", str(empty), "--out", "x", cwd=tmp_path),
                f"nothing selected: no pair is defined in {empty}")


def test_a_pair_file_with_a_syntax_error_is_named_with_its_line_in_one_line(tmp_path):
    broken = tmp_path / "broken_pairs.py"
    broken.write_text("from harness import LayerPair\n\npair = LayerPair(name='x'\n")
    result = conform("run", "--pairs-from", str(broken), "--out", "x", cwd=tmp_path)
    usage_error(result, f"--pairs-from {broken}:3: SyntaxError: ")
    assert len(result.stderr.strip().splitlines()) == 1
    raising = tmp_path / "raising_pairs.py"
    raising.write_text("import math\n\nmath.sqrt(-1)\n")
    usage_error(conform("list", "--pairs-from", str(raising), cwd=tmp_path),
                f"--pairs-from {raising}:3: ValueError: math domain error")


@pytest.mark.slow
def test_cuda_without_a_gpu_is_exit_2_unless_missing_devices_are_allowed(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda runs for real")
    usage_error(conform(*QUICK, "--device", "cuda", "--out", "x", cwd=tmp_path), "--allow-missing-device")
    allowed = conform(*QUICK, "--device", "cuda", "--allow-missing-device", "--out", "y", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stdout[-3000:]
    assert {r["verdict"] for r in records(tmp_path / "y")} == {"skip"}


def test_an_out_that_is_a_file_or_cannot_be_written_is_exit_2(tmp_path):
    (tmp_path / "a_file").write_text("")
    usage_error(conform(*QUICK, "--out", "a_file", cwd=tmp_path), "a file is there, not a directory")
    unwritable = "/sys/conform-results" if os.geteuid() == 0 else str(tmp_path / "locked" / "out")
    if os.geteuid() != 0:
        (tmp_path / "locked").mkdir(mode=0o555)
    usage_error(conform(*QUICK, "--out", unwritable, cwd=tmp_path), "cannot write there")


# --- result directories are never mixed ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_into_the_same_out_is_refused_unless_resume_or_overwrite(done, tmp_path):
    cwd, out = done
    usage_error(conform(*QUICK, "--out", str(out), cwd=cwd), "already holds a run", "--resume", "--overwrite")
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in ("results.jsonl", "environment.json", "run.json"):
        (copy / f).write_text((out / f).read_text())
    again = conform(*QUICK, "--out", str(copy), "--overwrite", cwd=tmp_path)
    assert again.returncode == 0 and len(records(copy)) == 1
    usage_error(conform(*QUICK, "--dtype", "float64", "--out", str(copy), "--resume", cwd=tmp_path),
                "--resume appends only a run of the same selection; these differ: dtypes")


@pytest.mark.slow
def test_resume_after_a_killed_run_heals_the_cut_line_and_runs_only_what_is_missing(tmp_path):
    both = ("run", "--pairs-from", PAIRS, "--pairs", "quick_double", "--max-examples", "2")
    first = conform(*both, "--out", "killed", cwd=tmp_path)
    assert first.returncode == 0
    results = tmp_path / "killed" / "results.jsonl"
    lines = results.read_text().splitlines()
    assert len(lines) == 2
    # a run killed while writing its second record: half a line, no newline, run.json still "running"
    results.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    run = json.loads((tmp_path / "killed" / "run.json").read_text())
    (tmp_path / "killed" / "run.json").write_text(json.dumps({**run, "status": "running", "ended": None}))
    report = conform("report", "killed", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "killed" / "index.html").read_text()
    assert "is incomplete" in page and "did not finish" in page and "after 1 of 2 checks" in page
    resumed = conform(*both, "--out", "killed", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "1 passed" in resumed.stdout  # only the missing check ran
    healed = records(tmp_path / "killed")
    assert sorted(r["dtype"] for r in healed) == ["float32", "float64"]
    assert json.loads((tmp_path / "killed" / "run.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_sigint_exits_130_and_keeps_every_finished_record(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--pairs-from", PAIRS, "--dtype", "float32", "--max-examples", "2",
         "--out", "stopped"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent), "CONFORM_TEST_HANG": "1000"})
    results = tmp_path / "stopped" / "results.jsonl"
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline and not (results.is_file() and results.read_text().count("\n") >= 1):
        time.sleep(0.5)  # quick_double runs first and writes its record; then hanging_double sleeps
        if process.poll() is not None:
            break
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=LIMIT)
    assert process.returncode == 130, err[-3000:]
    run = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert run["status"] == "interrupted"
    assert "--resume" in err


# --- 2: unreadable results files, for report and gate -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("damage, expected", [
    ("utf8", "not UTF-8"),
    ("nesting", "nested too deeply"),
    ("type", "field 'examples' must be int, found str"),
    ("huge", "a string of 2,000,000 characters"),
    ("long_line", "a line of"),
    ("middle", "corrupt line"),
])
def test_an_unreadable_results_file_is_exit_2_naming_file_and_line(done, tmp_path, damage, expected):
    _, out = done
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "environment.json").write_text((out / "environment.json").read_text())
    good = (out / "results.jsonl").read_text().splitlines()[0]
    record = json.loads(good)
    line = {
        "utf8": good.encode().replace(b'"pass"', b'"p\xffss"'),
        "nesting": (good[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
        "type": json.dumps({**record, "examples": "many"}).encode(),
        "huge": json.dumps({**record, "message": "x" * 2_000_000}).encode(),
        "long_line": json.dumps({**record, "per_example": ["y" * 900_000] * 20}).encode(),
        "middle": b"{not json",
    }[damage]
    (bad / "results.jsonl").write_bytes(good.encode() + b"\n" + line + b"\n" + good.encode() + b"\n")
    for command in (("report", str(bad)), ("gate", str(out), str(bad), "--no-replay")):
        usage_error(conform(*command, cwd=tmp_path), f"{bad / 'results.jsonl'}:2: ", expected)


# --- the gate: a candidate that ran less is not a pass ------------------------------------------------------------


def _copy(out: Path, target: Path, keep: int | None = None) -> Path:
    target.mkdir()
    for f in ("environment.json", "run.json"):
        (target / f).write_text((out / f).read_text())
    lines = (out / "results.jsonl").read_text().splitlines()
    (target / "results.jsonl").write_text("".join(x + "\n" for x in lines[:keep]))
    return target


@pytest.mark.slow
def test_the_gate_refuses_empty_sides_and_the_same_directory_twice(done, tmp_path):
    cwd, out = done
    usage_error(conform("gate", str(out), str(out), "--no-replay", cwd=cwd), "the same directory is on both sides")
    empty = _copy(out, tmp_path / "empty", keep=0)
    usage_error(conform("gate", str(empty), str(_copy(out, tmp_path / "empty2", keep=0)), "--no-replay", cwd=cwd),
                "holds no record and no benchmark")
    usage_error(conform("gate", str(out), str(empty), "--no-replay", cwd=cwd), "candidate")


@pytest.mark.slow
def test_a_candidate_missing_keys_or_examples_crosses(tmp_path):
    both = ("run", "--pairs-from", PAIRS, "--pairs", "quick_double", "--max-examples", "2")
    assert conform(*both, "--out", "base", cwd=tmp_path).returncode == 0
    base = tmp_path / "base"
    partial = _copy(base, tmp_path / "partial", keep=1)
    gate = conform("gate", str(base), str(partial), "--no-replay", cwd=tmp_path)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "missing in candidate" in gate.stdout and gate.stdout.strip().endswith("quick_double")
    fewer = _copy(base, tmp_path / "fewer")
    lines = [json.loads(x) for x in (fewer / "results.jsonl").read_text().splitlines()]
    lines[0]["examples"] = 1
    (fewer / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    gate = conform("gate", str(base), str(fewer), "--no-replay", cwd=tmp_path)
    assert gate.returncode == 1 and "fewer examples" in gate.stdout
    run = json.loads((partial / "run.json").read_text())
    (partial / "run.json").write_text(json.dumps({**run, "status": "interrupted"}))
    gate = conform("gate", str(base), str(partial), "--no-replay", cwd=tmp_path)
    assert "note: the candidate is incomplete" in gate.stdout and "interrupted after 1 of 2 checks" in gate.stdout
