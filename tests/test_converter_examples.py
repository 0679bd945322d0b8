"""keras_hub's Hugging Face converters (``examples/keras_hub_converters.py``), run as a user runs them.

A selection at the ``smoke`` profile in eval mode keeps ``make test`` in its budget: an encoder,
a decoder with rotary embeddings and grouped-query attention, the float16-rounding converter, a
vision model and a finding pair; ``make examples`` runs every pair in every mode at the ``ci``
profile. Each converter pair passes or reproduces its declared finding, its gradient records list
the map probed off the converter, and the findings script exits 1 while the defects are present.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e import ROOT, conform, records

pytest.importorskip("transformers", reason="the models extra is not installed (make installs it)")
pytest.importorskip("keras_hub", reason="the models extra is not installed (make installs it)")

pytestmark = pytest.mark.slow

CONVERTERS = ROOT / "examples" / "keras_hub_converters.py"
SELECTED = ("bert_converter", "llama3_converter", "mistral_converter", "vit_converter", "llama3_converter_norm_eps")


@pytest.fixture(scope="module")
def converters_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("converters") / "run"
    result = conform("run", "--pairs-from", str(CONVERTERS), "--pairs", *SELECTED, "--modes", "eval",
                     "--profile", "smoke", "--out", str(out), cwd=ROOT)
    return result, records(out)


def test_every_converter_pair_passes_or_reproduces_its_declared_finding(converters_run):
    result, found = converters_run
    assert result.returncode == 0, result.stdout[-5000:]
    assert {r["pair"] for r in found} == set(SELECTED)
    assert {r["verdict"] for r in found} <= {"pass", "precision", "known-divergence"}, \
        [(r["pair"], r["check"], r["dtype"], r["message"][:300]) for r in found if r["verdict"] in ("fail", "error")]
    float32 = {(r["pair"], r["check"]): r["verdict"] for r in found if r["dtype"] == "float32"}
    assert all(float32[(p, c)] in ("pass", "precision") for p in ("bert_converter", "llama3_converter", "vit_converter")
               for c in ("forward", "gradient"))


def test_a_gradient_record_lists_the_map_probed_off_keras_hubs_converter(converters_run):
    _, found = converters_run
    llama = next(r for r in found if r["pair"] == "llama3_converter" and r["check"] == "gradient"
                 and r["dtype"] == "float32")
    assert "transpose" in llama["weight_map"]["model.layers.0.self_attn.q_proj.weight"]
    assert "transformer_layer_0/" in llama["weight_map"]["model.layers.0.mlp.down_proj.weight"]


def test_the_float16_rounding_converter_is_named_variable_by_variable(converters_run):
    _, found = converters_run
    mistral = next(r for r in found if r["pair"] == "mistral_converter" and r["check"] == "gradient"
                   and r["dtype"] == "float32")
    assert mistral["verdict"] == "known-divergence"
    rounded = [m["note"] for name, m in mistral["metrics"].items() if name.startswith("converter ")]
    assert rounded and all("through float16" in note for note in rounded)
    assert any("'model.embed_tokens.weight'" in note for note in rounded)


@pytest.mark.parametrize("finding", ["bert_gelu", "mistral_float16", "llama3_norm_eps"])
def test_the_findings_script_exits_1_while_a_defect_is_present(finding):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "keras_hub_converter_findings.py"), finding],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{finding}" in result.stdout and "PRESENT" in result.stdout
