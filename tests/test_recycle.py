"""Records are made in a child process (harness.recycle): replaced as it grows, and its death costs one record."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness import recycle
from tests.e2e import ROOT, conform, records

CRASH = str(ROOT / "tests" / "crash_pairs.py")


def job(pair: str, **changes) -> recycle.Job:
    fields = dict(pair=pair, check="forward", dtype="float32", device="cpu", mode="eval", pairs_from=(CRASH,),
                  max_examples=2, case=None, run_id="", timeout=None, profile="smoke")
    return recycle.Job(**{**fields, **changes})


def test_the_pytest_process_imports_no_framework():
    code = ("import sys, harness.pytest_plugin, harness.recycle; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_rss_reads_this_process_and_nothing_for_a_process_that_is_gone():
    assert recycle.rss(os.getpid()) > 1_000_000
    assert recycle.rss(2**22 + 12345) == 0


@pytest.mark.slow
@pytest.mark.parametrize("tf32", [False, True])
def test_the_runs_settings_hold_in_the_child_that_makes_the_records_and_its_snapshot_is_taken_there(tf32):
    """A GPU run's TF32 choice was once set in the pytest process, which makes no record (TF's default, TF32 on,
    reached them), and environment.json described that process. The flags exist without a GPU, so this runs here."""
    worker = recycle.Worker(settings=recycle.Settings(device="cuda", tf32=tf32, threads=1))
    try:
        snapshot = worker.environment({"run_id": "settings"})
        settings = snapshot["settings"]
        assert (settings["torch_tf32_matmul"], settings["torch_tf32_cudnn"], settings["tf_tf32"]) == (tf32,) * 3
        threads = int(os.environ.get("CONFORM_THREADS", "1"))  # a user's own setting wins
        assert settings["threads"] == settings["torch_threads"] == settings["tf_intra_op_threads"] == threads
        assert snapshot["run_id"] == "settings"
        assert worker.run(job("survivor"))["verdict"] == "pass"
        assert worker.started == 1  # the child that took the snapshot made the record
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_child_is_replaced_after_its_records_and_after_a_death():
    worker = recycle.Worker(max_records=2)
    try:
        made = [worker.run(job("survivor")) for _ in range(3)]
        assert [r["verdict"] for r in made] == ["pass"] * 3
        assert worker.started == 2  # the third record needed a fresh child
        died = worker.run(job("killed_while_building"))
        assert died["verdict"] == "error" and "died (signal SIGKILL)" in died["message"]
        assert worker.run(job("survivor"))["verdict"] == "pass"  # and the next record gets a fresh one
        assert worker.started == 3  # the one that died had made the third record
    finally:
        worker.stop()


@pytest.mark.slow
def test_a_pair_that_kills_its_process_is_an_error_record_and_the_run_goes_on(tmp_path):
    result = conform("run", "--pairs-from", CRASH, "--dtype", "float32", "--profile", "smoke", "--out", "crash",
                     cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    by_pair = {r["pair"]: r for r in records(tmp_path / "crash")}
    assert by_pair["killed_while_building"]["verdict"] == "error"
    assert by_pair["killed_while_building"]["error"]["type"] == "ProcessDied"
    assert by_pair["survivor"]["verdict"] == "pass"
