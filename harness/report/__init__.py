"""The self-contained HTML report of one or more result directories.

``render(directories, out)`` reads every directory's results.jsonl (schema errors raise
:class:`harness.results.ResultsError` naming file and line) and environment.json (missing or
unreadable: shown as unknown), and writes one HTML file: inline CSS, inline SVG and a little
inline script, no network requests, readable with JavaScript off. Rendering is pure Python
(stdlib html/json): it imports neither torch nor TensorFlow.

Modules: ``model`` reads and merges, ``dimensions`` orders and names the checks and modes,
``summary``, ``matrix``, ``details`` and ``bench`` render their sections (``details`` places
``execution``, how a compiled record ran, and ``trajectory``, a training step's drift, and
shows ``coverage`` and the float64 ``oracle`` of schema 3), ``svg`` draws the charts, ``assets``
holds the CSS and script, ``fmt`` escapes and names the verdicts (symbol, word, order).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.report.assets import CSS, SCRIPT
from harness.report.atlas import atlas_section
from harness.report.bench import benchmarks_section, find_benchmarks
from harness.report.details import pair_sections
from harness.report.fmt import e
from harness.report.matrix import matrix_section
from harness.report.model import Report, load
from harness.report.summary import summary_section

__all__ = ["render"]

INDEX_FILE = "index.html"


def _nav(has_benchmarks: bool, has_atlas: bool) -> str:
    """Links to the page's sections."""
    links = [("summary", "Summary"), ("matrix", "Matrix")]
    if has_atlas:
        links.append(("atlas", "Atlas"))
    if has_benchmarks:
        links.append(("benchmarks", "Benchmarks"))
    links.append(("pairs", "Pairs"))
    return "<nav>" + "".join(f'<a href="#{i}">{t}</a>' for i, t in links) + "</nav>"


def _page(report: Report, benchmarks_html: str) -> str:
    """The whole document."""
    names = ", ".join(s.label for s in report.sources)
    atlas = atlas_section(report)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>conform report: {e(names)}</title><style>{CSS}</style></head><body>"
        "<header><h1>Conformance report: PyTorch vs Keras 3</h1>"
        f'<p class="muted">Do the twin layers compute the same thing? Results from {e(names)}.</p>'
        f"{_nav(bool(benchmarks_html), bool(atlas))}</header><main>"
        f"{summary_section(report)}{matrix_section(report)}{atlas}{benchmarks_html}{pair_sections(report)}"
        f"</main><script>{SCRIPT}</script></body></html>\n"
    )


def render(directories: Sequence[Path], out: Path | None = None) -> Path:
    """Write the report of ``directories`` to ``out`` (default: the first directory's index.html)."""
    dirs = [Path(d) for d in directories]
    report = load(dirs)
    benchmarks = find_benchmarks([(s.directory, s.label) for s in report.sources])
    target = Path(out) if out is not None else dirs[0] / INDEX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_page(report, benchmarks_section(benchmarks)), encoding="utf-8")
    return target
