"""What a newcomer's first trial hit (issue 27), each fixed or said: the map's stage layouts, a refused smallest case,
the run's header, what `conform list --pairs-from` lists, a pair file's sibling import, a round trip's message."""

from __future__ import annotations

import json

import pytest

from harness import registry
from harness.check import Target, run_check
from tests.e2e import ROOT, conform, records

PAIRS = str(ROOT / "tests" / "newcomer" / "newcomer_pairs.py")


def test_a_pair_file_imports_its_sibling_modules():
    catalogue = registry.load([PAIRS])
    assert {"conv_gelu_conv", "tanh_gelu", "batch_stats"} <= set(catalogue.pairs)


@pytest.mark.slow
def test_map_gives_an_activation_between_convolutions_their_layout_and_the_pasted_stages_localise_it(tmp_path):
    mapped = conform("map", "conv_gelu_conv", "--pairs-from", PAIRS, cwd=tmp_path)
    assert mapped.returncode == 0, mapped.stderr
    assert "Stage('1', torch='1', tf='layers.1', layout='channels_first')," in mapped.stdout  # the GELU's
    pair = registry.load([PAIRS]).pairs["tanh_gelu"]  # its stages are the printed ones, pasted
    record = run_check(Target(pair, "forward", "float32", source=PAIRS), max_examples=2)
    assert record.verdict == "fail"
    assert record.localisation["first"] == "1", record.message  # the GELU, not a convolution, and no "inf"
    assert all(r["max_abs_error"] != float("inf") for r in record.localisation["stages"])


def test_map_names_the_side_that_refuses_the_smallest_case_and_suggests_dims(tmp_path):
    refused = conform("map", "batch_stats", "--pairs-from", PAIRS, cwd=tmp_path)
    assert refused.returncode == 2
    assert "the torch side raised during forward at the smallest dims its strategies draw" in refused.stderr
    assert "Expected more than 1 value per channel" in refused.stderr and "--dims batch=2" in refused.stderr


def test_list_with_pairs_from_lists_what_run_with_pairs_from_runs(tmp_path):
    listed = conform("list", "--pairs-from", PAIRS, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()[:-1]]
    assert names == ["conv_gelu_conv", "tanh_gelu", "batch_stats"]
    assert listed.stdout.splitlines()[-1].startswith(f"3 pairs from {PAIRS} (the catalogue's")


@pytest.mark.slow
def test_the_run_header_says_the_examples_asked_for_and_the_coverage_cases_on_top(tmp_path):
    done = conform("run", "--pairs-from", PAIRS, "--pairs", "conv_gelu_conv", "--dtype", "float32",
                   "--max-examples", "5", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "conform: profile ci: 5 drawn examples per record" in done.stdout
    assert "every record runs its coverage cases" in done.stdout
    assert "max_examples=20" not in done.stdout  # hypothesis's own header, which named the profile's default
    (record,) = records(tmp_path / "out")
    assert record["examples"] > 5 and json.loads((tmp_path / "out" / "environment.json").read_text())[
        "max_examples"] == 5


@pytest.mark.slow
def test_a_round_trip_that_changes_a_config_says_so_not_that_frameworks_diverge():
    from tests.finding_pairs import user_sequential_mlp

    record = run_check(Target(user_sequential_mlp, "serialization", "float64"), max_examples=2)
    assert record.verdict == "fail"
    assert record.message.startswith("a save/load round trip does not reproduce the layer (each framework against "
                                     "itself)")


@pytest.mark.slow
def test_the_pixel_shuffle_trial_fails_the_naive_port_and_passes_the_fixed_one_compiled():
    pairs = registry.load([str(ROOT / "tests" / "newcomer" / "pixel_shuffle_pairs.py")]).pairs
    naive = run_check(Target(pairs["pixel_shuffle_naive"], "forward", "float64"), max_examples=2)
    assert naive.verdict == "fail", naive.message
    fixed = run_check(Target(pairs["pixel_shuffle"], "gradient", "float32", mode="graph"), max_examples=4)
    assert fixed.verdict == "pass", fixed.message  # several channel counts through graph mode's reuse
    assert fixed.coverage["configurations"] >= 2
