"""The findings ledger: entries as data, recognised on anyone's record, never hiding a port's own slip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import ledger, registry
from harness.check import Target, run_check
from harness.results import Record
from harness.spec import CHECKS, DTYPES, MODES
from tests.e2e import ROOT, conform

PAIRS = str(ROOT / "tests" / "finding_pairs.py")


def test_every_entry_is_complete_and_has_its_reproducer():
    ids = [d.id for d in ledger.DEFECTS]
    assert len(ids) == len(set(ids)) and len(ids) >= 20
    for d in ledger.DEFECTS:
        assert (ROOT / d.reproducer).is_file(), d.reproducer
        assert d.summary and d.expected and d.actual and d.seen and d.found_by.startswith("conform ")
        sig = d.signature
        assert set(sig.checks) <= set(CHECKS) and set(sig.dtypes) <= set(DTYPES) and set(sig.modes) <= set(MODES)
        declared = ledger.declared(d.id, sig.checks[0] if sig.checks else "forward")  # declared-only: no checks
        assert declared.strict and declared.finding == d.id and d.command in declared.reason
    with pytest.raises(ValueError, match="no ledger entry 'nope'"):
        ledger.entry("nope")


def test_the_pairs_that_describe_a_framework_defect_point_at_its_entry():
    catalogue = registry.load([str(ROOT / "examples" / name) for name in ("hf_bert.py", "hf_resnet.py",
                                                                          "keras_hub_converters.py")])
    pointing = {k.finding for p in catalogue.pairs.values() for k in p.known_divergences if k.finding}
    assert {"tf-gelu-exact-float64", "tf-image-resize-float64", "keras-mha-scale-float32",
            "keras-sequential-dtype-reload", "torch-nearest-exact-cuda-backward", "keras-ops-add-broadcast",
            "tf-gelu-tanh-float32-constant", "keras-hub-image-input-float32", "keras-hub-mistral-float16",
            "keras-hub-rms-norm-float32", "xla-float64-bilinear-gradient", "torch-inductor-avg-pool-ceil-backward",
            "xla-sqrt-grad-zero"} <= pointing
    for pair in catalogue.pairs.values():
        for k in pair.known_divergences:
            assert k.finding is None or k.reason == ledger.entry(k.finding).reason  # said once, in the ledger


def _record(**fields) -> Record:
    base = dict(pair="p", check="forward", dtype="float64", device="cpu", mode="eval", verdict="fail",
                oracle={"float32_sized": True, "side": "tf"}, message="")
    return Record(**{**base, **fields})


def test_a_signature_admits_only_its_check_dtype_verdict_and_evidence():
    mha = ledger.entry("keras-mha-scale-float32").signature
    assert mha.admits(_record())
    assert not mha.admits(_record(dtype="float32"))
    assert not mha.admits(_record(oracle={"float32_sized": False, "side": "tf"}))  # a semantic slip is no rounding
    assert not mha.admits(_record(verdict="pass"))
    assert mha.holds(ledger.Evidence(keras_classes=frozenset({"CachedMultiHeadAttention", "MultiHeadAttention"})))
    assert not mha.holds(ledger.Evidence(keras_classes=frozenset({"Dense"})))
    reload = ledger.entry("keras-sequential-dtype-reload").signature
    assert reload.admits(_record(check="serialization", oracle=None,
                                 message="config: keys that differ: dtype: {'name': 'float64'} -> {'name': 'float32'}"))
    assert not reload.admits(_record(check="serialization", message="keras .keras save/load: weights lost"))


def _run(name: str, check: str, dtype: str = "float64") -> Record:
    pair = registry.load([PAIRS]).pairs[name]
    return run_check(Target(pair, check, dtype, source=PAIRS), max_examples=3)


@pytest.mark.slow
def test_a_user_s_correct_ports_name_the_defects_they_meet():
    reload = _run("user_sequential_mlp", "serialization")
    assert reload.verdict == "fail"  # a match labels, it never turns a record green
    assert [f["id"] for f in reload.findings] == ["keras-sequential-dtype-reload"]
    assert "is consistent with framework defect keras-sequential-dtype-reload" in reload.message
    attention = _run("user_attention", "forward")
    assert attention.verdict == "fail"
    (found,) = attention.findings
    assert found["id"] == "keras-mha-scale-float32" and found["confirmed"] is True
    assert "python examples/findings/keras_mha_scale_float32.py" in attention.message
    assert _run("user_attention", "forward", "float32").findings is None  # float32 says precision, not a defect


@pytest.mark.slow
def test_a_user_s_pool_port_names_the_inductor_defect_it_meets_in_graph_mode():
    pair = registry.load([PAIRS]).pairs["user_avg_pool"]
    record = run_check(Target(pair, "gradient", "float64", mode="graph", source=PAIRS), max_examples=3)
    assert record.verdict == "fail"  # labelled, still red
    assert [f["id"] for f in record.findings] == ["torch-inductor-avg-pool-ceil-backward"]
    assert "torch.compile" in record.message


@pytest.mark.slow
def test_a_real_divergence_of_the_defect_s_size_on_a_ledger_layer_still_fails_and_is_not_labelled():
    record = _run("user_attention_off", "forward")
    assert record.verdict == "fail" and record.findings is None
    assert "framework defect" not in record.message


@pytest.mark.slow
def test_a_declared_defect_reproduces_as_a_known_divergence_that_names_its_entry():
    record = _run("user_attention_declared", "forward")
    assert record.verdict == "known-divergence"
    assert [(f["id"], f["declared"]) for f in record.findings] == [("keras-mha-scale-float32", True)]


def test_findings_lists_the_ledger_and_writes_an_upstream_report(tmp_path):
    listing = conform("findings", "--format", "json", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert {d["id"] for d in json.loads(listing.stdout)} == {d.id for d in ledger.DEFECTS}
    report = conform("findings", "--report", "keras-ops-add-broadcast", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    for heading in ("### Versions", "### Reproducer", "### Expected", "### Actual", "### How it was found"):
        assert heading in report.stdout
    assert "- keras: 3.15.1" in report.stdout and "def main" in report.stdout
    unknown = conform("findings", "--report", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no ledger entry 'nope'" in unknown.stderr


# One reproducer of each kind: its own script, a shared one with an argument, one that needs a GPU (`make examples`
# re-checks all of them: `conform findings --check`).
CHECKED = ("keras-ops-add-broadcast", "keras-hub-vit-norm-eps", "torch-nearest-exact-cuda-backward")


@pytest.mark.slow
def test_findings_check_runs_the_reproducers_against_the_installed_versions(tmp_path):
    done = conform("findings", "--check", *CHECKED, "--out", "here", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = {r["id"]: r for r in json.loads((tmp_path / "here" / ledger.FINDINGS_FILE).read_text())}
    assert set(statuses) == set(CHECKED)
    assert statuses["keras-ops-add-broadcast"]["status"] == "present"  # keras 3.15.1, pinned
    assert statuses["keras-hub-vit-norm-eps"]["status"] == "present"  # keras-hub 0.32.0, pinned
    assert statuses["keras-hub-vit-norm-eps"]["detail"].startswith("bug present:")
    assert statuses["torch-nearest-exact-cuda-backward"]["status"] in ("not runnable here", "present", "fixed")
    for r in statuses.values():
        assert r["id"] in done.stdout and r["status"] in done.stdout


def test_a_defect_marked_fixed_that_is_present_again_is_exit_1(monkeypatch, capsys):
    from dataclasses import replace

    from harness import cli

    back = replace(ledger.entry("keras-ops-add-broadcast"), fixed_in="keras 3.16")
    monkeypatch.setattr(ledger, "check", lambda _defects: [{"id": back.id, "framework": "keras", "version": "3.15.1",
                                                   "status": "present", "exit": 1, "detail": "bug present: ...",
                                                   "back": True}])
    assert cli.main(["findings", "--check"]) == 1
    assert "defects marked fixed are back: keras-ops-add-broadcast" in capsys.readouterr().err


def _side(directory: Path, statuses: dict[str, str], verdict: str = "pass", findings=None) -> Path:
    from harness.results import ResultsWriter

    directory.mkdir()
    writer = ResultsWriter(directory)
    writer.write_environment({"torch_version": "2.13.0", "tensorflow_version": "x"})
    writer.write(Record(pair="user_attention", check="forward", dtype="float64", device="cpu", mode="eval",
                        verdict=verdict, examples=3, findings=findings, message="diverge"))
    writer.close()
    (directory / ledger.FINDINGS_FILE).write_text(json.dumps(
        [{"id": i, "framework": "keras", "version": "v", "status": s} for i, s in statuses.items()]))
    return directory


def test_the_gate_lists_defects_a_release_fixed_or_brought_and_failures_no_entry_explains(tmp_path):
    from harness import gate

    base = _side(tmp_path / "base", {"keras-ops-add-broadcast": "present", "keras-mha-scale-float32": "fixed"})
    cand = _side(tmp_path / "cand", {"keras-ops-add-broadcast": "fixed", "keras-mha-scale-float32": "present"},
                 verdict="fail")
    verdict = gate.gate(gate.load_side([base]), gate.load_side([cand]), gate.Thresholds())
    kinds = {(f.kind, f.pair, f.crosses) for f in verdict.findings}
    assert ("ledger: fixed", "keras-ops-add-broadcast", False) in kinds
    assert ("ledger: appeared", "keras-mha-scale-float32", True) in kinds
    text = gate.text(verdict)
    assert "new failures that match no ledger entry: 1 (user_attention)" in text
    assert "fail [no ledger entry]" in text
    matched = _side(tmp_path / "matched", {}, verdict="fail", findings=[{"id": "keras-mha-scale-float32"}])
    text = gate.text(gate.gate(gate.load_side([base]), gate.load_side([matched]), gate.Thresholds()))
    assert "fail [framework defect: keras-mha-scale-float32]" in text and "match no ledger entry: 0" in text


def test_a_defect_the_baseline_could_not_check_is_not_one_the_release_brought(tmp_path):
    """make gate-demo's baseline has no keras_hub: its entries are 'not runnable here' there, present here."""
    from harness import gate

    base = _side(tmp_path / "base", {"keras-hub-bert-gelu": "not runnable here", "keras-mha-scale-float32": "fixed",
                                     "keras-ops-add-broadcast": "reproducer broken"})
    cand = _side(tmp_path / "cand", {"keras-hub-bert-gelu": "present", "keras-mha-scale-float32": "present",
                                     "keras-ops-add-broadcast": "present"})
    verdict = gate.gate(gate.load_side([base]), gate.load_side([cand]), gate.Thresholds())
    rows = {f.pair: (f.kind, f.crosses) for f in verdict.findings if f.kind.startswith("ledger")}
    assert rows["keras-mha-scale-float32"] == ("ledger: appeared", True)  # fixed there, present here: it came back
    assert rows["keras-hub-bert-gelu"] == ("ledger: unchecked in baseline", False)
    assert rows["keras-ops-add-broadcast"] == ("ledger: unchecked in baseline", False)
    assert "1 appeared, 2 checked in the candidate only" in gate.text(verdict)
