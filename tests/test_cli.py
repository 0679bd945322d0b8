"""The ``conform`` command end to end, in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.e2e import conform, records

BROKEN = str(Path(__file__).with_name("broken_pairs.py"))


def test_list_json_gives_name_origin_and_checks_for_every_pair(tmp_path):
    result = conform("list", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pairs = json.loads(result.stdout)
    assert pairs, "the built-in catalogue is empty"
    for pair in pairs:
        assert pair["name"] and pair["checks"]
        origin = pair["origin"]
        assert origin["tutorial_name"]
        # a tutorial's file, or the atlas with the counterpart and setting it measures
        assert origin["seed"].endswith(".txt") or (origin["seed"] == "harness/atlas" and origin["atlas"]["counterpart"])
    assert len({p["name"] for p in pairs}) == len(pairs)


def test_an_unknown_pair_is_a_usage_error_listing_close_matches(tmp_path):
    result = conform("run", "--pairs-from", BROKEN, "--pairs", "correct_linaer", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean correct_linear" in result.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("args", [["--dtype", "float16"], ["--checks", "speed"], ["--case", "{}"]])
def test_bad_options_are_usage_errors(tmp_path, args):
    result = conform("run", "--pairs-from", BROKEN, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr


@pytest.mark.slow
def test_a_run_writes_results_and_its_repro_command_replays_the_failure(tmp_path):
    result = conform("run", "--pairs-from", BROKEN, "--pairs", "correct_linear", "gradient_at_zero",
                     "raises_in_tf", "--max-examples", "5", "--checks", "forward,gradient", "--modes", "eval",
                     cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    latest = tmp_path / "reports" / "latest"
    assert latest.is_symlink() and (latest / "environment.json").is_file()
    environment = json.loads((latest / "environment.json").read_text())
    assert environment["torch_version"].startswith("2.") and environment["keras_version"].startswith("3.")
    assert environment["settings"]["threads"] >= 1
    assert environment["settings"]["TF_ENABLE_ONEDNN_OPTS"] == "0"
    by_key = {(r["pair"], r["check"], r["dtype"]): r for r in records(latest)}
    assert len(by_key) == 12  # 3 pairs x 2 checks x 2 dtypes: the raising pair did not stop the run
    assert {r["verdict"] for k, r in by_key.items() if k[0] == "correct_linear"} == {"pass"}
    assert {r["verdict"] for k, r in by_key.items() if k[0] == "raises_in_tf"} == {"error"}
    failure = by_key[("gradient_at_zero", "gradient", "float32")]
    assert failure["verdict"] == "fail" and failure["divergence_kind"] == "semantic"

    page = (latest / "index.html").read_text()
    assert "gradient_at_zero" in page and "raises_in_tf" in page  # the run ends by writing its report

    argv = shlex.split(failure["repro"])
    assert argv[0] == "conform"
    replay = conform(*argv[1:], "--out", "replay", cwd=tmp_path)
    assert replay.returncode == 1
    (again,) = records(tmp_path / "replay")
    assert again["minimal_case"] == failure["minimal_case"] and again["metrics"] == failure["metrics"]


@pytest.mark.slow
def test_a_clean_run_exits_zero(tmp_path):
    result = conform("run", "--pairs-from", BROKEN, "--pairs", "correct_linear", "declared_and_real",
                     "--max-examples", "3", "--modes", "eval", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = {(r["pair"], r["check"]): r["verdict"] for r in records(tmp_path / "out")}
    assert verdicts[("declared_and_real", "gradient")] == "known-divergence"


def test_report_merges_directories_and_refuses_a_corrupt_one(tmp_path):
    from harness.results import Record, ResultsWriter

    for shard, pair in (("a", "first_pair"), ("b", "second_pair")):
        writer = ResultsWriter(tmp_path / shard)
        writer.write(Record(pair=pair, check="forward", dtype="float32", device="cpu", mode="eval", verdict="pass"))
        writer.close()
    result = conform("report", "a", "b", "--out", "merged.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "merged.html").read_text()
    assert "first_pair" in page and "second_pair" in page

    with (tmp_path / "b" / "results.jsonl").open("a") as f:
        f.write("{truncated\n")
    broken = conform("report", "a", "b", cwd=tmp_path)
    assert broken.returncode == 2 and "results.jsonl:2: corrupt line" in broken.stderr
