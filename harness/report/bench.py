"""Benchmarks: pytest-benchmark JSON files found beside the results, torch vs TF per pair.

Why read pytest-benchmark's own format: the benchmark suite writes it with
``--benchmark-json``, so the report needs no converter. ``extra_info`` names the pair,
framework, device, pass, execution and size; a file without those falls back to the group
and the name. Where a pair declares the frameworks' built-in layer, each framework's row
shows how our layer compares with it; where FLOPs are countable, the achieved GFLOP/s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.fmt import e, fmt_num, fmt_seconds, num, slug
from harness.report.svg import bar_chart
from harness.results import ENVIRONMENT_FILE

__all__ = ["Benchmark", "benchmarks_section", "find_benchmarks"]

_FRAMEWORK_WORDS = {"torch": "torch", "pytorch": "torch", "tf": "tf", "tensorflow": "tf", "keras": "tf"}


@dataclass(frozen=True)
class Benchmark:
    """One timing: where it came from, what it timed, and its statistics (seconds)."""

    source: str
    pair: str
    framework: str | None
    device: str
    step: str
    name: str
    stats: dict[str, Any]
    builtin: str | None = None
    gflops: float | None = None
    of_peak: float | None = None

    @property
    def slot(self) -> str:
        """Where the row puts it: torch, tf, or their built-in (``torch-builtin``)."""
        return f"{self.framework}-builtin" if self.builtin else str(self.framework)

    @property
    def median(self) -> float | None:
        """The figure compared: the median resists the odd slow round."""
        return num(self.stats.get("median"))


def _guess_framework(name: str) -> str | None:
    """torch or tf from a benchmark name's words, when extra_info does not say."""
    words = [w for w in name.replace("[", " ").replace("]", " ").replace("-", " ").replace("_", " ").split()]
    found = {_FRAMEWORK_WORDS[w.lower()] for w in words if w.lower() in _FRAMEWORK_WORDS}
    return found.pop() if len(found) == 1 else None


def _benchmark(source: str, item: dict[str, Any]) -> Benchmark:
    """One pytest-benchmark entry, with the fallbacks for a missing extra_info."""
    extra = item.get("extra_info") if isinstance(item.get("extra_info"), dict) else {}
    name = str(item.get("name", "?"))
    pair = extra.get("pair") or item.get("group") or name
    framework = extra.get("framework") or _guess_framework(name)
    step = " · ".join(str(extra[k]) for k in ("size", "pass", "execution") if extra.get(k)) or \
        ("" if extra.get("pair") else name)
    stats = item.get("stats") if isinstance(item.get("stats"), dict) else {}
    return Benchmark(source, str(pair), str(framework) if framework else None, str(extra.get("device", "")),
                     step, name, stats, extra.get("builtin") or None, num(extra.get("gflops_per_s")),
                     num(extra.get("fraction_of_peak")))


def _read(path: Path) -> list[dict[str, Any]]:
    """The ``benchmarks`` list of a JSON file, or nothing when it is not a benchmark file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        return []
    return [b for b in data["benchmarks"] if isinstance(b, dict)]


def find_benchmarks(directories: Sequence[tuple[Path, str]]) -> list[Benchmark]:
    """Every benchmark in every ``*.json`` of the directories (environment.json excepted)."""
    out = []
    for directory, label in directories:
        for path in sorted(Path(directory).glob("*.json")):
            if path.name != ENVIRONMENT_FILE:
                out.extend(_benchmark(f"{label}/{path.name}", b) for b in _read(path))
    return out


Row = tuple[str, str, str]  # (source, device, step)


def _rows(items: Sequence[Benchmark]) -> dict[Row, dict[str, Benchmark]]:
    """torch and tf timings side by side per (source, device, pass); unpaired ones get their name."""
    rows: dict[Row, dict[str, Benchmark]] = {}
    for b in items:
        if b.framework in ("torch", "tf"):
            rows.setdefault((b.source, b.device, b.step), {})[b.slot] = b
        else:
            rows.setdefault((b.source, b.device, b.name), {})["other"] = b
    return rows


def _ratio(row: dict[str, Benchmark]) -> str:
    """TF median / torch median, in words a reader does not have to invert."""
    torch_m = row["torch"].median if "torch" in row else None
    tf_m = row["tf"].median if "tf" in row else None
    if not torch_m or not tf_m:
        return "—"
    return f"{fmt_num(tf_m / torch_m)}× ({'TF slower' if tf_m > torch_m else 'TF faster'})"


def _versus_builtin(row: dict[str, Benchmark], framework: str) -> str:
    """Our layer's median over the built-in's, in one framework."""
    ours, theirs = row.get(framework), row.get(f"{framework}-builtin")
    if ours is None or theirs is None or not ours.median or not theirs.median:
        return "<td>—</td>"
    return f'<td class="num" title="{e(theirs.builtin)}: {e(fmt_seconds(theirs.median))}">' \
           f"{e(fmt_num(ours.median / theirs.median))}×</td>"


def _gflops(row: dict[str, Benchmark]) -> str:
    """Each framework's GFLOP/s, with the share of its own measured matmul rate on that device where recorded."""
    def figure(b: Benchmark | None) -> str:
        if b is None or b.gflops is None:
            return "—"
        share = f" ({100 * b.of_peak:.1f} % of peak)" if b.of_peak is not None else ""
        return e(fmt_num(b.gflops)) + share

    return "<td>" + " / ".join(figure(row.get(f)) for f in ("torch", "tf")) + "</td>"


def _cell(row: dict[str, Benchmark], framework: str) -> str:
    """A median with its spread (min–max, rounds) for one framework."""
    b = row.get(framework)
    if b is None:
        return "<td>—</td>"
    s = b.stats
    spread = f"min {fmt_seconds(s.get('min'))}, max {fmt_seconds(s.get('max'))}, {e(s.get('rounds', '?'))} rounds"
    return f'<td class="num" title="{e(spread)}">{e(fmt_seconds(b.median))}</td>'


def _pair_table(pair: str, items: Sequence[Benchmark], several_sources: bool) -> str:
    """One pair's table and chart."""
    rows = _rows(items)
    builtin = next((b.builtin for b in items if b.builtin), None)
    counted = any(b.gflops is not None for b in items)
    head = "<th scope=\"col\">source</th>" if several_sources else ""
    body = []
    chart = []
    for (source, device, step), row in rows.items():
        label = " · ".join(x for x in (device, step) if x) or "—"
        src = f"<td>{e(source)}</td>" if several_sources else ""
        if "other" in row:  # neither extra_info nor the name says which framework: one figure, said so
            times = f'<td colspan="2">{e(fmt_seconds(row["other"].median))} (framework not recorded)</td>'
        else:
            times = _cell(row, "torch") + _cell(row, "tf")
        extra = (_versus_builtin(row, "torch") + _versus_builtin(row, "tf") if builtin else "") + \
            (_gflops(row) if counted else "")
        body.append(f'<tr>{src}<th scope="row">{e(label)}</th>{times}<td>{e(_ratio(row))}</td>{extra}</tr>')
        chart.append((label, row["torch"].median if "torch" in row else None,
                      row["tf"].median if "tf" in row else None))
    svg = bar_chart(f"median time per call of {pair}: torch vs TF (shorter is faster)", chart)
    if builtin:
        head_extra = (f'<th scope="col">torch / built-in ({e(builtin)})</th>'
                      '<th scope="col">TF / built-in</th>')
    else:
        head_extra = ""
    head_extra += ('<th scope="col" title="peak: a dense matmul of the same dtype, timed on the same device in the '
                   'same run">GFLOP/s torch / TF (share of peak)</th>' if counted else "")
    return (f'<h3 id="bench-{e(slug(pair))}">{e(pair)}</h3><table class="bench"><thead><tr>{head}'
            '<th scope="col">device · size · pass · execution</th><th scope="col">torch median</th>'
            f'<th scope="col">TF median</th><th scope="col">TF / torch</th>{head_extra}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>{svg}')


def benchmarks_section(items: Sequence[Benchmark]) -> str:
    """The Benchmarks section; empty when no directory holds benchmark JSON."""
    if not items:
        return ""
    by_pair: dict[str, list[Benchmark]] = {}
    for b in items:
        by_pair.setdefault(b.pair, []).append(b)
    several = len({b.source for b in items}) > 1
    tables = "".join(_pair_table(p, by_pair[p], several) for p in sorted(by_pair))
    return ('<section id="benchmarks"><h2>Benchmarks</h2><p>Median wall time per call from pytest-benchmark, '
            'after a warm-up that excludes tracing and compiling, the device synchronised before the clock stops '
            '(hover a time for min, max and rounds). A TF / torch ratio above 1 means TF is slower; a ratio to '
            'the built-in above 1 means our layer is slower than the framework\'s own.</p>'
            f"{tables}</section>")
