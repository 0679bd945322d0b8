"""Recognising the ledger's defects on a finished record: :mod:`harness.ledger` holds them, this reads the evidence.

Apart from the ledger because recognition builds the pair's layers again (the engine) while the
ledger is data that pair files, the atlas and the CLI import without a framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.engine import BUILT
from harness.ledger import Defect, Evidence, entry, match
from harness.noise import evaluate
from harness.results import Record
from harness.spec import KnownDivergence

__all__ = ["evidence", "recognise"]


def evidence(target: Any, case: Any, needs_graph: bool) -> Evidence:
    """Build both layers of the case and read their classes (and, if asked, the TF side's float64 graph)."""
    from harness.engine import draw_inputs, prepare
    from harness.layouts import layout_of
    from harness.sides import tf_side

    tw = prepare(target, case, target.dtype)
    torch_modules = list(tw.th.modules()) if hasattr(tw.th, "modules") else []
    keras_layers = list(tw.tf._flatten_layers(include_self=True)) if hasattr(tw.tf, "_flatten_layers") else []
    graph: set[str] = set()
    if needs_graph:
        inputs = draw_inputs(tw.pair, case, tw.rng, "float64")
        tf_inputs = [layout_of(s.layout, x.ndim).forward(x) for s, x in zip(tw.pair.inputs, inputs, strict=True)]
        graph = set(tf_side.graph_nodes(tw.tf, tf_inputs, tw.kwargs, "train" if target.mode == "train" else "eval",
                                        target.check in ("gradient", "train_step")))
    return Evidence(frozenset(class_names(torch_modules)), frozenset(class_names(keras_layers)),
                    (*torch_modules, *keras_layers), frozenset(graph))


def class_names(objects: Iterable[Any]) -> set[str]:
    """Every class of every object, bases included: a ``CachedMultiHeadAttention`` is a ``MultiHeadAttention``."""
    return {c.__name__ for o in objects for c in type(o).__mro__}


def _confirmed(defect: Defect, target: Any, case: Any) -> bool | None:
    """Whether the case agrees with the defect patched out (None: the entry has no patch)."""
    patch = defect.signature.patch
    if patch is None:
        return None
    BUILT.reset()  # graph mode: a compiled layer traced before the patch would still carry the defect
    with patch():
        return evaluate(target, case).ok


def recognise(record: Record, target: Any, case: Any | None, known: Iterable[KnownDivergence]) -> None:
    """Attach to a record the entries it reproduced by declaration or matches by signature, and say so."""
    reproduced = [entry(k.finding) for k in known if k.finding and record.verdict == "known-divergence"]
    record.findings = [d.to_json(declared=True) for d in reproduced] or None
    if record.verdict not in ("fail", "error") or case is None:
        return
    try:
        candidates = match(record, lambda needs_graph: evidence(target, case, needs_graph))
        judged = [(d, _confirmed(d, target, case)) for d in candidates]
    except Exception:  # noqa: BLE001 - recognition is evidence, not the verdict; a case that cannot be rebuilt has none
        judged = []
    matched = [(d, confirmed) for d, confirmed in judged if confirmed is not False]
    if not matched:
        return
    record.findings = [d.to_json(confirmed=confirmed) for d, confirmed in matched]
    lines = [f"{'matches' if confirmed else 'is consistent with'} framework defect {d.id} ({d.framework}, seen in "
             f"{', '.join(d.seen)}): {d.summary}"
             + (". Confirmed: with the defect patched out, this case agrees." if confirmed else
                ". (Its signature holds; there is no patch to confirm it.)")
             + f" Reproduce: {d.command}. If it is the only difference, declare it on the pair: "
             f"harness.ledger.declared({d.id!r}, {record.check!r}, ...)" for d, confirmed in matched]
    record.message = "\n".join([record.message, *lines])
