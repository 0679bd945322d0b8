"""The pytest plugin (entry point ``conform``): options, parametrisation, result recording.

Why pytest: a conformance run is a test run -- selection (``-k``), parallelism (xdist),
CI integration and progress come for free, and ``pytest conformance`` works without our CLI.
The plugin turns the registry into parameters (pair x check x dtype x device x mode), runs
each through :func:`harness.check.run_check`, writes every record as it is made, and maps
verdicts onto pytest outcomes: a verdict listed in ``--conform-fail-on`` (default ``fail,error``)
fails the test; otherwise a known divergence is an xfail, a skip a skip, and ``pass``,
``precision`` and ``inconclusive`` pass (the summary counts and lists the last two).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from harness import frameworks, recycle, registry, selection
from harness.cases import Case
from harness.check import DEFAULT_TIMEOUT, Target, run_check
from harness.profiles import DEFAULT, PROFILES
from harness.results import VERDICTS, Record, ResultsError, ResultsWriter, read_directory
from harness.spec import DTYPES, MODES

settings.load_profile(os.environ.get("CONFORM_HYPOTHESIS_PROFILE", DEFAULT))

_RECORDS = pytest.StashKey[list[Record]]()
_WRITER = pytest.StashKey[ResultsWriter | None]()
_RUN = pytest.StashKey[dict[str, Any]]()
_DONE = pytest.StashKey[set[tuple[str, ...]]]()
_MAKER = pytest.StashKey[recycle.Worker]()
_RECORD_PROPERTY = "conform_record"
DEFAULT_FAIL_ON = ("fail", "error")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conform", "cross-framework conformance")
    group.addoption("--conform-out", default=None,
                    help="write results.jsonl and environment.json to this directory (default: none)")
    group.addoption("--conform-pairs", action="append", default=[],
                    help="comma-separated pair names to run; repeatable (default: every pair)")
    group.addoption("--conform-pairs-from", action="append", default=[],
                    help="a Python file of LayerPair specs; repeatable; without --conform-pairs only "
                         "these files' pairs run (default: none)")
    group.addoption("--conform-checks", default=None,
                    help="comma-separated checks (default: each pair's own list)")
    group.addoption("--conform-dtype", default=",".join(DTYPES),
                    help=f"comma-separated dtypes (default: {','.join(DTYPES)})")
    group.addoption("--conform-device", default="cpu", help="device to run on (default: cpu)")
    group.addoption("--conform-tf32", action="store_true",
                    help="on a GPU, leave TF32 on (default: off in both frameworks; TF enables it by default)")
    group.addoption("--conform-modes", default=",".join(MODES),
                    help=f"comma-separated modes (default: {','.join(MODES)}; each pair runs those it declares)")
    group.addoption("--conform-max-examples", type=int, default=None,
                    help="hypothesis examples per check (default: the profile's, 20 for 'ci', 2 for 'smoke')")
    group.addoption("--conform-profile", default=None, choices=PROFILES,
                    help="the hypothesis profile of the records' search, without changing the profile of other tests "
                         "(default: the loaded one, 'ci')")
    group.addoption("--conform-in-process", action="store_true",
                    help="make records in the pytest process itself (for a debugger) instead of a child process "
                         "recycled as it grows (default: off)")
    group.addoption("--conform-shard", default=None, metavar="I/N",
                    help="run only slice I of N of the selected checks (a deterministic round robin over their ids)")
    group.addoption("--conform-case", default=None,
                    help="replay exactly this case JSON instead of searching (default: search)")
    group.addoption("--conform-resume", action="store_true",
                    help="append to --conform-out, running only the checks it holds no record of (default: off)")
    group.addoption("--conform-timeout", type=float, default=DEFAULT_TIMEOUT,
                    help="seconds one example may take before it is an error record; a pair's own `timeout` wins "
                         f"(default: {DEFAULT_TIMEOUT:g})")
    group.addoption("--conform-keys", default=None, metavar="FILE",
                    help="run only the records this JSON file lists ([pair, check, dtype, device, mode] each), as "
                         "`conform robust` does (default: every selected one)")
    group.addoption("--conform-fail-on", default=",".join(DEFAULT_FAIL_ON),
                    help="comma-separated verdicts that fail the run (exit 1); e.g. fail,error,precision for the "
                         f"strict reading (default: {','.join(DEFAULT_FAIL_ON)})")


def fail_on(value: str) -> tuple[str, ...]:
    """``"fail,error,precision"`` -> the verdicts; ValueError naming the unknown ones."""
    verdicts = tuple(_csv(value))
    bad = [v for v in verdicts if v not in VERDICTS or v == "pass"]
    if bad or not verdicts:
        choices = ", ".join(v for v in VERDICTS if v != "pass")
        raise ValueError(f"unknown verdicts {bad or value!r}; choose among {choices}")
    return verdicts


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a cross-framework conformance check")
    try:
        fail_on(config.getoption("conform_fail_on"))
    except ValueError as exc:
        raise pytest.UsageError(f"--conform-fail-on: {exc}") from None
    if config.getoption("conform_timeout") <= 0:
        raise pytest.UsageError(f"--conform-timeout must be > 0. Received: {config.getoption('conform_timeout')}")
    config.stash[_RECORDS] = []
    config.stash[_DONE] = _done(config)
    if config.getoption("conform_in_process"):
        _settings(config).apply()  # else the record process applies them (harness.recycle)
    out = config.getoption("conform_out")
    writer = None
    if out and not hasattr(config, "workerinput"):
        writer = ResultsWriter(Path(out))
    config.stash[_WRITER] = writer
    if not hasattr(config, "workerinput") and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_WorkerRecords(config), "conform-worker-records")


def _done(config: pytest.Config) -> set[tuple[str, ...]]:
    """With ``--conform-resume``, the keys the result directory already holds a record of."""
    out = config.getoption("conform_out")
    if not (config.getoption("conform_resume") and out and (Path(out) / "results.jsonl").is_file()):
        return set()
    try:
        return {r.key for r in read_directory(Path(out)).records}
    except ResultsError as exc:
        raise pytest.UsageError(f"--conform-resume: {exc}") from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--conform-shard I/N``: keep every N-th check in id order, starting at the I-th.

    Ids are stable across machines (pair, check, dtype, device, mode), so N CI jobs with the
    same options run disjoint slices that together are the whole suite.
    """
    value = config.getoption("conform_shard")
    if not value:
        return
    checks = [i for i in items if "conform_target" in getattr(i, "fixturenames", ())]
    try:
        keep = selection.sharded([i.nodeid for i in checks], value)
    except ValueError as exc:
        raise pytest.UsageError(f"--conform-shard: {exc}") from None
    drop = {id(i) for i in checks if i.nodeid not in keep}
    config.hook.pytest_deselected(items=[i for i in items if id(i) in drop])
    items[:] = [i for i in items if id(i) not in drop]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The number of checks this run will make, for run.json (after shards, ``-k`` and resumed ones)."""
    if session.config.pluginmanager.hasplugin("dsession"):
        return  # the xdist controller collects nothing: its workers report (below)
    _selected(session.config, sum("conform_target" in getattr(i, "fixturenames", ()) for i in session.items))


@pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist (``-p no:xdist``) pytest must not refuse it
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under xdist the controller collects nothing itself: each worker reports the same ids."""
    _selected(node.config, sum("::test_pair[" in i for i in ids))


def portable(record: Record) -> dict[str, Any]:
    """A record as plain JSON values, which xdist's channel (execnet) can carry from a worker.

    ``to_json`` may hold numpy scalars (an oracle's float64 figures): ``json`` writes them as
    the floats they subclass, execnet refuses them, and the worker would crash mid-run.
    """
    return json.loads(json.dumps(record.to_json()))


class _WorkerRecords:
    """Under pytest-xdist (``-n N``) the checks run in workers: their records reach this process
    through the test reports' ``user_properties`` and are written here, one writer, one file."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in getattr(report, "user_properties", ()):
            if name == _RECORD_PROPERTY and report.when == "call":
                record = Record.from_json(value, f"worker report of {report.nodeid}")
                self.config.stash[_RECORDS].append(record)
                writer = self.config.stash[_WRITER]
                if writer is not None:
                    writer.write(record)


def _targets(config: pytest.Config) -> list[Target]:
    options = _options(config)
    catalogue = registry.load(options.pairs_from)
    try:
        targets = selection.targets(catalogue, options)
    except (registry.UnknownPairError, selection.SelectionError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if not targets:
        raise pytest.UsageError(selection.nothing_selected(catalogue, options))
    done = config.stash.get(_DONE, set())
    keys = _keys(config.getoption("conform_keys"))
    return [t for t in targets if (t.pair.name, t.check, t.dtype, t.device, t.mode) not in done
            and (keys is None or (t.pair.name, t.check, t.dtype, t.device, t.mode) in keys)]


def _keys(path: str | None) -> set[tuple[str, ...]] | None:
    """``--conform-keys FILE``: the record keys to run, or None for all of them."""
    if path is None:
        return None
    try:
        return {tuple(k) for k in json.loads(Path(path).read_text(encoding="utf-8"))}
    except (OSError, ValueError, TypeError) as exc:
        raise pytest.UsageError(f"--conform-keys {path}: not a JSON list of record keys ({exc})") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conform_target" in metafunc.fixturenames:
        targets = _targets(metafunc.config)
        metafunc.parametrize("conform_target", [pytest.param(t, id=t.id) for t in targets])


def pytest_report_header(config: pytest.Config) -> str:
    """What each record runs, as given: the profile, the drawn examples, and the coverage cases on top of them."""
    from harness.check import EXAMPLE_SHARE, MIN_DRAWN

    profile = _profile(config)
    drawn = config.getoption("conform_max_examples") or settings.get_profile(profile).max_examples
    shares = ", ".join(f"{k} {v:.0%}" for k, v in EXAMPLE_SHARE.items())
    return (f"conform: profile {profile}: {drawn} drawn examples per record ({shares} of them, at least "
            f"{min(MIN_DRAWN, drawn)}), derandomised: "
            f"{settings.get_profile(profile).derandomize}; on top, every record runs its coverage cases (the minimal "
            "case in each value regime, the wide case, the empty case where a dim can be 0); graph mode and "
            "serialization at most 3 layer configurations")


def _fail_text(record: Record) -> str:
    lines = [f"{record.pair} [{record.check}, {record.dtype}, {record.device}, {record.mode}]: {record.verdict}",
             record.message]
    if record.error and record.error.get("traceback"):
        lines.append(record.error["traceback"])
    if record.repro:
        lines.append(f"reproduce: {record.repro}")
    return "\n".join(lines)


@pytest.fixture
def conform_run(request: pytest.FixtureRequest) -> Callable[[Target], Record]:
    """Run a target, record it, and turn its verdict into the pytest outcome."""
    config = request.config

    def run(target: Target) -> Record:
        __tracebackhide__ = True
        case_json = config.getoption("conform_case")
        options = dict(max_examples=config.getoption("conform_max_examples"),
                       run_id=Path(config.getoption("conform_out") or "").name,
                       timeout=config.getoption("conform_timeout"), profile=config.getoption("conform_profile"))
        if config.getoption("conform_in_process"):
            record = run_check(target, case=Case.from_json(case_json) if case_json else None, **options)
        else:
            job = recycle.Job(target.pair.name, target.check, target.dtype, target.device, target.mode,
                              tuple(config.getoption("conform_pairs_from")), case=case_json,
                              **{**options, "profile": _profile(config)})
            record = Record.from_json(_worker(config).run(job), f"the record of {target.id}")
        if hasattr(config, "workerinput"):  # an xdist worker: the controller writes it (_WorkerRecords)
            request.node.user_properties.append((_RECORD_PROPERTY, portable(record)))
        else:
            config.stash[_RECORDS].append(record)
            writer = config.stash[_WRITER]
            if writer is not None:
                writer.write(record)
        if record.verdict in fail_on(config.getoption("conform_fail_on")):
            pytest.fail(_fail_text(record), pytrace=False)
        if record.verdict == "known-divergence":
            pytest.xfail(f"known divergence reproduced: {record.known_divergence}")
        if record.verdict == "skip":
            pytest.skip(record.message)
        return record

    return run


def _worker(config: pytest.Config) -> recycle.Worker:
    """This process's record maker (:mod:`harness.recycle`), started on first use."""
    if _MAKER not in config.stash:
        config.stash[_MAKER] = recycle.Worker(settings=_settings(config))
    return config.stash[_MAKER]


def _xdist_workers(config: pytest.Config) -> int:
    """How many xdist workers this process controls (0: it makes its own records)."""
    n = getattr(config.option, "numprocesses", None)  # xdist has resolved "auto" to a count by now
    if not isinstance(n, int) or hasattr(config, "workerinput"):
        return 0
    return min(n, getattr(config.option, "maxprocesses", None) or n)


def _settings(config: pytest.Config) -> recycle.Settings:
    """The numerics settings of this run's record processes; the xdist controller's are its workers' children's."""
    workers = _xdist_workers(config)
    return recycle.Settings(device=config.getoption("conform_device"), tf32=config.getoption("conform_tf32"),
                            threads=frameworks.thread_count(workers) if workers else None)


def _environment(config: pytest.Config, extra: dict[str, Any]) -> dict[str, Any]:
    """environment.json, taken where the records are made: by the record process, with the run's settings applied."""
    if config.getoption("conform_in_process"):
        from harness import environment

        return environment.collect(extra)
    if not _xdist_workers(config):
        return _worker(config).environment(extra)  # the child stays, warm, for this process's records
    maker = recycle.Worker(settings=_settings(config))  # the records are made under the workers
    try:
        return maker.environment(extra)
    finally:
        maker.stop()


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _options(config: pytest.Config) -> selection.Options:
    wanted = config.getoption("conform_checks")
    return selection.Options(
        pairs=[n for item in config.getoption("conform_pairs") for n in _csv(item)],
        pairs_from=config.getoption("conform_pairs_from"), checks=_csv(wanted) if wanted else None,
        dtypes=_csv(config.getoption("conform_dtype")), modes=_csv(config.getoption("conform_modes")),
        device=config.getoption("conform_device"))


def _selection(config: pytest.Config) -> dict[str, Any]:
    """What this run was asked for, as run.json records it (``conform run --resume`` requires the same)."""
    get = config.getoption
    return selection.record(_options(config), shard=get("conform_shard"), case=get("conform_case"),
                            max_examples=get("conform_max_examples"),
                            profile=_profile(config))


def _profile(config: pytest.Config) -> str:
    """The hypothesis profile the records search with: ``--conform-profile``, else the loaded one."""
    return config.getoption("conform_profile") or settings._current_profile  # noqa: SLF001 - no public getter


def _write_run(config: pytest.Config, **changes: Any) -> None:
    writer = config.stash.get(_WRITER, None)
    if writer is None:
        return
    run = config.stash.setdefault(_RUN, {})
    run.update(changes)
    writer.write_run(run)


def _selected(config: pytest.Config, count: int) -> None:
    if "selected" not in config.stash.get(_RUN, {}):  # the first worker's count; every worker collects the same
        _write_run(config, selected=count + len(config.stash.get(_DONE, set())))


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    writer = config.stash.get(_WRITER, None)
    if writer is None:
        return
    previous = {}
    if config.getoption("conform_resume"):
        try:
            previous = read_directory(writer.directory).run or {}
        except ResultsError:
            previous = {}
    else:
        writer.write_environment(_environment(config, {
            "command": sys.argv,
            "run_id": writer.directory.name,
            "hypothesis_profile": _profile(config),
            "max_examples": config.getoption("conform_max_examples") or settings.get_profile(
                _profile(config)).max_examples,
            "derandomize": settings.get_profile(_profile(config)).derandomize,
            "pair_packages": registry.packages(config.getoption("conform_pairs_from") or ()),
        }))
    _write_run(config, schema_version=1, started=previous.get("started", _now()), ended=None, status="running",
               exit_status=None, selection=_selection(config), resumed=bool(previous), command=sys.argv)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """run.json says how the run ended: finished, or interrupted (and after how many checks)."""
    config = session.config
    if config.stash.get(_WRITER, None) is None:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    completed = len(config.stash.get(_RECORDS, [])) + len(config.stash.get(_DONE, set()))
    _write_run(config, ended=_now(), status="interrupted" if interrupted else "finished",
               exit_status=int(exitstatus), completed=completed)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    records = config.stash.get(_RECORDS, [])
    writer = config.stash.get(_WRITER, None)
    if not records:
        return
    counts = Counter(r.verdict for r in records)
    examples = sum(r.examples for r in records)
    seconds = sum(r.duration_s for r in records)
    tr = terminalreporter
    tr.section("conformance")
    tr.write_line(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) +
                  f" | {examples} examples in {seconds:.1f}s ({examples / max(seconds, 1e-9):.1f}/s)")
    for r in records:
        if r.verdict in ("fail", "error", "known-divergence", "precision", "inconclusive"):
            kind = f" [{r.divergence_kind}]" if r.divergence_kind and r.verdict != "precision" else ""
            tr.write_line(f"{r.verdict:>16} {r.pair} {r.check} {r.dtype} {r.mode}{kind}{_why(r)}")
            if r.verdict == "precision" and r.oracle:
                tr.write_line(f"{'':>17}{r.oracle.get('summary', '')}")
    if writer is not None:
        tr.write_line(f"results: {writer.path}")


def _why(record: Record) -> str:
    """The one thing to know about a precision or inconclusive record, on its summary line."""
    if record.verdict == "precision" and record.oracle:
        return f": {record.oracle.get('less_accurate')} less accurate"
    if record.verdict == "inconclusive" and record.coverage:
        return f": all {record.coverage['examples']} examples degenerate"
    return ""


def pytest_unconfigure(config: pytest.Config) -> None:
    maker = config.stash.get(_MAKER, None)
    if maker is not None:
        maker.stop()
    writer = config.stash.get(_WRITER, None)
    if writer is not None:
        writer.close()
