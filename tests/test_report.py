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
        f.write('{"pair": "trunc')
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
