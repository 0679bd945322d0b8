"""Small formatting helpers shared by the report's modules: escaping, numbers, anchors.

Why one place: every string that reaches the page comes from a record or a user file, so
escaping is done by one function that every module calls, never by hand.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from typing import Any

__all__ = ["NEEDS_A_LOOK", "SHORT", "SYMBOL", "VERDICT_ORDER", "e", "fmt_num", "fmt_seconds", "num", "slug",
           "verdict_badge"]

# Worst first: the order rows sort in and the order counts are listed in.
# ``precision`` (float32 only, float64 agrees) and ``inconclusive`` (only degenerate examples)
# are neither pass nor fail: they sort between the failures and the expected outcomes.
VERDICT_ORDER = ("conflict", "error", "fail", "precision", "inconclusive", "known-divergence", "skip", "pass")
# Text next to every colour: a verdict is never told by colour alone.
SYMBOL = {"pass": "✓", "fail": "✗", "precision": "±", "inconclusive": "?", "known-divergence": "≈", "error": "!",
          "skip": "–", "conflict": "⚠"}
SHORT = {"pass": "pass", "fail": "fail", "precision": "precision", "inconclusive": "inconclusive",
         "known-divergence": "known", "error": "error", "skip": "skip", "conflict": "conflict"}
# What needs a look: listed under the summary's headline and opened in the details.
NEEDS_A_LOOK = ("conflict", "error", "fail", "precision", "inconclusive")


# The longest text the page shows of one value; a record may hold up to a million characters
# (a traceback of a deep recursion, say), which would make the page unreadable, not more useful.
SHOWN = 20_000


def e(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute; records carry user strings. Huge ones are cut."""
    text = "" if value is None else str(value)
    if len(text) > SHOWN:
        text = f"{text[:SHOWN]}… [{len(text) - SHOWN:,} more characters in results.jsonl]"
    return html.escape(text, quote=True)


def num(value: Any) -> float | None:
    """A record number as float: results.py writes inf/NaN as strings to stay standard JSON."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def fmt_num(value: Any, digits: int = 3) -> str:
    """A number in a few significant digits; non-numbers pass through as text, missing as a dash."""
    x = num(value)
    if x is None:
        return "—" if value is None else str(value)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def fmt_seconds(value: Any) -> str:
    """A duration with a unit a person reads at a glance (benchmarks span ns to s)."""
    x = num(value)
    if x is None:
        return "—"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(x) >= factor:
            return f"{x / factor:.3g} {unit}"
    return f"{x / 1e-9:.3g} ns"


def slug(*parts: str) -> str:
    """A stable HTML id from user strings; a short hash keeps different names from colliding."""
    text = "--".join(str(p) for p in parts)
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"
    if clean != text:
        clean += "-" + hashlib.sha1(text.encode()).hexdigest()[:6]
    return clean


def verdict_badge(verdict: str, long: bool = True) -> str:
    """The verdict as symbol + text inside a coloured span (colour is an extra, not the signal)."""
    label = verdict if long else SHORT.get(verdict, verdict)
    return f'<span class="v v-{e(verdict)}">{e(SYMBOL.get(verdict, "?"))} {e(label)}</span>'
