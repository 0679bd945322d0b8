"""How a compiled (``graph`` mode) record ran: the compiler on each side and what it cost.

Why show it: a graph-mode verdict is about the compiler as much as the layer, and the trace
count tells whether tf.function retraced for every example (the compiled path then mostly
measured tracing) or reused its graphs. Keys may be missing and new ones may appear: the
known ones come first in a fixed order, any other is shown under its own name.
"""

from __future__ import annotations

from typing import Any

from harness.report.fmt import e
from harness.results import Record

__all__ = ["execution_block"]

_ROWS = (("tf", "TF ran under"), ("torch", "torch ran under"), ("tf_traces", "tf.function traces"),
         ("torch_compiles", "torch.compile compilations"),
         ("torch_graph_breaks", "torch graph breaks (dynamo ran that code eagerly)"), ("layers_built", "layers built"),
         ("examples", "examples"))


def _count(value: Any) -> int | None:
    """An int field (a count) as int; anything else (text, a bool, a float) is not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _plural(n: int, word: str) -> str:
    """``1 trace``, ``7 traces``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def execution_sentence(execution: dict[str, Any]) -> str:
    """The counts in words: "7 tf.function traces and 3 torch.compile compilations for 26 examples; ..."."""
    examples = _count(execution.get("examples"))
    per = f" for {_plural(examples, 'example')}" if examples is not None else ""
    costs = [_plural(n, word) for key, word in (("tf_traces", "tf.function trace"),
                                                ("torch_compiles", "torch.compile compilation"))
             if (n := _count(execution.get(key))) is not None]
    parts = [" and ".join(costs) + per] if costs else []
    layers = _count(execution.get("layers_built"))
    if layers is not None:
        parts.append(f"{_plural(layers, 'layer')} built")
    if not parts and examples is not None:
        parts.append(_plural(examples, "example"))
    return "; ".join(parts) + "." if parts else ""


def _value(value: Any) -> str:
    """A compiler description as code, a count as a number, graph breaks as their reasons and counts."""
    if _count(value) is not None:
        return f'<td class="num">{value}</td>'
    if isinstance(value, dict):
        return "<td>" + "; ".join(f"<code>{e(k)}</code> x {e(v)}" for k, v in value.items()) + "</td>"
    return f"<td><code>{e(value)}</code></td>"


def execution_block(r: Record) -> str:
    """The "how it ran" table and its sentence; nothing for a record without ``execution``."""
    x = r.execution
    if not isinstance(x, dict) or not x:
        return ""
    known = [(label, x[key]) for key, label in _ROWS if key in x]
    other = [(key, x[key]) for key in sorted(x) if key not in dict(_ROWS)]
    rows = "".join(f'<tr><th scope="row">{e(label)}</th>{_value(v)}</tr>' for label, v in known + other)
    sentence = execution_sentence(x)
    lead = f'<p class="execution">{e(sentence)}</p>' if sentence else ""
    return (f"<h4>How it ran</h4>{lead}<table class=\"execution\"><caption>compiled execution of this record"
            f"</caption><tbody>{rows}</tbody></table>")
