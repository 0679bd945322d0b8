"""One check of one pair: evaluate cases, let hypothesis hunt and shrink, return a Record.

Order of work, and why:
1. the *minimal case* (smallest non-empty dims, ``normal`` values, seed 0) runs first: it
   validates the weight map against the real layers before anything else runs, and a pair
   broken everywhere fails on the smallest input there is;
2. the *edge cases* (the minimal dims in every value regime) run next, so a divergence that
   needs an exact zero or a threshold value is found deterministically, not by luck;
3. the *wide case* (every dim at least 2 where the strategies allow) and, where a dim can be
   0, the *empty case*, so that no check passes on degenerate shapes alone (:mod:`harness.coverage`);
4. hypothesis then generates and, on failure, shrinks to a minimal case. A divergence of the
   wide or empty case is reported only if hypothesis finds no smaller one: those two cases
   are not shrunk.

A float32 example that diverges is replayed in float64 on the same (float32-rounded)
numbers: if the frameworks agree there, the example is a precision effect, judged against
the float64 result (:mod:`harness.oracle`), and the hunt goes on for a real divergence;
otherwise it is a failure, and hypothesis shrinks it.
"""

from __future__ import annotations

import shlex
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from harness import bridge, configurations, coverage, noise, oracle, profiles, recognise
from harness.cases import Case, case_strategy, regimes_for
from harness.checks import TORCH_ONLY_CHECKS, evaluate, tf_absent
from harness.compare import Policy, TensorMetrics, policy_for
from harness.engine import AUTO_MAPS, BUILT, Evaluation, Timeout, low_precision_ops, rounded_through, time_limit
from harness.results import Record
from harness.sides import SideError
from harness.spec import KnownDivergence, LayerPair, SpecError

__all__ = ["DEFAULT_TIMEOUT", "Target", "run_check"]

# Seconds one example may take (its float64 replay included) before it is an error record: far
# above any example of the catalogue (the slowest, a U-Net compiled backward, takes ~30 s).
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Target:
    """What one record is about. ``source`` is the user file a pair came from, if any."""

    pair: LayerPair
    check: str
    dtype: str
    device: str = "cpu"
    mode: str = "eval"
    source: str | None = None

    @property
    def id(self) -> str:
        return f"{self.pair.name}-{self.check}-{self.dtype}-{self.device}-{self.mode}"


class Divergence(AssertionError):
    """A case on which the two frameworks disagree beyond tolerance.

    ``precise`` names failing tensors that the float64 replay showed to be precision effects
    (beside a declared divergence that reproduced); ``judgement`` is the oracle's account of them.
    """

    def __init__(self, case: Case, evaluation: Evaluation, policy: Policy, precise: frozenset[str] = frozenset(),
                 judgement: dict[str, Any] | None = None, check: str = "forward"):
        self.case = case
        self.evaluation = evaluation
        self.metrics = evaluation.metrics
        self.precise = precise
        self.judgement = judgement
        text = "\n".join(m.describe(policy) for m in self.metrics if not m.ok)
        super().__init__(f"{_WHAT_DIFFERS.get(check, 'frameworks diverge')} on case {case.dumps()}:\n{text}")


# The first words of a failure, by check: the checks that compare a framework with itself say so.
_WHAT_DIFFERS = {"serialization": "a save/load round trip does not reproduce the layer (each framework against "
                                  "itself)",
                 "statistics": "a side's dropout statistics are off the declared rate"}


class CaseError(Exception):
    """A case on which building or running raised; carries the case for the record."""

    def __init__(self, case: Case, exc: BaseException):
        self.case = case
        self.original = exc
        super().__init__(str(exc))


# Checks and modes whose examples are expensive draw a share of the profile's examples (the
# coverage cases still all run): a dropout sample of 20,000 draws, and a compiled example, which
# runs each side compiled and eager and compiles again for a new input shape (XLA compiles per
# shape). A serialization record draws one configuration beside its coverage cases' (at most 3 in all,
# harness.configurations): each of its examples is an export, through which three input sets go.
EXAMPLE_SHARE = {"statistics": 0.25, "graph": 0.25}
# Whatever the share, a record draws at least this many examples of its own (the ``smoke`` profile's count).
MIN_DRAWN = 2


# Checks that compare the two frameworks' numbers, where a float64 replay can tell a precision
# divergence from a semantic one (the others compare a side with itself or with a rate).
_CROSS_NUMERIC = ("forward", "gradient", "state", "train_step")


class _Counters:
    """What graph mode cost for one record (tf.function traces, dynamo graphs, layers built), and in any mode
    what ran where it is not obvious (torch alone on a GPU without TF, cuDNN switched off).

    Made at the start of every record, it also drops what earlier records left in the process
    (built twins, TF's eager kernels, dynamo's graphs): no earlier record's can serve this one.
    """

    def __init__(self, target: Target):
        self.graph = target.mode == "graph"
        self.execution: dict[str, Any] = {}
        BUILT.reset()
        from harness.sides import tf_side, torch_side  # the modules load neither framework

        if "tensorflow" in sys.modules:  # nothing to drop in a process where TF never loaded (torch-only checks)
            tf_side.forget_kernels()
        if self.graph:
            torch_side.forget_graphs()
            self.start = (tf_side.traces(), torch_side.compilations(), torch_side.graph_breaks())

    def note(self, evaluation: Any) -> None:
        self.execution.update(evaluation.execution)

    def summary(self, examples: int) -> dict[str, Any] | None:
        if not self.graph:  # what ran where it is not obvious (a GPU run without TF, cuDNN off), or nothing
            return dict(self.execution) or None
        from harness.sides import tf_side, torch_side

        compiles = torch_side.compilations() - self.start[1]
        out = {**self.execution, "tf_traces": tf_side.traces() - self.start[0], "torch_compiles": compiles,
               "layers_built": BUILT.built, "examples": examples}
        before = self.start[2]
        breaks = {r: n - before.get(r, 0) for r, n in torch_side.graph_breaks().items() if n > before.get(r, 0)}
        if breaks:
            out["torch_graph_breaks"] = breaks
        if not compiles and "torch" in out:  # "torch.compile" alone would claim what did not happen
            out["torch"] = f"{out['torch']}: compiled nothing, dynamo ran the module eagerly"
        return out


def _skip_reason(target: Target) -> str | None:
    """Why this target cannot run here (a declared skip, a missing device or framework), if it cannot."""
    from harness import devices

    skips = target.pair.skip_modes
    if target.mode in skips:
        return f"{target.mode} mode not checked: {skips[target.mode]}"
    if f"{target.mode}:{target.check}" in skips:
        return f"{target.check} in {target.mode} mode not checked: {skips[f'{target.mode}:{target.check}']}"
    problem = devices.unavailable("torch", target.device)
    if problem:
        return f"device {target.device!r}: {problem}"
    problem = devices.unavailable("tf", target.device)
    if problem and (target.device == "cpu" or target.check not in TORCH_ONLY_CHECKS):
        return f"the TF side is unavailable on {target.device!r}: {problem}"
    return None


def _summary(metrics: list[TensorMetrics]) -> dict[str, Any]:
    return {
        "headroom": max((m.headroom for m in metrics), default=0.0),
        "tensors": {m.name: [m.max_abs_error, m.max_rel_error, m.headroom] for m in metrics},
    }


def _repro(target: Target, case: Case) -> str:
    parts = ["conform", "run", "--pairs", target.pair.name, "--checks", target.check, "--dtype", target.dtype,
             "--device", target.device, "--modes", target.mode, "--case", case.dumps()]
    if target.source:
        parts[2:2] = ["--pairs-from", target.source]
    return shlex.join(parts)


def _hypothesis_settings(max_examples: int | None, target: Target, profile: str | None = None) -> settings:
    if profile is not None and profile not in profiles.PROFILES:
        raise ValueError(f"unknown hypothesis profile {profile!r}; known: {profiles.PROFILES}")
    base = settings.get_profile(profile) if profile else settings.default
    share = min(EXAMPLE_SHARE.get(target.check, 1.0), EXAMPLE_SHARE.get(target.mode, 1.0))
    wanted = max_examples or base.max_examples
    examples = max(min(MIN_DRAWN, wanted), round(wanted * share))
    return settings(
        base,
        max_examples=examples,
        deadline=None,  # first calls trace and allocate; a deadline would flag that, not the layer
        database=None,  # reproduction goes through the recorded case, not a local database
        report_multiple_bugs=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=False,
    )


def _hunt_configurations(target: Target, search: settings, attempt: Callable[[Case], None],
                         tried: list[Case]) -> None:
    """Graph mode and serialization: one drawn configuration beside the coverage cases', then (graph mode) the
    profile's examples through those configurations only (:mod:`harness.configurations`).

    ``tried`` are the cases run so far (the coverage cases); the drawn configuration's case joins them.
    """
    pair = target.pair
    reads = frozenset(BUILT.reads.get(pair.name, ()))
    known = {configurations.key(c.params, reads): c.params for c in tried}
    # the smoke profile's two examples go to values and batch sizes through the coverage cases' configurations;
    # a profile that draws more draws one configuration of its own too
    if reads and len(known) < configurations.MAX and search.max_examples > MIN_DRAWN:
        before = frozenset(known)  # the filter must not change while hypothesis replays or shrinks
        new = case_strategy(pair, target.mode, target.check).filter(
            lambda c: configurations.key(c.params, reads) not in before)
        ran: list[Case] = []

        @given(new)
        def drawn(c: Case) -> None:
            attempt(c)
            ran.append(c)

        try:
            settings(search, max_examples=1, suppress_health_check=list(HealthCheck))(drawn)()
        except Unsatisfiable:  # every configuration the strategies allow has run already
            pass
        for c in ran:
            known.setdefault(configurations.key(c.params, reads), c.params)
    if target.check == "serialization":  # an example is an export: several inputs went through each already
        return

    @given(configurations.confined(pair, target.mode, target.check, tuple(known.values()), reads))
    def through(c: Case) -> None:
        attempt(c)

    search(through)()


def _uncovered(known: tuple[KnownDivergence, ...], case: Case, failing: list[TensorMetrics]) -> list[str]:
    """The failing tensors no declaration covers: one whose scope holds this case, naming the tensor.

    A GPU-vs-CPU comparison of torch with itself is covered only by a declaration scoped to
    the device (``devices=``): a difference between torch and TF says nothing of a GPU kernel.
    """
    scoped = [k for k in known if k.scoped_to(case.regime, case.params)]
    return [m.name for m in failing
            if not any(k.covers(m.name) and (k.devices is not None or m.sides[1] != "torch cpu") for k in scoped)]


def _scope(known: tuple[KnownDivergence, ...]) -> str:
    parts = [f"regimes {list(k.regimes)}" for k in known if k.regimes is not None]
    parts += ["a where= condition on the drawn params" for k in known if k.where is not None]
    return " or ".join(dict.fromkeys(parts)) or "any case"


def _float64(target: Target, case: Case) -> Evaluation:
    """The float64 replay of a float32 case, on the float32 case's own numbers."""
    with rounded_through("float32"):
        return noise.evaluate(target, case, dtype="float64")


@dataclass
class _Precision:
    """The precision examples of a record: the worst one, its judgement, and how many."""

    case: Case | None = None
    metrics: list[TensorMetrics] = field(default_factory=list)
    judgement: dict[str, Any] | None = None
    count: int = 0

    def note(self, case: Case, metrics: list[TensorMetrics], judgement: dict[str, Any]) -> None:
        self.count += 1
        if self.case is None or _summary(metrics)["headroom"] > _summary(self.metrics)["headroom"]:
            self.case, self.metrics, self.judgement = case, metrics, judgement


class _Floors:
    """The noise floors a record's examples were judged against (:mod:`harness.noise`): how many, the worst."""

    def __init__(self) -> None:
        self.judged = 0
        self.unstable: set[str] = set()
        self.worst: dict[str, Any] | None = None
        self.always = False

    def note(self, found: dict[str, Any]) -> None:
        self.always = found["always"]
        self.unstable.update(found["unstable"])
        if found["worst"] is None:
            return
        self.judged += 1
        if self.worst is None or found["worst"]["headroom"] > self.worst["headroom"]:
            self.worst = found["worst"]

    def summary(self, record: Record) -> dict[str, Any] | None:
        """The record's ``noise_floor``, and a line in its message where the floor decided a pass."""
        if not self.judged and not self.unstable:
            return None
        out = {"k": noise.K, "draws": noise.DRAWS, "examples": self.judged, "always": self.always,
               "unstable": sorted(self.unstable), "worst": self.worst}
        if self.worst is not None and record.verdict == "pass":
            w = self.worst
            why = "in every example (SGD compounds rounding)" if self.always else \
                f"where an example exceeded the fixed {record.dtype} tolerance"
            record.message = "\n".join(x for x in (record.message, (
                f"judged against the measured noise floor {why}: {self.judged} example(s); the worst, "
                f"{w['tensor']}, differs by {w['error']:.3g} = {w['headroom']:.3g} x the allowed {noise.K:g} x floor "
                f"(one ulp of every drawn value moves torch by {w['sides'][0]:.3g}, tf by {w['sides'][1]:.3g})")) if x)
        if self.unstable:
            record.message = "\n".join(x for x in (record.message, (
                f"no noise floor for {', '.join(sorted(self.unstable)[:4])}: one ulp moves it by more than half "
                "its digits (not rounding), so the fixed tolerance stands")) if x)
        return out


def run_check(target: Target, *, max_examples: int | None = None, case: Case | None = None,
              run_id: str = "", timeout: float | None = DEFAULT_TIMEOUT, profile: str | None = None) -> Record:
    """Run one check to a verdict. Never raises for a layer's fault: that is an error record.

    ``timeout`` limits each example (the pair's own ``timeout`` wins); one that hangs is an
    error record naming the framework and stage that were running. ``profile`` names the
    hypothesis profile of the search (default: the one loaded).
    """
    pair = target.pair
    started = time.perf_counter()
    policy = policy_for(target.dtype, pair.tolerance_override(target.check, target.dtype))
    declared = pair.declared(target.check, target.dtype, target.mode, target.device)
    absent = tf_absent(target)
    known = tuple(k for k in declared if k.devices is not None or not absent)  # judged only where both sides ran
    record = Record(
        pair=pair.name, check=target.check, dtype=target.dtype, device=target.device, mode=target.mode,
        verdict="pass", origin={"seed": pair.origin.seed, "tutorial_name": pair.origin.tutorial_name,
                                **({"atlas": dict(pair.origin.atlas)} if pair.origin.atlas else {})},
        tolerance=policy.to_json(), known_divergence="\n".join(k.reason for k in known) or None, run_id=run_id,
    )
    worst: list[TensorMetrics] = []
    skip = _skip_reason(target)
    if skip:
        record.verdict = "skip"
        record.message = skip
        return record
    counters = _Counters(target)
    tried: list[tuple[Case, str | None]] = []
    precision = _Precision()
    floors = _Floors()
    judged = target.dtype == "float32" and target.check in _CROSS_NUMERIC
    limit = pair.timeout or timeout
    expired: list[tuple[Case, Timeout]] = []

    def attempt(c: Case) -> None:
        if expired:  # hypothesis replays a failing example: do not wait out the limit again
            raise expired[0][1]
        try:
            with time_limit(limit):
                examine(c)
        except Timeout as exc:
            expired.append((c, exc))
            raise

    def examine(c: Case) -> None:
        nonlocal worst
        try:
            evaluation = noise.evaluate(target, c)
        except (SideError, bridge.WeightMapError, SpecError) as exc:
            raise CaseError(c, exc) from exc
        metrics = evaluation.metrics
        why = plan.degenerate(pair, c.params)
        tried.append((c, why))
        summary = _summary(metrics)
        entry = {"case": c.to_json(), "ok": evaluation.ok, "degenerate": why, **summary}
        if evaluation.noise is not None:
            entry["noise_floor"] = evaluation.noise["worst"]
            floors.note(evaluation.noise)
        record.per_example.append(entry)
        counters.note(evaluation)
        if summary["headroom"] >= _summary(worst)["headroom"]:
            worst = metrics
            record.trajectory = evaluation.trajectory
        if evaluation.ok:
            return
        record.trajectory = evaluation.trajectory
        failing = [m.name for m in metrics if not m.ok]
        uncovered = _uncovered(known, c, [m for m in metrics if not m.ok])
        if uncovered and judged:
            try:
                replay = _float64(target, c)
            except Exception:  # noqa: BLE001 - no float64 answer: the float32 divergence stands, unjudged
                replay = Evaluation([])
            agreed = {m.name for m in replay.compared if m.ok}
            if set(uncovered) <= agreed:
                judgement = oracle.judge(evaluation.arrays, replay.arrays, metrics, policy)
                if len(uncovered) == len(failing):  # nothing declared failed: this example is a precision effect
                    entry["precision"] = judgement["less_accurate"]
                    precision.note(c, metrics, judgement)
                    return
                raise Divergence(c, evaluation, policy, frozenset(uncovered), judgement, target.check)
        raise Divergence(c, evaluation, policy, check=target.check)

    @given(case_strategy(pair, target.mode, target.check))
    def hunt(c: Case) -> None:
        attempt(c)

    try:
        plan = coverage.plan(pair, target.mode)
        if case is not None:
            attempt(case)
        else:
            attempt(plan.minimal)
            for regime in regimes_for(pair, target.check)[1:]:  # none for checks that ignore values
                attempt(Case(plan.minimal.params, regime, 0))
            unshrunk = None
            for extra in (plan.wide, plan.empty):
                if extra is not None and extra.params != plan.minimal.params:
                    try:
                        attempt(extra)
                    except Divergence as div:  # hypothesis may still find (and shrink) a smaller one
                        unshrunk = unshrunk or div
            search = _hypothesis_settings(max_examples, target, profile)
            if configurations.applies(target.check, target.mode):
                _hunt_configurations(target, search, attempt, [c for c, _ in tried])
            else:
                search(hunt)()
            if unshrunk is not None:
                raise unshrunk
        record.metrics = {m.name: m.to_json() for m in worst}
        if precision.case is not None:
            _record_precision(record, target, precision)
    except Divergence as div:
        _record_divergence(record, target, div, policy, known)
    except CaseError as err:
        _record_error(record, err.original, err.case, target)
    except Timeout:
        case_, exc = expired[0]
        _record_error(record, exc, case_, target)
    except Exception as exc:  # noqa: BLE001 - a harness-level surprise is still one error record
        _record_error(record, exc, None, target)
    record.execution = counters.summary(len(record.per_example))
    record.coverage = coverage.summary(tried) if tried else None
    if record.coverage and configurations.applies(target.check, target.mode):
        reads = BUILT.reads.get(pair.name, set())
        record.coverage["configurations"] = len({configurations.key(c.params, reads) for c, _ in tried})
    fixed = [f"{t.name} ({t.dtype})" for t in pair.inputs if not t.differentiable]
    if record.coverage and fixed and target.check in ("gradient", "train_step"):
        record.coverage["no_gradient"] = fixed  # ids and masks: compared as inputs, never differentiated
    _conclude(record, target, known, [c for c, _ in tried])
    if absent and len(known) < len(declared):
        record.message = "\n".join(x for x in (record.message, *(
            f"not checkable here, since TF did not run ({absent}): the declared divergence between torch and TF "
            f"{k.reason!r}" for k in declared if k not in known)) if x)
    record.noise_floor = floors.summary(record)
    recognise.recognise(record, target, Case.from_json(record.minimal_case) if record.minimal_case else None, known)
    if pair.auto_weights:
        record.weight_map = AUTO_MAPS.get(pair.name)
    record.examples = len(record.per_example)
    record.duration_s = round(time.perf_counter() - started, 4)
    return record


def _conclude(record: Record, target: Target, known: tuple[KnownDivergence, ...], tried: list[Case]) -> None:
    """Coverage and declarations have the last word on a record that found nothing wrong.

    A strict declaration that did not reproduce fails the record, unless no example was drawn
    inside its scope (its regimes, its ``where``): then this record tested nothing it speaks
    of, and says so; or unless the effect is there below the fixed tolerance, far beyond the
    noise floor at the in-scope example that came closest (:func:`harness.noise.present`).
    A declared pair whose dims always reach the scope keeps it honest.
    """
    # only a pass can be vacuous: a difference found on a degenerate case (a precision effect included) is found
    if record.verdict == "pass" and record.coverage and not record.coverage["non_degenerate"]:
        record.verdict = "inconclusive"
        record.message = (f"every one of the {record.coverage['examples']} examples was degenerate (an empty tensor, "
                          "or a dim below 2 that the pair's strategies let reach 2): nothing here tells the two "
                          "sides apart")
    if not known or record.verdict not in ("pass", "precision", "inconclusive"):
        return
    notes, gone = [], []
    for k in known:
        if not k.strict:
            notes.append(f"the declared non-strict divergence did not show in {len(record.per_example)} examples "
                         f"(it needs particular draws): {k.reason!r}")
        elif tried and not any(k.scoped_to(c.regime, c.params) for c in tried):
            notes.append(f"none of the {len(tried)} examples was drawn inside the declared divergence's scope, so "
                         f"this record says nothing of it: {k.reason!r}")
        elif (below := _below_tolerance(record, target, k)) is not None:
            notes.append(below)
        else:
            gone.append(k)
    if gone:
        record.verdict = "fail"
        record.message = "\n".join(
            f"declared known divergence did not reproduce in {len(record.per_example)} examples: {k.reason!r}. The "
            "divergence is gone: remove the declaration or find out what changed." for k in gone)
        return
    record.message = "\n".join(x for x in (record.message, *notes) if x)


def _below_tolerance(record: Record, target: Target, k: KnownDivergence) -> str | None:
    """A note if declaration ``k`` shows below the tolerance at its closest in-scope example; None if it is gone."""
    cases = ((e, Case.from_json(e["case"])) for e in record.per_example)
    ranked = sorted(((not e["degenerate"], e["headroom"], c) for e, c in cases if k.scoped_to(c.regime, c.params)),
                    key=lambda t: t[:2], reverse=True)
    if not ranked:
        return None
    try:
        found = noise.present(target, ranked[0][2], k.covers)
    except Exception:  # noqa: BLE001 - a replay that raises shows nothing: the declaration is judged gone
        return None
    if found is None:
        return None
    return (f"the declared divergence shows below the fixed {record.dtype} tolerance: {found.name} differs by "
            f"{found.max_abs_error:.3g}, {found.headroom:.3g} x the allowed {noise.K:g} x its noise floor, at the "
            f"in-scope example that came closest: {k.reason!r}")


def _minimal(pair: LayerPair, case: Case) -> dict[str, Any]:
    """The case as replayable JSON, plus the input shapes it makes (for people, not replay)."""
    try:
        shapes = {t.name: list(t.concrete_shape(case.params)) for t in pair.inputs}
    except Exception:  # noqa: BLE001 - a case whose shapes cannot be made still gets recorded
        shapes = {}
    return {**case.to_json(), "input_shapes": shapes}


def _record_precision(record: Record, target: Target, precision: _Precision) -> None:
    """float32 diverged and float64 agreed: name the framework whose float32 result is further off."""
    assert precision.case is not None and precision.judgement is not None
    record.verdict = "precision"
    record.divergence_kind = "precision"
    record.metrics = {m.name: m.to_json() for m in precision.metrics}
    record.minimal_case = _minimal(target.pair, precision.case)
    record.repro = _repro(target, precision.case)
    record.oracle = precision.judgement
    failing = ", ".join(m.name for m in precision.metrics if not m.ok)
    record.message = (f"float32 differs beyond tolerance in {precision.count} of {len(record.per_example)} examples "
                      f"({failing}), and the float64 replay of the same case agrees: {precision.judgement['summary']}")


def _record_divergence(record: Record, target: Target, div: Divergence, policy: Policy,
                       known: tuple[KnownDivergence, ...]) -> None:
    beyond = [n for n in _uncovered(known, div.case, [m for m in div.metrics if not m.ok]) if n not in div.precise]
    scoped = [k for k in known if k.scoped_to(div.case.regime, div.case.params)]
    elsewhere = bool(known) and not scoped
    record.verdict = "known-divergence" if scoped and not beyond else "fail"
    record.metrics = {m.name: m.to_json() for m in div.metrics}
    record.minimal_case = _minimal(target.pair, div.case)
    record.repro = _repro(target, div.case)
    record.message = str(div)
    if div.judgement is not None:
        record.oracle = div.judgement
        record.message += f"\nbeyond the declared divergence, float32 precision only: {div.judgement['summary']}"
    if beyond and scoped:
        covered = sorted({t for k in scoped for t in k.tensors}) if all(k.tensors for k in scoped) else ["any"]
        record.message = (f"diverges beyond its declared divergence (which covers {covered}): "
                          f"{beyond}\n{record.message}")
    elif elsewhere:
        record.message = (f"diverges in regime {div.case.regime!r} with params {dict(div.case.params)}, outside "
                          f"its declared divergence's scope ({_scope(known)})\n{record.message}")
    if target.pair.stages and target.mode != "graph":
        _record_localisation(record, target, div.case)
    if target.check not in _CROSS_NUMERIC:
        return
    if target.dtype == "float32":
        _explain_float32(record, target, div.case)
    else:
        record.divergence_kind = "semantic"
        _explain_float64(record, target, div)


def _explain_float32(record: Record, target: Target, case: Case) -> None:
    """A float32 failure's float64 replay (on the same numbers): diverges too, so it is semantic."""
    try:
        replay = _float64(target, case)
    except Exception as exc:  # noqa: BLE001 - the replay is evidence, not the verdict
        record.message += f"\nfloat64 replay failed: {type(exc).__name__}: {exc}"
        return
    record.divergence_kind = "precision" if replay.ok else "semantic"
    record.message += (f"\nfloat64 replay of the minimal case: {'agrees' if replay.ok else 'diverges too (semantic)'}"
                       f" (worst error/allowed {_summary(replay.metrics)['headroom']:.3g})")


def _explain_float64(record: Record, target: Target, div: Divergence) -> None:
    """A float64 divergence the size of float32 rounding: which side computes in float32, with the evidence."""
    if not oracle.float32_sized(div.metrics, div.evaluation.arrays):
        return
    try:
        found = oracle.name_float64_side(low_precision_ops(target, div.case))
    except Exception as exc:  # noqa: BLE001 - the probe is evidence, not the verdict
        found = {"side": None, "summary": f"the float32 probe failed: {type(exc).__name__}: {exc}"}
    record.oracle = {"reference": "none: float64 is the highest precision both frameworks run", "float32_sized": True,
                     **found}
    record.message += f"\nthe divergence is the size of float32 rounding: {found['summary']}"


def _record_localisation(record: Record, target: Target, case: Case) -> None:
    """Replay the minimal case with every stage recorded and name the first divergent one."""
    try:
        where = evaluate(target, case, localise=True).localisation or {}
    except Exception as exc:  # noqa: BLE001 - localisation is evidence, not the verdict
        record.message += f"\nlocalisation failed: {type(exc).__name__}: {exc}"
        return
    record.localisation = where
    if where.get("first"):
        row = next(r for r in where["stages"] if r["stage"] == where["first"])
        after = ", ".join(f"{r['stage']} {r['max_abs_error']:.3g}" for r in where["stages"])
        record.message += (f"\nfirst divergent sublayer ({where['direction']}): {where['first']} "
                           f"(max abs error {row['max_abs_error']:.3g}); per stage: {after}")
    elif where.get("stages"):
        others = where.get("undeclared") or []
        elsewhere = f" or in a sublayer not declared as a stage: {', '.join(others)}" if others else ""
        record.message += f"\nno declared sublayer diverges: the divergence is in the composite's own code{elsewhere}"


def _record_error(record: Record, exc: BaseException, case: Case | None, target: Target) -> None:
    record.verdict = "error"
    framework = getattr(exc, "framework", None)
    cause = getattr(exc, "original", exc)
    record.error = {
        "type": type(cause).__name__,
        "framework": framework,
        "stage": getattr(exc, "stage", None),
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(cause)[-6:]),
    }
    record.message = str(exc)
    if case is not None:
        record.minimal_case = _minimal(target.pair, case)
        record.repro = _repro(target, case)
