"""The HTML report: hand-made result sets rendered, and the page's content checked where it belongs.

Records are written with the real ResultsWriter, so the report reads what a run writes. Checks look
inside the section a thing belongs to (a repro inside its pair's section, a conflict's two verdicts
inside its block), not merely at the page.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.report import render
from harness.results import Record, ResultsError, ResultsWriter

REPRO = ("conform run --pairs broken_dense --checks gradient --dtype float32 --device cpu --case "
         """'{"params":{"batch":1,"features":2},"regime":"zeros","seed":0}'""")
REASON = "torch BatchNorm eps 1e-5 vs Keras 1e-3"
TRACEBACK = 'Traceback (most recent call last):\n  File "tf_side.py", line 41, in _call\nRuntimeError: boom in TF'
SKIP_REASON = "train mode not checked: batch statistics come with the training-mode issue"

ENVIRONMENT: dict[str, Any] = {
    "python": "3.11.7", "torch_version": "2.13.0+cpu", "tensorflow_version": "2.21.0", "keras_version": "3.15.1",
    "packages": {"numpy": "2.4.6"}, "cpu": "Test CPU 9000", "platform": "Linux-test",
    "settings": {"TF_ENABLE_ONEDNN_OPTS": "0", "tf_tf32": False, "torch_tf32_matmul": False, "torch_threads": 4,
                 "torch_interop_threads": 1, "tf_intra_op_threads": 4, "tf_inter_op_threads": 1,
                 "keras_backend": "tensorflow"},
    "command": ["conform", "run", "--max-examples", "7"], "hypothesis_profile": "ci", "max_examples": 7,
    "derandomize": True, "run_id": "run-2024", "created": "2024-05-01T10:00:00+00:00",
}


def metrics(headroom: Any = 0.02, ok: bool = True, name: str = "output") -> dict[str, Any]:
    """One tensor's metrics as compare.TensorMetrics.to_json writes them."""
    return {name: {"name": name, "shape": [2, 3], "ok": ok, "max_abs_error": 1.5e-7, "max_rel_error": 2.5e-7,
                   "mismatched": 0 if ok else 6, "total": 6, "worst_index": [1, 2], "torch_value": 0.123456789,
                   "tf_value": 0.123456666, "headroom": headroom, "note": "", "mismatch_fraction": 0.0 if ok else 1.0}}


def examples(*headrooms: Any, params: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """per_example entries as check.run_check writes them."""
    return [{"case": {"params": params or {"batch": 1, "features": i + 1}, "regime": "normal", "seed": i},
             "headroom": h, "ok": not float(h) >= 1, "tensors": {}} for i, h in enumerate(headrooms)]


def record(pair: str, verdict: str, check: str = "forward", dtype: str = "float32", **kw: Any) -> Record:
    """A record with the fields every record has."""
    base: dict[str, Any] = dict(
        pair=pair, check=check, dtype=dtype, device="cpu", mode="eval", verdict=verdict,
        origin={"seed": "002_tutorial.txt", "tutorial_name": f"Tutorial{pair.title()}"},
        tolerance={"rtol": 1.3e-6, "atol": 1e-5, "source": "default float32 policy", "floor": 1e-38},
        examples=len(kw.get("per_example", [])), duration_s=0.25, run_id="run-2024")
    return Record(**{**base, **kw})


def catalogue() -> list[Record]:
    """One record of every kind the report shows."""
    return [
        record("dense_ok", "pass", metrics=metrics(0.02), per_example=examples(0.0, 0.02, 0.001, 0.02)),
        record("broken_dense", "fail", check="gradient", metrics=metrics("inf", ok=False, name="grad x"),
               per_example=examples(0.1, 0.5, 3.0, "inf"), divergence_kind="semantic", repro=REPRO,
               minimal_case={"params": {"batch": 1, "features": 2}, "regime": "zeros", "seed": 0,
                             "input_shapes": {"x": [1, 2]}},
               message="frameworks diverge on case ...\ngrad x: Mismatched elements: 6 / 6 (100.0%)"),
        record("raises_in_tf", "error", dtype="float64", message="tf raised during forward",
               error={"type": "RuntimeError", "framework": "tf", "stage": "forward",
                      "message": "tf raised during forward: boom in TF", "traceback": TRACEBACK}),
        record("eps_mismatch", "known-divergence", known_divergence=REASON, metrics=metrics(50.6, ok=False),
               per_example=examples(50.6), divergence_kind="semantic", repro=REPRO.replace("broken_dense", "eps")),
        record("bn_train", "skip", message=SKIP_REASON),
        record("unet", "fail", metrics=metrics(9.0, ok=False), per_example=examples(9.0),
               repro="conform run --pairs unet",
               localisation={"direction": "forward", "first": "up2", "stages": [
                   {"stage": "down1", "ok": True, "max_abs_error": 1e-8, "max_rel_error": 1e-8, "headroom": 0.01},
                   {"stage": "up2", "ok": False, "max_abs_error": 0.25, "max_rel_error": 0.5, "headroom": 4e4},
                   {"stage": "up1", "ok": False, "max_abs_error": 0.75, "max_rel_error": 0.9, "headroom": 9e4}]}),
    ]


def write(directory: Path, records: list[Record], environment: dict[str, Any] | None = ENVIRONMENT) -> Path:
    """A result directory as `conform run --out` leaves it."""
    writer = ResultsWriter(directory)
    for r in records:
        writer.write(r)
    if environment is not None:
        writer.write_environment(environment)
    writer.close()
    return directory


def section(page: str, pair: str) -> str:
    """The HTML of one pair's section (sections do not nest)."""
    match = re.search(rf'<section class="pair" id="pair-{re.escape(pair)}[^"]*".*?</section>', page, re.S)
    assert match, f"no section for {pair}"
    return match.group(0)


def matrix_row(page: str, pair: str) -> str:
    """The matrix row of one pair."""
    match = re.search(rf'<tr data-pair="{re.escape(html.escape(pair))}".*?</tr>', page, re.S)
    assert match, f"no matrix row for {pair}"
    return match.group(0)


@pytest.fixture
def page(tmp_path: Path) -> str:
    """The catalogue rendered into its default place."""
    out = render([write(tmp_path / "run", catalogue())])
    assert out == tmp_path / "run" / "index.html"
    return out.read_text(encoding="utf-8")


def test_summary_counts_every_verdict_in_words_with_totals_and_environment(page):
    summary = page[page.index('<section id="summary"'):page.index('<section id="matrix"')]
    for verdict, count in (("pass", 1), ("fail", 2), ("known-divergence", 1), ("error", 1), ("skip", 1)):
        assert re.search(rf'v-{verdict}">[^<]+ {verdict}</span> <strong class="count">{count}</strong>', summary)
    assert "6 records over 6 pairs" in summary
    for value in ("3.11.7", "2.13.0+cpu", "2.21.0", "3.15.1", "2.4.6", "Test CPU 9000", "TF_ENABLE_ONEDNN_OPTS=0",
                  "conform run --max-examples 7", "run-2024", "torch 4/1, TF 4/1"):
        assert html.escape(value) in summary, value
    assert "3 results in 3 pairs need a look" in summary  # two fails and an error, linked
    assert 'href="#rec-broken_dense--gradient--float32--cpu--eval"' in summary


def test_matrix_has_a_row_per_pair_and_cells_with_verdict_text_linked_to_details(page):
    row = matrix_row(page, "broken_dense")
    assert '<a href="#rec-broken_dense--gradient--float32--cpu--eval"' in row and "✗ fail" in row
    assert 'id="rec-broken_dense--gradient--float32--cpu--eval"' in page
    assert "✓ pass" in matrix_row(page, "dense_ok") and "≈ known" in matrix_row(page, "eps_mismatch")
    assert "! error" in matrix_row(page, "raises_in_tf") and "– skip" in matrix_row(page, "bn_train")
    columns = re.findall(r'class="dim-check">(\w+)</th>', page)
    assert columns == ["forward", "gradient"]
    # worst first: the failing and erroring pairs come before the passing one
    order = re.findall(r'<tr data-pair="([^"]+)"', page)
    assert order.index("raises_in_tf") < order.index("broken_dense") < order.index("dense_ok")


def test_a_failure_shows_its_minimal_case_repro_metrics_and_headroom_chart(page):
    fail = section(page, "broken_dense")
    assert f'<pre class="repro"><code>{html.escape(REPRO)}</code></pre>' in fail
    assert html.escape('"input_shapes": {"x": [1, 2]}') in fail and "Minimal case" in fail
    assert "divergence kind" in fail and "semantic" in fail
    assert "grad x" in fail and "(1, 2)" in fail and "0.12345679" in fail  # worst index and torch value
    assert "rtol 1.3e-06, atol 1e-05" in fail and "default float32 policy" in fail
    chart = re.search(r'<svg class="spark".*?</svg>', fail, re.S)
    assert chart and "over 4 examples" in chart.group(0) and "2 at or above the tolerance edge" in chart.group(0)
    assert "<title>" in chart.group(0) and 'class="edge"' in chart.group(0)
    assert "TutorialBroken_Dense" in fail and "002_tutorial.txt" in fail  # origin


def test_an_error_shows_exception_and_traceback(page):
    error = section(page, "raises_in_tf")
    assert "<code>RuntimeError</code>" in error and "framework tf, stage forward" in error
    assert f'<pre class="traceback">{html.escape(TRACEBACK)}</pre>' in error


def test_a_known_divergence_shows_its_reason_and_a_skip_its_reason(page):
    assert html.escape(REASON) in section(page, "eps_mismatch")
    assert html.escape(SKIP_REASON) in section(page, "bn_train")


def test_a_composite_failure_shows_its_localisation_table(page):
    unet = section(page, "unet")
    assert "first divergent stage (forward): <strong>up2</strong>" in unet
    stages = re.search(r'<table class="stages">.*?</table>', unet, re.S).group(0)
    assert re.findall(r'<th scope="row">(\w+)</th>', stages) == ["down1", "up2", "up1"]
    assert stages.count("✗ diverges") == 2 and "0.25" in stages


def test_params_tried_are_deduplicated_with_counts(tmp_path):
    r = record("dense_ok", "pass", metrics=metrics(), per_example=examples(0.1, 0.2, 0.3, params={"batch": 2}))
    page = render([write(tmp_path, [r])]).read_text()
    assert "1 distinct params" in page and "<code>batch=2</code> ×3" in page


def test_merged_directories_show_a_disagreement_side_by_side_and_mark_it_conflict(tmp_path):
    a = write(tmp_path / "cpu_run", [record("dense_ok", "pass", metrics=metrics()), record("only_a", "pass")])
    b_env = {**ENVIRONMENT, "cpu": "Other CPU"}
    b = write(tmp_path / "other_run", [record("dense_ok", "fail", metrics=metrics(3.0, ok=False), repro=REPRO),
                                       record("only_b", "skip", message=SKIP_REASON)], b_env)
    page = render([a, b], tmp_path / "merged" / "report.html").read_text()
    cell = matrix_row(page, "dense_ok")
    assert "⚠ conflict" in cell and "cpu_run: pass; other_run: fail" in cell
    block = section(page, "dense_ok")
    assert "from <code>cpu_run</code>: " in block and "from <code>other_run</code>: " in block
    assert "✓ pass" in block and "✗ fail" in block and html.escape(REPRO) in block
    assert "only_a" in page and "only_b" in page  # the rest merges
    assert "Test CPU 9000" in page and "Other CPU" in page and "(differs)" in page


def test_the_same_key_twice_is_a_conflict_even_with_equal_verdicts(tmp_path):
    a = write(tmp_path / "a", [record("dense_ok", "pass")])
    b = write(tmp_path / "b", [record("dense_ok", "pass")])
    page = render([a, b], tmp_path / "out.html").read_text()
    assert "⚠ conflict" in matrix_row(page, "dense_ok")


def test_a_missing_or_corrupt_environment_reads_unknown(tmp_path):
    missing = write(tmp_path / "missing", [record("dense_ok", "pass")], environment=None)
    corrupt = write(tmp_path / "corrupt", [record("other", "pass")], environment=None)
    (corrupt / "environment.json").write_text("{not json")
    page = render([missing, corrupt], tmp_path / "out.html").read_text()
    assert "no environment.json" in page and "environment.json unreadable" in page
    env = re.search(r'<table class="env">.*?</table>', page, re.S).group(0)
    assert re.search(r'<th scope="row">torch</th><td>unknown</td><td>unknown</td>', env)


def benchmark(name: str, group: str | None, median: float, extra: dict[str, Any]) -> dict[str, Any]:
    """One pytest-benchmark entry."""
    return {"name": name, "fullname": f"bench.py::{name}", "group": group, "extra_info": extra,
            "stats": {"median": median, "mean": median * 1.1, "min": median * 0.9, "max": median * 2,
                      "stddev": median / 10, "rounds": 50}}


def test_benchmarks_get_a_table_per_pair_with_ratio_and_a_bar_chart(tmp_path):
    directory = write(tmp_path, catalogue())
    bench = {"machine_info": {"cpu": {"brand_raw": "Test"}}, "benchmarks": [
        benchmark("test_fwd[dense-torch]", "dense", 0.001, {"pair": "dense_ok", "framework": "torch",
                                                            "device": "cpu", "pass": "forward"}),
        benchmark("test_fwd[dense-tf]", "dense", 0.002, {"pair": "dense_ok", "framework": "tf",
                                                         "device": "cpu", "pass": "forward"}),
        benchmark("test_bwd[dense-torch]", "dense", 0.004, {"pair": "dense_ok", "framework": "torch",
                                                            "device": "cpu", "pass": "forward+backward"}),
        benchmark("test_bwd[dense-tf]", "dense", 0.002, {"pair": "dense_ok", "framework": "tf",
                                                         "device": "cpu", "pass": "forward+backward"}),
        benchmark("test_conv_torch", "conv_group", 3e-5, {}),
        benchmark("test_pool", "pool_group", 2.5, {}),
    ]}
    (directory / "benchmark.json").write_text(json.dumps(bench))
    (directory / "unrelated.json").write_text(json.dumps({"not": "benchmarks"}))
    page = render([directory]).read_text()
    bench_html = page[page.index('<section id="benchmarks"'):page.index('<div id="pairs"')]
    dense = re.search(r'<h3 id="bench-dense_ok">.*?</table>', bench_html, re.S).group(0)
    assert re.search(r"cpu · forward</th><td[^>]*>1 ms</td><td[^>]*>2 ms</td><td>2× \(TF slower\)", dense)
    assert re.search(r"cpu · forward\+backward</th><td[^>]*>4 ms</td><td[^>]*>2 ms</td><td>0.5× \(TF faster\)", dense)
    assert '<svg class="bars"' in bench_html and "torch vs TF" in bench_html
    # without extra_info: the group names the pair, the name the row (and its framework, when it says)
    assert re.search(r"test_conv_torch</th><td[^>]*>30 µs</td><td>—</td>", bench_html)
    assert re.search(r"pool_group</h3>.*test_pool</th><td colspan=\"2\">2.5 s \(framework not recorded\)", bench_html)
    assert 'href="#benchmarks"' in page


def test_no_benchmark_json_means_no_benchmarks_section(page):
    assert 'id="benchmarks"' not in page and 'href="#benchmarks"' not in page


def test_record_strings_are_escaped(tmp_path):
    hostile = "<script>alert('x')</script>"
    r = record("<img src=x onerror=alert(1)>", "fail", message=hostile, repro=hostile,
               origin={"seed": hostile, "tutorial_name": '"><b>'}, metrics=metrics(2.0, ok=False, name=hostile))
    page = render([write(tmp_path, [r])]).read_text()
    assert "<script>alert" not in page and "<img src=x" not in page and '"><b>' not in page
    assert html.escape(hostile) in page
    assert page.count("<script>") == 1  # the page's own filter script, nothing from a record


def test_the_page_is_self_contained_accessible_and_readable_without_script(page):
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page and "<link" not in page
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page and page.count("<h1>") == 1
    assert 'scope="col"' in page and 'scope="row"' in page
    # with script off every row and section shows; only the (script-driven) filter form starts hidden
    assert re.findall(r"<[a-z]+[^>]*\shidden[\s>]", page) == ['<form id="filters" class="filters" hidden ']


def test_the_full_catalogue_scale_stays_under_two_megabytes(tmp_path):
    heavy = [record(f"pair_{i:02d}", "pass", check=check, dtype=dtype, per_example=examples(*[0.01 * j for j in
             range(30)]), metrics={**metrics(0.3), **metrics(0.2, name="grad x"), **metrics(0.1, name="grad w")})
             for i in range(60) for check in ("forward", "gradient") for dtype in ("float32", "float64")]
    heavy += [record(f"pair_{i:02d}", "skip", mode="train", message=SKIP_REASON) for i in range(60)]
    size = render([write(tmp_path, heavy)]).stat().st_size
    assert size < 2_000_000, f"{size} bytes for 300 records"


def test_a_corrupt_results_file_raises_results_error_with_file_and_line(tmp_path):
    directory = write(tmp_path, [record("dense_ok", "pass")])
    with (directory / "results.jsonl").open("a") as f:
        f.write('{"pair": "trunc\n')
    with pytest.raises(ResultsError, match=r"results.jsonl:2: corrupt line"):
        render([directory])
    assert not (directory / "index.html").exists()


def test_a_directory_without_results_is_refused(tmp_path):
    with pytest.raises(ResultsError, match="no results.jsonl"):
        render([tmp_path])


def test_rendering_imports_neither_torch_nor_tensorflow(tmp_path):
    directory = write(tmp_path, catalogue())
    code = ("import sys; from pathlib import Path; from harness.report import render; "
            f"render([Path({str(directory)!r})]); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'tensorflow', 'keras', 'jinja2'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert (directory / "index.html").stat().st_size > 10_000


# --- schema 2: the checks state .. train_step, graph mode, execution and trajectory ------------------------------

EXECUTION = {"tf": "tf.function(jit_compile=True)", "torch": "torch.compile(backend='inductor')", "tf_traces": 7,
             "torch_compiles": 3, "layers_built": 5, "examples": 26}
TRAIN_REASON = "torch normalises by the biased batch variance in training, Keras by the unbiased"


def trajectory(*headrooms: Any) -> list[dict[str, Any]]:
    """A train_step trajectory as the check writes it: one entry per SGD step, step 0 the loaded weights."""
    return [{"step": i, "max_abs_error": 0.0 if h == 0 else (h if isinstance(h, str) else h * 1e-6),
             "max_rel_error": 0.0 if h == 0 else 1e-7, "headroom": h, "ok": float(h) < 1}
            for i, h in enumerate(headrooms)]


def schema2() -> list[Record]:
    """One pair through every check and mode, a failing training step, and a check and mode no version knows."""
    na = {"keras .keras file: output": {"name": "keras .keras file: output", "ok": True, "total": 0, "mismatched": 0,
                                        "headroom": 0.0, "note": "not applicable: the layer has no Keras config"}}
    stats = metrics(0.4, name="zero fraction torch")
    stats["zero fraction torch"]["note"] = "within 4.5 sigma of p=0.5 over 4096 draws"
    return [
        record("dense_ok", "pass", check="parameters"),
        record("dense_ok", "pass", metrics=metrics(0.02), per_example=examples(0.01, 0.02)),
        record("dense_ok", "pass", mode="graph", metrics=metrics(0.05), execution=EXECUTION),
        record("dense_ok", "pass", check="gradient", mode="graph", metrics=metrics(0.05, name="grad x"),
               execution={"tf": "tf.function(jit_compile=True)", "tf_traces": 1, "examples": 1}),
        record("dense_ok", "known-divergence", check="gradient", metrics=metrics(3.0, ok=False), mode="train",
               known_divergence=TRAIN_REASON),
        record("dense_ok", "pass", check="state", mode="train",
               metrics=metrics(0.1, name="state running_var (call 2)")),
        record("dense_ok", "pass", check="statistics", mode="train", metrics=stats),
        record("dense_ok", "pass", check="serialization",
               metrics={**metrics(0.0, name="torch state_dict: output"), **na}),
        record("dense_ok", "pass", check="train_step", mode="train", trajectory=trajectory(0, 0.01, 0.02, 0.03)),
        record("sgd_drift", "fail", check="train_step", mode="train", metrics=metrics("inf", ok=False, name="weight"),
               trajectory=trajectory(0, 0.5, 0.9, 4.0, "inf", "nan")),
        record("sgd_drift", "skip", check="mystery_check", mode="jit", message="mystery checks run elsewhere"),
    ]


@pytest.fixture
def page2(tmp_path: Path) -> str:
    """The schema-2 records rendered."""
    return render([write(tmp_path / "run2", schema2())]).read_text(encoding="utf-8")


def block(page: str, pair: str, check: str, mode: str) -> str:
    """The details block of one record (float32, cpu)."""
    match = re.search(rf'<details class="record[^"]*" id="rec-{pair}--{check}--float32--cpu--{mode}".*?</details>',
                      page, re.S)
    assert match, f"no block for {pair} {check} {mode}"
    return match.group(0)


def test_matrix_columns_follow_check_then_mode_order_with_unknown_ones_last(page2):
    checks = re.findall(r'class="dim-check">(\w+)</th>', page2)
    assert checks == ["parameters", "forward", "gradient", "state", "statistics", "serialization", "train_step",
                      "mystery_check"]
    # per check, modes in the order eval, train, graph; the unknown mode after them
    modes = re.findall(r'class="dim-mode">(\w+)</th>', page2)
    assert modes == ["eval", "eval", "graph", "train", "graph", "train", "train", "eval", "train", "jit"]
    header = re.search(r'<th scope="col" colspan="1" title="([^"]*)" class="dim-check">train_step</th>', page2)
    assert header and "SGD steps" in header.group(1)
    key = re.search(r'<details class="columns">.*?</details>', page2, re.S).group(0)
    assert "<code>mystery_check</code></dt><dd>not described by this version of the report" in key
    assert "<code>graph</code></dt><dd>inference compiled: tf.function (XLA) vs torch.compile" in key
    row = matrix_row(page2, "sgd_drift")
    assert 'href="#rec-sgd_drift--mystery_check--float32--cpu--jit"' in row and "– skip" in row
    assert 'id="rec-sgd_drift--mystery_check--float32--cpu--jit"' in page2


def breakdown_row(page: str, value: str) -> list[str]:
    """The counts of one row of the summary's per-check / per-mode table."""
    table = re.search(r'<table class="breakdown">.*?</table>', page, re.S).group(0)
    row = re.search(rf'<th scope="row"[^>]*>{value}</th>(.*?)</tr>', table, re.S)
    assert row, f"no breakdown row for {value}"
    return re.findall(r"<td[^>]*>(\d+)</td>", row.group(1))


def test_summary_counts_records_per_check_and_per_mode(page2):
    summary = page2[page2.index('<section id="summary"'):page2.index('<section id="matrix"')]
    table = re.search(r'<table class="breakdown">.*?</table>', summary, re.S).group(0)
    # columns: the verdicts that occur, in the usual order, then the total
    assert re.findall(r'<span class="v v-([\w-]+)">', table) == ["pass", "fail", "known-divergence", "skip"]
    rows = re.findall(r'<th scope="row"[^>]*>(\w+)</th>', table)
    assert rows == ["parameters", "forward", "gradient", "state", "statistics", "serialization", "train_step",
                    "mystery_check", "eval", "train", "graph", "jit"]
    assert breakdown_row(summary, "train_step") == ["1", "1", "0", "0", "2"]
    assert breakdown_row(summary, "gradient") == ["1", "0", "1", "0", "2"]
    assert breakdown_row(summary, "graph") == ["2", "0", "0", "0", "2"]
    assert breakdown_row(summary, "train") == ["3", "1", "1", "0", "5"]
    assert breakdown_row(summary, "mystery_check") == ["0", "0", "0", "1", "1"]


def test_a_compiled_record_shows_how_it_ran(page2):
    graph = block(page2, "dense_ok", "forward", "graph")
    assert "<h4>How it ran</h4>" in graph
    assert "7 tf.function traces and 3 torch.compile compilations for 26 examples; 5 layers built." in graph
    table = re.search(r'<table class="execution">.*?</table>', graph, re.S).group(0)
    cells = dict(re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>(.*?)</td>', table))
    assert cells["tf.function traces"] == "7" and cells["torch.compile compilations"] == "3"
    assert cells["layers built"] == "5" and cells["examples"] == "26"
    assert cells["TF ran under"] == "<code>tf.function(jit_compile=True)</code>"
    assert cells["torch ran under"] == f"<code>{html.escape(EXECUTION['torch'])}</code>"
    # keys may be missing: what is there still reads as a sentence, in the singular where it is one
    partial = block(page2, "dense_ok", "gradient", "graph")
    assert "1 tf.function trace for 1 example." in partial and "torch ran under" not in partial
    assert "How it ran" not in block(page2, "dense_ok", "forward", "eval")


def chart(html_text: str) -> str:
    """The one trajectory chart of a block."""
    charts = re.findall(r'<svg class="traj".*?</svg>', html_text, re.S)
    assert len(charts) == 1, f"{len(charts)} trajectory charts"
    return charts[0]


def test_a_training_step_draws_its_trajectory_with_a_point_per_step(page2):
    ok = block(page2, "dense_ok", "train_step", "train")
    svg = chart(ok)
    assert len(re.findall(r'<circle [^>]*class="s-headroom', svg)) == 4
    assert len(re.findall(r'<circle [^>]*class="s-abs', svg)) == 4
    assert 'role="img"' in svg and "<title>Weight divergence between torch and TF over 4 steps" in svg
    assert "every step below the tolerance (headroom 1)" in svg and 'class="edge"' in svg
    assert ">SGD step</text>" in svg and ">value (log scale)</text>" in svg
    ticks = re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]+)</text>', svg)
    assert ticks[-1] == "0" and "1" in ticks  # step 0 agrees exactly: zeros sit on a floor labelled 0
    steps = re.findall(r'<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="middle">(\d+)</text>', svg)
    assert steps == ["0", "1", "2", "3"]
    table = re.search(r'<table class="trajectory">.*?</table>', ok, re.S).group(0)
    assert re.findall(r'<th scope="row">(\d+)</th>', table) == ["0", "1", "2", "3"]
    assert "the worst example" in ok


def test_a_diverging_trajectory_with_inf_and_nan_still_draws_and_marks_the_failing_steps(page2):
    fail = block(page2, "sgd_drift", "train_step", "train")
    svg = chart(fail)
    heads = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="3" class="s-headroom( bad)?">', svg)
    assert len(heads) == 6 and [bool(b) for _, _, b in heads] == [False, False, False, True, True, True]
    assert all(0 <= float(cy) <= 220 for _, cy, _ in heads)
    band = re.search(r'y="([\d.]+)" text-anchor="end">inf/NaN</text>', svg)
    assert band, "no band for non-finite values"
    assert {float(cy) for _, cy, _ in heads[4:]} == {float(band.group(1)) - 3}  # inf and nan plot in the band
    assert "first at or above the tolerance (headroom 1) at step 3" in svg and "largest headroom inf" in svg
    assert "<title>step 4: headroom inf</title>" in svg
    table = re.search(r'<table class="trajectory">.*?</table>', fail, re.S).group(0)
    assert table.count('<tr class="bad">') == 3 and ">inf</td>" in table and "the failing example" in fail


def test_trajectory_chart_skips_missing_values_and_handles_one_step_and_all_zeros():
    from harness.report.svg import trajectory_chart

    gap = trajectory_chart([{"step": 0, "headroom": 0.1, "max_abs_error": 1e-3},
                            {"step": 1, "headroom": None, "max_abs_error": "oops"},
                            {"step": 2, "headroom": 0.3, "max_abs_error": 2e-3},
                            {"step": 3, "headroom": 0.2, "max_abs_error": 3e-3}], "t")
    assert len(re.findall(r'<circle [^>]*class="s-headroom', gap)) == 3
    assert len(re.findall(r'<circle [^>]*class="s-abs', gap)) == 3
    # the line breaks at the step without a value: a move to step 0, a move to step 2, a line to step 3
    assert re.search(r'<path class="s-headroom" d="M[\d.]+ [\d.]+ M[\d.]+ [\d.]+ L[\d.]+ [\d.]+"/>', gap)
    one = trajectory_chart([{"step": 0, "headroom": 0, "max_abs_error": 0}], "exact")
    assert len(re.findall(r"<circle ", one)) == 2 and '<path class="s-' not in one
    assert all(0 <= float(v) <= 480 for v in re.findall(r'c[xy]="([-\d.]+)"', one))
    assert trajectory_chart([], "nothing") == ""


def test_new_checks_show_their_metrics_notes_and_not_applicable_round_trips(page2):
    serial = block(page2, "dense_ok", "serialization", "eval")
    na = re.search(r'<tr class="na"><th scope="row">keras .keras file: output.*?</tr>', serial, re.S)
    assert na and "not applicable: the layer has no Keras config" in na.group(0) and "– not applicable" in na.group(0)
    assert "torch state_dict: output" in serial
    stats = block(page2, "dense_ok", "statistics", "train")
    assert "zero fraction torch" in stats and "within 4.5 sigma of p=0.5 over 4096 draws" in stats
    assert "state running_var (call 2)" in block(page2, "dense_ok", "state", "train")


def test_a_divergence_declared_for_some_modes_says_which(page2):
    pair = section(page2, "dense_ok")
    assert f"<strong>Declared known divergence</strong> (in train mode): {html.escape(TRAIN_REASON)}" in pair
    summary = page2[page2.index('<section id="summary"'):page2.index('<section id="matrix"')]
    assert f"{html.escape(TRAIN_REASON)} (in train mode)" in summary


def test_a_schema_1_result_directory_still_renders(tmp_path):
    old = record("dense_ok", "pass", metrics=metrics()).to_json()
    del old["execution"], old["trajectory"]
    (tmp_path / "results.jsonl").write_text(json.dumps({**old, "schema_version": 1}) + "\n")
    page = render([tmp_path]).read_text()
    assert "✓ pass" in matrix_row(page, "dense_ok") and "How it ran" not in page and "svg class=\"traj\"" not in page


# --- schema 3: the verdicts precision and inconclusive, coverage, the float64 oracle, metric sides -----------------

ORACLE_SUMMARY = ("torch's float32 grad weight is 19.9x further from the float64 result than tf's: torch 5.71e-14 "
                  "(257 ulps, 1.76x the float32 tolerance) vs tf 2.86e-15 (12.9 ulps, 0.0884x)")
REFERENCE = "float64 replay of the same case, every drawn value rounded to float32 first"
COVERAGE = {"examples": 26, "non_degenerate": 14, "empty": 0, "size_1": 12, "dims": {"batch": [1, 4], "units": [1, 11]},
            "options": {"activation": ["'relu'", "'sigmoid'"]}, "regimes": {"normal": 21, "zeros": 1, "large": 4}}


def distance(max_abs: float, tolerances: float, ulps: float) -> dict[str, Any]:
    """One side's float32 distance from the float64 result, as oracle.judge writes it."""
    return {"max_abs": max_abs, "tolerances": tolerances, "ulps": ulps, "index": [2, 0], "value": 2.867e-09,
            "float64": 2.867e-09}


def schema3() -> list[Record]:
    """A precision record, an inconclusive one, a float64 fail of float32 size, and a graph-mode exact comparison."""
    grad = metrics(1.76, ok=False, name="grad weight")
    grad["grad weight"].update(sides=["torch", "tf"], comparison="tolerance")
    oracle = {"reference": REFERENCE, "less_accurate": "torch", "summary": ORACLE_SUMMARY,
              "tensors": {"grad weight": {"sides": ["torch", "tf"], "less_accurate": "torch", "ratio": 19.9,
                                          "torch": distance(5.71e-14, 1.76, 257.1),
                                          "tf": distance(2.86e-15, 0.0884, 12.9)}}}
    tried = examples(0.1, 1.76, 0.3)
    tried[0]["degenerate"] = "size-1 dims: batch=1, units=1"
    tried[1].update(degenerate=None, precision="torch")
    tried[2]["degenerate"] = None
    flat = examples(0.0, 0.0)
    for x in flat:
        x["degenerate"] = "empty: input x has shape (0, 3)"
    f64 = metrics(3.0, ok=False)
    f64["output"].update(sides=["torch", "tf"], comparison="tolerance")
    graph = metrics(0.0, name="output")
    graph["output"].update(sides=["tf.function", "tf eager"], comparison="exact", torch_value=0.5, tf_value=0.5)
    return [
        record("dense_prec", "precision", check="gradient", metrics=grad, per_example=tried, oracle=oracle,
               coverage=COVERAGE, divergence_kind="precision", repro=REPRO,
               message=f"float32 differs: {ORACLE_SUMMARY}"),
        record("empty_only", "inconclusive", per_example=flat, metrics=metrics(0.0),
               coverage={"examples": 2, "non_degenerate": 0, "empty": 2, "size_1": 0, "dims": {"batch": [0, 0]},
                         "options": {}, "regimes": {"normal": 2}},
               message="every one of the 2 examples was degenerate"),
        record("f64_drift", "fail", dtype="float64", metrics=f64, per_example=examples(3.0), divergence_kind="semantic",
               oracle={"reference": "none: float64 is the highest precision both frameworks run",
                       "float32_sized": True, "low_precision_ops": {"torch": [], "tf": ["Cast", "Const"]},
                       "side": "tf", "summary": "tf computes in float32 inside this float64 run (Cast, Const)"}),
        record("graph_exact", "pass", mode="graph", metrics=graph, per_example=examples(0.0)),
    ]


@pytest.fixture
def page3(tmp_path: Path) -> str:
    """The schema-3 records rendered."""
    return render([write(tmp_path / "run3", schema3())]).read_text(encoding="utf-8")


def test_precision_and_inconclusive_have_a_symbol_and_a_word_everywhere_and_are_counted(page3):
    summary = page3[page3.index('<section id="summary"'):page3.index('<section id="matrix"')]
    for verdict, count in (("pass", 1), ("fail", 1), ("precision", 1), ("inconclusive", 1), ("error", 0)):
        assert re.search(rf'v-{verdict}">[^<]+ {verdict}</span> <strong class="count">{count}</strong>', summary)
    assert '<span class="v v-precision">± precision</span>' in summary
    assert '<span class="v v-inconclusive">? inconclusive</span>' in summary
    # both need a look: listed with the failure, the precision one with its less accurate side
    assert "3 results in 3 pairs need a look" in summary
    assert 'href="#rec-dense_prec--gradient--float32--cpu--eval"' in summary and "(torch less accurate)" in summary
    assert 'href="#rec-empty_only--forward--float32--cpu--eval"' in summary
    assert "± precision" in matrix_row(page3, "dense_prec") and "? inconclusive" in matrix_row(page3, "empty_only")
    assert "torch&#x27;s float32 result is less accurate" in matrix_row(page3, "dense_prec")
    legend = re.search(r'<ul class="legend">.*?</ul>', page3, re.S).group(0)
    assert "± precision</span> float32 disagrees, the float64 replay of the same case agrees" in legend
    assert "? inconclusive</span> every example the check could draw was degenerate" in legend
    # worst first: the failure, then precision, then inconclusive, then the pass
    order = re.findall(r'<tr data-pair="([^"]+)"', page3)
    assert order == ["f64_drift", "dense_prec", "empty_only", "graph_exact"]
    # what needs a look opens in the details
    assert re.search(r'<details class="record r-precision" id="rec-dense_prec[^"]*" open>', page3)
    assert re.search(r'<details class="record r-inconclusive" id="rec-empty_only[^"]*" open>', page3)
    assert ".v-precision{" in page3 and ".v-inconclusive{" in page3


def test_zero_counts_of_the_new_verdicts_still_show(page):
    summary = page[page.index('<section id="summary"'):page.index('<section id="matrix"')]
    for verdict in ("precision", "inconclusive"):
        assert re.search(rf'v-{verdict}">[^<]+ {verdict}</span> <strong class="count">0</strong>', summary)


def test_a_precision_record_shows_the_oracle_judgement_and_its_coverage(page3):
    prec = block(page3, "dense_prec", "gradient", "eval")
    assert "torch less accurate" in prec[:prec.index("</summary>")]
    assert "<h4>Float64 oracle</h4>" in prec and html.escape(ORACLE_SUMMARY) in prec
    assert "Less accurate in float32: <strong>torch</strong>" in prec and html.escape(REFERENCE) in prec
    table = re.search(r'<table class="oracle">.*?</table>', prec, re.S).group(0)
    for head in ("max abs error vs float64", "ulps", "× float32 tolerance"):
        assert head in table
    torch_row = re.search(r'<tr class="worse">.*?</tr>', table, re.S).group(0)
    assert "grad weight" in torch_row and ">torch <span" in torch_row and "◂ less accurate" in torch_row
    assert "5.71e-14" in torch_row and ">257<" in torch_row and ">1.76<" in torch_row and "19.9×" in torch_row
    tf_row = re.search(r'<tr class=""><td class="side">tf</td>.*?</tr>', table, re.S).group(0)
    assert "2.86e-15" in tf_row and ">12.9<" in tf_row and ">0.0884<" in tf_row
    # coverage: a line in the facts and a table of what the examples covered
    assert "14 of 26 examples non-degenerate (12 with axes of size 1, 0 empty)" in prec
    cover = re.search(r'<table class="coverage">.*?</table>', prec, re.S).group(0)
    cells = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', cover))
    assert cells["examples"] == "26" and cells["non-degenerate"] == "14"
    assert cells["dim <code>batch</code>"] == "1 – 4" and cells["dim <code>units</code>"] == "1 – 11"
    assert cells["option <code>activation</code>"] == "<code>&#x27;relu&#x27;</code>, <code>&#x27;sigmoid&#x27;</code>"
    assert cells["regimes"] == "normal 21, large 4, zeros 1"  # most drawn first
    # the examples: which were degenerate and which a precision effect
    assert "1 of 3 examples degenerate" in prec and "<code>size-1 dims: batch=1, units=1</code>" in prec
    assert "1 example a float32 precision effect" in prec and "less accurate side: torch 1" in prec
    assert "1 of them float32 precision effects" in prec  # the sparkline's title
    metrics_table = re.search(r'<table class="metrics">.*?</table>', prec, re.S).group(0)
    assert '<td class="cmp" title="within rtol + atol × scale">tolerance</td>' in metrics_table


def test_an_inconclusive_record_shows_that_nothing_was_covered(page3):
    empty = block(page3, "empty_only", "forward", "eval")
    assert "0 of 2 examples non-degenerate (0 with axes of size 1, 2 empty)" in empty
    assert '<tr class="bad"><th scope="row">non-degenerate</th><td>0</td></tr>' in empty
    assert "<code>empty: input x has shape (0, 3)</code> ×2" in empty


def test_a_float64_failure_of_float32_size_names_the_side_and_its_operations(page3):
    f64 = re.search(r'<details class="record[^"]*" id="rec-f64_drift--forward--float64--cpu--eval".*?</details>',
                    page3, re.S).group(0)
    assert "<h4>Float32 evidence in a float64 run</h4>" in f64
    assert "tf computes in float32 inside this float64 run (Cast, Const)" in f64
    assert "the size of float32 rounding" in f64
    table = re.search(r'<table class="oracle">.*?</table>', f64, re.S).group(0)
    assert re.search(r'<tr class="worse"><th scope="row">tf ◂ computes in float32</th><td><code>Cast</code>, '
                     r"<code>Const</code></td></tr>", table)
    assert '<th scope="row">torch</th><td><span class="muted">none seen</span></td>' in table


def test_metrics_name_their_sides_and_comparison(page3):
    graph = block(page3, "graph_exact", "forward", "graph")
    table = re.search(r'<table class="metrics">.*?</table>', graph, re.S).group(0)
    assert '<th scope="col">tf.function at worst</th><th scope="col">tf eager at worst</th>' in table
    assert "torch at worst" not in table and "TF at worst" not in table
    assert '<td class="cmp" title="bit for bit: any difference fails">exact</td>' in table


def test_metrics_with_different_sides_in_one_table_label_each_value(tmp_path):
    both = {**metrics(0.1, name="output"), **metrics(0.2, name="reloaded output")}
    both["reloaded output"].update(sides=["reloaded", "original"], comparison="exact")
    page = render([write(tmp_path, [record("dense_ok", "pass", check="serialization", metrics=both)])]).read_text()
    table = re.search(r'<table class="metrics">.*?</table>', page, re.S).group(0)
    assert "first side at worst" in table and '<span class="muted">reloaded</span> 0.12345679' in table
    assert '<span class="muted">torch</span> 0.12345679' in table


def test_a_schema_2_result_directory_without_coverage_oracle_or_sides_still_renders(tmp_path):
    lines = []
    for r in (record("dense_ok", "pass", metrics=metrics(), per_example=examples(0.1)),
              record("broken_dense", "fail", metrics=metrics(2.0, ok=False), per_example=examples(2.0), repro=REPRO)):
        old = r.to_json()
        del old["coverage"], old["oracle"]
        assert "sides" not in old["metrics"]["output"] and "degenerate" not in old["per_example"][0]
        lines.append(json.dumps({**old, "schema_version": 2}))
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n")
    page = render([tmp_path]).read_text()
    assert "✓ pass" in matrix_row(page, "dense_ok") and "✗ fail" in matrix_row(page, "broken_dense")
    pairs = page[page.index('<div id="pairs">'):]
    assert "<h4>Coverage</h4>" not in pairs and 'class="oracle"' not in pairs and "non-degenerate" not in pairs
    table = re.search(r'<table class="metrics">.*?</table>', section(page, "broken_dense"), re.S).group(0)
    assert "torch at worst" in table and "TF at worst" in table and '<td class="cmp">—</td>' in table


def test_the_new_fields_are_escaped(tmp_path):
    hostile = "<script>alert('x')</script>"
    grad = metrics(2.0, ok=False, name="grad")
    grad["grad"].update(sides=[hostile, "tf"], comparison=hostile)
    oracle = {"reference": hostile, "less_accurate": hostile, "summary": hostile,
              "tensors": {hostile: {"sides": [hostile, "tf"], "less_accurate": hostile, "ratio": None,
                                    hostile: distance(1e-6, 2.0, 30.0), "tf": distance(1e-7, 0.2, 3.0)}}}
    tried = examples(2.0)
    tried[0].update(degenerate=hostile, precision=hostile)
    cover = {"examples": 1, "non_degenerate": 0, "dims": {hostile: [1, 1]}, "options": {hostile: [hostile]},
             "regimes": {hostile: 1}}
    f64 = {"float32_sized": True, "low_precision_ops": {hostile: [hostile]}, "side": hostile, "summary": hostile}
    records = [record("prec", "precision", metrics=grad, per_example=tried, oracle=oracle, coverage=cover),
               record("f64", "fail", dtype="float64", oracle=f64)]
    page = render([write(tmp_path, records)]).read_text()
    assert "<script>alert" not in page and page.count("<script>") == 1
    assert html.escape(hostile) in page
    assert "<h4>Float64 oracle</h4>" in page and "<h4>Float32 evidence in a float64 run</h4>" in page


def test_precision_and_inconclusive_alone_get_a_milder_headline(tmp_path):
    records = [r for r in schema3() if r.verdict in ("precision", "inconclusive", "pass")]
    page = render([write(tmp_path, records)]).read_text()
    assert '<p class="headline warn">? 2 results in 2 pairs need a look:</p>' in page


# --- schema 5: the noise floor -------------------------------------------------------------------------------------

def test_a_record_judged_against_a_noise_floor_shows_it_side_by_side(tmp_path):
    worst = {"tensor": "weight w (step 5)", "error": 3.51e-9, "headroom": 0.0585, "sides": [1.81e-9, 3.75e-9],
             "ulp": 6.1e-16, "floor": 3.75e-9, "scale": 2.74, "stable": True}
    floored = record("unet", "pass", check="train_step", dtype="float64", mode="train",
                     noise_floor={"k": 16.0, "draws": 2, "examples": 3, "always": True, "unstable": ["loss (step 1)"],
                                  "worst": worst})
    text = render([write(tmp_path, [floored])]).read_text()
    block = section(text, "unet")
    assert "<h4>Noise floor</h4>" in block and "every example (a training check" in block
    row = re.search(r'<table class="oracle">.*?</table>', block, re.S).group(0)
    for value in ("weight w (step 5)", "3.51e-09", "1.81e-09", "3.75e-09", "0.0585"):
        assert value in row
    assert "no floor for loss (step 1)" in block
