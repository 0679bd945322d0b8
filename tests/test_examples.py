"""The shipped real-model ports (``examples/``), run as a user runs them: ``conform run --pairs-from``.

HF ``transformers`` BertModel and ResNetModel against keras_hub's backbones, at the ``smoke``
profile (the minimal configuration, one layer or one block per stage, the wide one and one
drawn, and two drawn examples per record); ``make examples`` runs them at the ``ci`` profile. The ports done
right pass every check they declare (a float32 ``precision`` record is a pass that names the
less accurate side); the ports at the libraries' defaults reproduce their declared divergences.
The framework defects they found are the ledger's (``tests/test_ledger.py`` runs the reproducers).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from tests.e2e import ROOT, conform, records

pytest.importorskip("transformers", reason="the models extra is not installed (make installs it)")
pytest.importorskip("keras_hub", reason="the models extra is not installed (make installs it)")

pytestmark = pytest.mark.slow  # the real models, at the smoke profile here; `make examples` runs the ci profile

EXAMPLES = ROOT / "examples"
PASSING = {"pass", "precision"}


@pytest.fixture(scope="module")
def examples_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples") / "run"
    result = conform("run", "--pairs-from", str(EXAMPLES / "hf_bert.py"), "--pairs-from",
                     str(EXAMPLES / "hf_resnet.py"), "--profile", "smoke", "--out", str(out), cwd=ROOT)
    return result, records(out), json.loads((out / "environment.json").read_text())


def verdicts(records, pair):
    found = defaultdict(set)
    for r in records:
        if r["pair"] == pair:
            found[(r["check"], r["dtype"], r["mode"])].add(r["verdict"])
    return found


def test_the_real_model_ports_pass_as_a_user_runs_them(examples_run):
    result, records, _ = examples_run
    assert result.returncode == 0, result.stdout[-5000:]
    assert {r["verdict"] for r in records} <= PASSING | {"known-divergence"}, \
        [(r["pair"], r["check"], r["dtype"], r["mode"], r["message"][:500]) for r in records if r["verdict"] == "fail"]


def test_bert_passes_every_check_in_float32_and_serialises_in_both_dtypes(examples_run):
    _, records, _ = examples_run
    bert = verdicts(records, "bert_backbone")
    assert {check for check, _, _ in bert} == {"forward", "gradient", "serialization"}
    assert {mode for _, _, mode in bert} == {"eval", "graph"}
    assert all(v <= PASSING for (_, dtype, _), v in bert.items() if dtype == "float32")
    assert bert[("serialization", "float64", "eval")] == {"pass"}
    ids = next(r for r in records if r["pair"] == "bert_backbone" and r["check"] == "gradient")
    assert set(ids["coverage"]["no_gradient"]) == {"token_ids (int64)", "segment_ids (int64)", "padding_mask (int64)"}


@pytest.mark.parametrize("pair", ["bert_keras_add_bias", "bert_hf_exact_gelu", "bert_hf_padding_idx"])
def test_each_divergence_of_a_port_at_the_defaults_reproduces(examples_run, pair):
    _, records, _ = examples_run
    found = verdicts(records, pair)
    assert found and all(v == {"known-divergence"} for v in found.values()), found


def test_resnet_passes_in_float32_and_its_float64_input_rounding_reproduces(examples_run):
    _, records, _ = examples_run
    for pair in ("resnet_basic", "resnet_bottleneck"):
        found = verdicts(records, pair)
        assert all(v <= PASSING for (_, dtype, _), v in found.items() if dtype == "float32"), found
        assert found[("forward", "float64", "eval")] == {"known-divergence"}
        assert found[("serialization", "float64", "eval")] == {"pass"}


def test_the_environment_records_the_model_libraries_the_pair_files_import(examples_run):
    _, _, environment = examples_run
    assert {"transformers", "keras-hub", "hypothesis"} <= set(environment["pair_packages"])
