"""The ``conform`` command: list pairs, run the conformance suite, render reports.

``conform run`` is a thin front over ``pytest conformance`` with the plugin's options: it
validates what pytest cannot validate helpfully (unknown pair names get close matches and
exit 2), picks the result directory, and keeps ``reports/latest`` pointing at it.

Exit codes (one table in the README, each tested in ``tests/test_exit_codes.py``): 0 no record
has a verdict of ``--fail-on`` (default: fail, error, a timeout is an error); 1 one does; 2 the
user must change something: usage or input (unknown pair or device, nothing selected, a pair
file that does not load, an unusable ``--out``, an unreadable results file); 3 a fault of the
harness itself; 130 interrupted (SIGINT), with every finished record kept.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import registry
from harness.cases import Case
from harness.profiles import PROFILES
from harness.spec import CHECKS, DTYPES, MODES, SpecError

__all__ = ["main"]

USAGE_ERROR = 2
ROBUST_CHECKS = ("forward", "gradient", "state", "train_step")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _processes(value: str) -> int:
    """``-n``: a count, or ``auto`` for one process per core."""
    if value == "auto":
        from harness.frameworks import cores

        return cores()
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or 'auto'. Received: {value!r}") from None


def _selection_arguments(parser: argparse.ArgumentParser, checks: tuple[str, ...]) -> None:
    """What `conform run` and `conform robust` select and how they search: the same options, the same meaning."""
    parser.add_argument("--pairs", nargs="+", default=[], metavar="NAME", help="pairs to run (default: all)")
    parser.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                        help="load pairs from this Python file; without --pairs only its pairs run; repeatable")
    parser.add_argument("--checks", default=",".join(checks), help=f"comma-separated (default: {','.join(checks)})")
    parser.add_argument("--dtype", default=",".join(DTYPES), help=f"comma-separated (default: {','.join(DTYPES)})")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated modes (default: {','.join(MODES)}; each pair runs the ones it declares)")
    parser.add_argument("--max-examples", type=int, default=None,
                        help="drawn examples per check, on top of the coverage cases (default: the profile's)")
    parser.add_argument("--profile", choices=PROFILES, default="ci",
                        help="hypothesis profile: ci is derandomised (20 examples), smoke the coverage cases and 2 "
                             "drawn (make test's), dev random, thorough 300 examples (default: ci)")
    parser.add_argument("--case", default=None, help="replay exactly this case (JSON, as printed by a failure)")
    parser.add_argument("-n", "--processes", type=_processes, default=None, metavar="N",
                        help="spread the run over N processes (pytest-xdist), or 'auto': one per core; each gets "
                             "cores/N threads; results land in one results.jsonl")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conform", description="Cross-framework conformance of twin layers.")
    sub = parser.add_subparsers(dest="command", required=True)

    listing = sub.add_parser("list", help="list the registered pairs")
    listing.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    listing.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                         help="list this Python file's pairs (only, as conform run runs only them); repeatable")

    run = sub.add_parser("run", help="run the conformance suite (through pytest)")
    _selection_arguments(run, CHECKS)
    run.add_argument("--device", default="cpu", help="device: cpu, cuda, cuda:N (default: cpu)")
    run.add_argument("--tf32", action="store_true",
                     help="on a GPU, leave TF32 on in both frameworks (default: off, for a like-for-like float32)")
    _fail_on_argument(run, "exit 1")
    run.add_argument("--shard", default=None, metavar="I/N",
                     help="run slice I of N (deterministic; N jobs of a CI matrix together run the whole suite)")
    run.add_argument("--out", default=None, help="result directory (default: reports/<run-id>, and reports/latest)")
    run.add_argument("--resume", action="store_true",
                     help="finish the run in --out: same selection, only the checks it has no record of, appended")
    run.add_argument("--overwrite", action="store_true", help="replace the run in --out (default: refuse to mix)")
    run.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                     help="seconds one example may take before it is an error record (default: 300; a pair's "
                          "own `timeout` wins)")
    run.add_argument("--allow-missing-device", action="store_true",
                     help="on a machine without the --device, record skips that say why (default: exit 2)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: extra pytest arguments")

    bench = sub.add_parser("bench", help="time every pair in both frameworks (pytest-benchmark), write JSON and report")
    bench.add_argument("--device", choices=("cpu", "cuda", "all"), default="cpu", help="where to time (default: cpu)")
    bench.add_argument("--pairs", nargs="+", default=[], metavar="NAME", help="pairs to time (default: all)")
    bench.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                       help="load pairs from this Python file; without --pairs only its pairs run; repeatable")
    bench.add_argument("--quick", action="store_true",
                       help="the small size, short rounds: the whole catalogue in about three minutes on a CPU")
    bench.add_argument("--sizes", default=None, metavar="SIZES",
                       help="comma-separated: small, large, gpu (the large size grown until launching is under a "
                            "tenth of a call; GPU only) (default: all; small with --quick)")
    bench.add_argument("--tf32", action="store_true", help="allow TF32 on GPU in both frameworks (default: off)")
    bench.add_argument("--compare", default=None, metavar="BASELINE_DIR",
                       help="fail (exit 1) when a benchmark's median is slower than in this earlier bench directory")
    bench.add_argument("--max-slowdown", type=float, default=10.0, metavar="PERCENT",
                       help="with --compare: the median slowdown that fails (default: 10)")
    bench.add_argument("--out", default=None, help="result directory (default: reports/<run-id>, and reports/latest)")
    bench.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: extra pytest arguments")

    snap = sub.add_parser("snapshot", help="write golden .npz snapshots: seeded cases, weights, both sides' results")
    snap.add_argument("--pairs", nargs="+", default=[], metavar="NAME", help="pairs to snapshot (default: all)")
    snap.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                      help="load pairs from this Python file; without --pairs only its pairs; repeatable")
    snap.add_argument("--out", default=None,
                      help="result directory, e.g. a run's, to write snapshot/ into (default: reports/<run-id>)")

    gate = sub.add_parser("gate", help="baseline vs candidate: regressions, error growth, drift, slowdowns; exit 0/1/2")
    gate.add_argument("baseline", nargs="?", default=None,
                      help="result directories of the baseline, comma-separated (default: [tool.conform.gate])")
    gate.add_argument("candidate", nargs="?", default=None,
                      help="result directories of the candidate, comma-separated (default: [tool.conform.gate])")
    gate.add_argument("--max-error-growth", type=float, default=None, metavar="F",
                      help="fail when a check's worst error/allowed grows more than F times (default: 4)")
    gate.add_argument("--max-slowdown", type=float, default=None, metavar="P",
                      help="fail when a benchmark's median is more than P percent slower (default: 10)")
    gate.add_argument("--max-drift", type=float, default=None, metavar="H",
                      help="fail when a framework's replayed result moves more than H tolerances (default: 1)")
    gate.add_argument("--no-replay", action="store_true",
                      help="skip the golden-drift replay of the baseline's snapshot (it imports both frameworks)")
    gate.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                      help="register pairs from this Python file for the replay; repeatable")
    gate.add_argument("--out", default=None, help="the HTML diff page (default: CANDIDATE/gate.html)")

    mapping = sub.add_parser("map", help="match a pair's torch and Keras sublayers through the atlas: print its "
                                         "weights= and stages=, what it could not match, and the settings that differ; "
                                         "of a converter pair, the map read off its converter by probing")
    mapping.add_argument("pairs", nargs="+", metavar="NAME", help="the pairs to map")
    mapping.add_argument("--pairs-from", action="append", default=[], metavar="FILE",
                         help="load pairs from this Python file; repeatable")
    mapping.add_argument("--dims", default="", metavar="K=V,...",
                         help="dims to build at (integers); the others at their smallest draw")
    mapping.add_argument("--compare", action="store_true",
                         help="also check a pair's hand-written map against the atlas's, tensor by tensor")
    mapping.add_argument("--strict", action="store_true",
                         help="exit 1 when a tensor is left unmatched or a setting differs (a lint for CI)")

    robust = sub.add_parser("robust", help="run the sensitive records again under every CPU kernel set, thread "
                                           "count and MKL path this machine offers; exit 1 if a verdict changes")
    _selection_arguments(robust, ROBUST_CHECKS)
    robust.add_argument("--configs", default=None, metavar="NAMES",
                        help="comma-separated configurations besides the base (default: every one this CPU offers; "
                             "`conform robust --list-configs` names them)")
    robust.add_argument("--list-configs", action="store_true", help="print the configurations and exit")
    robust.add_argument("--all", action="store_true",
                        help="run every record again, not only the sensitive ones (default: the sensitive ones)")
    robust.add_argument("--out", default=None, help="where each configuration's run goes (default: reports/robust)")
    _fail_on_argument(robust, "fail a run, so that a change to or from one exits 1 (pass <-> precision exits 1 "
                              "only with precision here)")

    findings = sub.add_parser("findings", help="the ledger of framework defects the harness has found: list them, "
                                               "re-check each against the installed versions, or write a bug report")
    findings.add_argument("ids", nargs="*", metavar="ID", help="the entries to list or check (default: every one)")
    findings.add_argument("--check", action="store_true",
                          help="run every reproducer here: present, fixed or not runnable; exit 1 if a defect marked "
                               "fixed is back")
    findings.add_argument("--out", default=None, metavar="DIR",
                          help="with --check: write DIR/findings.json, which `conform gate` compares (default: none)")
    findings.add_argument("--report", default=None, metavar="ID", help="print an upstream bug report for one entry")
    findings.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")

    report = sub.add_parser("report", help="render result directories as one self-contained HTML page")
    report.add_argument("directories", nargs="+", metavar="DIR",
                        help="result directories (shards, or CPU and CUDA runs, merge into one view)")
    report.add_argument("--out", default=None, help="the HTML file (default: DIR/index.html of the first DIR)")
    return parser


def _fail_on_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--fail-on", default="fail,error", metavar="VERDICTS",
                        help=f"comma-separated verdicts that {what}: fail, error, precision, inconclusive, "
                             "known-divergence, skip (default: fail,error; fail,error,precision is the strict reading)")


def _robust(args: argparse.Namespace) -> int:
    from harness import robust
    from harness.environment import cpu_vector_extensions

    flags = cpu_vector_extensions()["flags"]
    configs = robust.configurations(flags)
    if args.list_configs:
        for c in configs:
            print(f"{c.name:<16} {c.describe()}")
        return 0
    if args.configs is not None:
        names = _csv(args.configs)
        unknown = [n for n in names if n not in {c.name for c in configs}]
        if unknown:
            return _usage(f"--configs: unknown {unknown}; this CPU offers {[c.name for c in configs[1:]]}")
        configs = [configs[0], *(c for c in configs if c.name in names)]
    run_args = ["--checks", args.checks, "--dtype", args.dtype, "--modes", args.modes, "--profile", args.profile]
    run_args += ["--pairs", *args.pairs] if args.pairs else []
    run_args += [a for f in args.pairs_from for a in ("--pairs-from", f)]
    run_args += ["--max-examples", str(args.max_examples)] if args.max_examples else []
    run_args += ["--case", args.case] if args.case else []
    run_args += ["-n", str(args.processes)] if args.processes else []
    from harness.pytest_plugin import fail_on

    try:
        failing = fail_on(args.fail_on)
    except ValueError as exc:
        return _usage(f"--fail-on: {exc}")
    summary = robust.robust(run_args, Path(args.out or "reports/robust"), configs, everything=args.all,
                            fail_on=failing)
    if "error" in summary:
        return _usage(f"robust: {summary['error']}")
    print(robust.text(summary))
    return 1 if any(d["outcome"] for d in summary["differences"]) else 0


def _findings(args: argparse.Namespace) -> int:
    from harness import ledger

    if args.report:
        from harness.environment import collect

        try:
            ledger.entry(args.report)
        except ValueError as exc:
            return _usage(str(exc))
        env = collect({})
        print(ledger.report(args.report, {"python": env["python"], "platform": env["platform"], "cpu": env["cpu"],
                                          **env["packages"]}))
        return 0
    try:
        chosen = [ledger.entry(i) for i in args.ids] or list(ledger.DEFECTS)
    except ValueError as exc:
        return _usage(str(exc))
    if not args.check:
        if args.format == "json":
            print(json.dumps([{**d.to_json(), "seen": list(d.seen), "fixed_in": d.fixed_in, "found_by": d.found_by,
                               "upstream": d.upstream} for d in chosen], indent=2))
            return 0
        for d in chosen:
            print(f"{d.id}  [{d.framework}; seen in {', '.join(d.seen)}]\n    {d.summary}\n    reproduce: {d.command}")
        print(f"{len(chosen)} defects")
        return 0
    results = ledger.check(chosen)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / ledger.FINDINGS_FILE).write_text(json.dumps(results, indent=2))
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        width = max(len(r["id"]) for r in results)
        for r in results:
            print(f"{r['id']:<{width}}  {r['status']:<18} {r['framework']} {r['version'] or '(not installed)'}: "
                  f"{r['detail']}")
    back = [r["id"] for r in results if r["back"]]
    if back:
        print(f"conform: defects marked fixed are back: {', '.join(back)}", file=sys.stderr)
    return 1 if back else 0


def _report(args: argparse.Namespace) -> int:
    from harness.report import render
    from harness.results import ResultsError

    try:
        path = render([Path(d) for d in args.directories], Path(args.out) if args.out else None)
    except ResultsError as exc:
        return _usage(str(exc))
    print(f"conform: report written to {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    catalogue = registry.load(args.pairs_from)
    # with --pairs-from, the files' pairs only: what `conform run --pairs-from` runs
    pairs = {n: p for n, p in catalogue.pairs.items() if not args.pairs_from or n in catalogue.sources}
    if args.format == "json":
        print(json.dumps([p.describe() for p in pairs.values()], indent=2))
        return 0
    width = max((len(n) for n in pairs), default=0)
    for name, pair in pairs.items():
        origin = f"{pair.origin.seed} {pair.origin.tutorial_name}"
        flags = " [known divergence]" if pair.known_divergences else ""
        print(f"{name:<{width}}  {','.join(pair.checks):<16} {origin}{flags}")
    left = len(catalogue.pairs) - len(pairs)
    print(f"{len(pairs)} pairs" + (f" from {', '.join(args.pairs_from)} (the catalogue's {left} left out, as "
                                   "`conform run --pairs-from` leaves them)" if args.pairs_from else ""))
    return 0


def _dims(text: str) -> dict[str, int]:
    dims = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, value = item.partition("=")
        try:
            dims[name.strip()] = int(value)
        except ValueError:
            raise SpecError(f"--dims {item!r}: expected NAME=INTEGER") from None
    return dims


def _dims_hint(pair: Any) -> str:
    """A --dims value to suggest: each integer dim of the pair at 2 (a batch of one is what batch norm refuses)."""
    return ",".join(f"{d}=2" for d in list(pair.dims)[:3])


def _map(args: argparse.Namespace) -> int:
    from harness.atlas.match import render
    from harness.atlas.tool import compare, map_pair, params_for, probed
    from harness.sides import SideError

    catalogue = registry.load(args.pairs_from)
    pairs = catalogue.select(args.pairs)
    fixed = _dims(args.dims)
    findings = 0
    for pair in pairs:
        if pair.converted:  # no atlas to match: the map is read off the converter
            text, found = probed(pair, {k: v for k, v in fixed.items() if k in pair.dims})
            print(f"# {pair.name}: converted by {pair.tf.name}\n{text}\n")
            findings += found
            continue
        given = {k: v for k, v in fixed.items() if k in pair.dims}
        try:
            mapping, params, th, tf = map_pair(pair, given)
        except SideError as exc:
            at = "the dims given" if given else "the smallest dims its strategies draw"
            return _usage(f"map {pair.name}: the {exc.framework} side raised during {exc.stage} at {at} "
                          f"({json.dumps(params_for(pair, given), default=repr)}): {exc.original}. Build at other "
                          f"sizes with --dims, e.g. --dims {_dims_hint(pair)}")
        except ValueError as exc:
            return _usage(str(exc))
        print(f"# {pair.name} at {json.dumps(params, default=repr)}")
        print(render(mapping))
        if args.compare and not pair.auto_weights and pair.weights:
            print(compare(pair, mapping, th, tf, params).summary(pair.name))
        findings += len(mapping.unmatched) + len(mapping.differences)
        print()
    return 1 if args.strict and findings else 0


def _usage(message: str) -> int:
    print(f"conform: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _result_dir(out: str | None) -> tuple[Path, bool]:
    if out:
        return Path(out), False
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"{stamp}-{secrets.token_hex(2)}", True


def _point_latest(directory: Path) -> None:
    latest = directory.parent / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(directory.name, target_is_directory=True)


def _run_problem(args: argparse.Namespace, catalogue: registry.Catalogue) -> str | None:
    """Why ``conform run`` cannot start with these arguments (exit 2), or None. Nothing runs before this."""
    from harness import selection
    from harness.pytest_plugin import fail_on

    options = _options(args)
    try:
        targets = selection.targets(catalogue, options)
        fail_on(args.fail_on)
        if args.shard is not None:
            selection.shard(args.shard)
    except (registry.UnknownPairError, selection.SelectionError) as exc:
        return str(exc)
    except ValueError as exc:
        return f"--fail-on: {exc}" if "verdicts" in str(exc) else f"--shard: {exc}"
    for name, value in (("--max-examples", args.max_examples), ("-n", args.processes), ("--timeout", args.timeout)):
        if value is not None and value <= 0:
            return f"{name} must be > 0. Received: {value}"
    if not targets:
        return selection.nothing_selected(catalogue, options)
    device = selection.device_problem(args.device)
    if device and (device.startswith("unknown device") or not args.allow_missing_device):
        return device if device.startswith("unknown device") else (
            f"--device {args.device}: {device}. Run where the device is, or pass --allow-missing-device to record "
            "every check as a skip that says why")
    if args.case is not None:
        pairs = {t.pair.name: t.pair for t in targets}
        if len(pairs) != 1:
            return "--case replays one case of one pair: give exactly one --pairs NAME"
        try:
            return selection.case_problem(next(iter(pairs.values())), Case.from_json(args.case))
        except ValueError as exc:
            return str(exc)
    return None


def _options(args: argparse.Namespace) -> Any:
    from harness import selection

    return selection.Options(pairs=args.pairs, pairs_from=args.pairs_from, checks=_csv(args.checks) or None,
                             dtypes=_csv(args.dtype), modes=_csv(args.modes), device=args.device)


def _prepare_out(args: argparse.Namespace) -> tuple[Path, bool] | str:
    """The result directory, checked writable and never mixed with another run: (directory, is default) or why not.

    An existing directory with results is refused unless ``--resume`` (same selection, appended)
    or ``--overwrite`` (the previous run's files removed first).
    """
    from harness import selection
    from harness.results import ENVIRONMENT_FILE, RESULTS_FILE, RUN_FILE, ResultsError, read_run

    directory, is_default = _result_dir(args.out)
    if directory.exists() and not directory.is_dir():
        return f"--out {directory}: a file is there, not a directory"
    held = [f for f in (RESULTS_FILE, RUN_FILE) if (directory / f).is_file()]
    if args.resume:
        try:
            before = read_run(directory)
        except ResultsError as exc:
            return f"--resume: {exc}"
        if before is None:
            return f"--resume: {directory} holds no run.json of a run to resume"
        now = selection.record(_options(args), shard=args.shard, case=args.case, max_examples=args.max_examples,
                               profile=args.profile)
        differ = sorted(k for k in now.keys() | (before.get("selection") or {}).keys()
                        if now.get(k) != (before.get("selection") or {}).get(k))
        if differ:
            was = before.get("selection") or {}
            return ("--resume appends only a run of the same selection; these differ: " +
                    "; ".join(f"{k}: {was.get(k)!r} then, {now.get(k)!r} now" for k in differ))
    elif held and not args.overwrite:
        return (f"--out {directory} already holds a run ({', '.join(held)}): results are never mixed. "
                "Pass --resume to finish that run, --overwrite to replace it, or another --out")
    elif args.overwrite:
        for name in (RESULTS_FILE, RUN_FILE, ENVIRONMENT_FILE, "index.html"):
            (directory / name).unlink(missing_ok=True)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".conform-write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return f"--out {directory}: cannot write there ({exc.strerror or exc})"
    return directory, is_default


# pytest's exit codes -> ours: 1 only for a verdict of --fail-on, 2 for what the user must change,
# 130 for an interruption (the shell's code for SIGINT), 3 for a fault of the harness itself.
INTERRUPTED = 130
INTERNAL_ERROR = 3


def _exit_code(code: int) -> int:
    import pytest

    return {pytest.ExitCode.OK: 0, pytest.ExitCode.TESTS_FAILED: 1, pytest.ExitCode.INTERRUPTED: INTERRUPTED,
            pytest.ExitCode.USAGE_ERROR: USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED: USAGE_ERROR}.get(
        code, INTERNAL_ERROR)


def _run(args: argparse.Namespace) -> int:
    import pytest

    import conformance

    if args.resume and args.overwrite:
        return _usage("--resume and --overwrite exclude each other")
    catalogue = registry.load(args.pairs_from)
    problem = _run_problem(args, catalogue)
    if problem:
        return _usage(problem)
    prepared = _prepare_out(args)
    if isinstance(prepared, str):
        return _usage(prepared)
    directory, is_default = prepared
    if is_default:
        _point_latest(directory)
    suite = Path(conformance.__file__).resolve().parent
    # hypothesis's own pytest plugin would print its loaded profile as the run's: the conform header says what runs
    pytest_args = [str(suite), "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-v",
                   f"--conform-profile={args.profile}",
                   f"--conform-out={directory}", f"--conform-dtype={args.dtype}", f"--conform-checks={args.checks}",
                   f"--conform-device={args.device}", f"--conform-modes={args.modes}",
                   f"--conform-fail-on={args.fail_on}", "-rfE"]
    pytest_args += ["--conform-tf32"] if args.tf32 else []
    pytest_args += ["--conform-resume"] if args.resume else []
    pytest_args += [f"--conform-timeout={args.timeout}"] if args.timeout else []
    pytest_args += [f"--conform-shard={args.shard}"] if args.shard else []
    pytest_args += ["-n", str(args.processes)] if args.processes else []
    pytest_args += [f"--conform-pairs={','.join(args.pairs)}"] if args.pairs else []
    pytest_args += [f"--conform-pairs-from={f}" for f in args.pairs_from]
    pytest_args += [f"--conform-max-examples={args.max_examples}"] if args.max_examples else []
    pytest_args += [f"--conform-case={args.case}"] if args.case else []
    pytest_args += [a for a in args.pytest_args if a != "--"]
    print(f"conform: writing results to {directory}", flush=True)
    code = _exit_code(int(pytest.main(pytest_args)))
    if (directory / "results.jsonl").is_file():
        from harness.report import render
        from harness.results import ResultsError

        try:
            print(f"conform: report written to {render([directory])}", flush=True)
        except ResultsError as exc:
            print(f"conform: no report: {exc}", file=sys.stderr)
    if code == INTERRUPTED:
        print(f"conform: interrupted; {directory} keeps every finished record and run.json says so. "
              "`conform run ... --resume --out` with the same selection finishes it", file=sys.stderr)
    return code


def _bench(args: argparse.Namespace) -> int:
    import pytest

    import benchmarks
    from harness.results import BENCHMARKS_FILE, ResultsWriter

    catalogue = registry.load(args.pairs_from)
    try:
        names = [p.name for p in catalogue.select(args.pairs)] if args.pairs or not args.pairs_from \
            else list(catalogue.sources)  # only the file's pairs, as `conform run` does
    except registry.UnknownPairError as exc:
        return _usage(str(exc))
    baseline = None
    if args.compare is not None:
        baseline = Path(args.compare) / BENCHMARKS_FILE
        if not baseline.is_file():
            return _usage(f"--compare: no {BENCHMARKS_FILE} in {args.compare} (a directory written by `conform bench`)")
    if args.max_slowdown <= 0:
        return _usage(f"--max-slowdown must be a positive percentage. Received: {args.max_slowdown}")

    directory, is_default = _result_dir(args.out)
    directory.mkdir(parents=True, exist_ok=True)
    if is_default:
        _point_latest(directory)
    suite = Path(benchmarks.__file__).resolve().parent
    pytest_args = [str(suite), "-p", "no:cacheprovider", f"--bench-device={args.device}",
                   f"--bench-pairs={','.join(names)}", f"--benchmark-json={directory / BENCHMARKS_FILE}",
                   "--benchmark-group-by=group", "--benchmark-sort=name", "--benchmark-columns=min,median,max,rounds",
                   "-rfE"]
    pytest_args += [f"--bench-pairs-from={f}" for f in args.pairs_from]
    pytest_args += ["--bench-tf32"] if args.tf32 else []
    pytest_args += [f"--bench-sizes={args.sizes}"] if args.sizes else []
    # quick: few, short rounds (the medians are still of >= 5 timed calls after the warm-up)
    pytest_args += ["--bench-quick", "--benchmark-max-time=0.05", "--benchmark-min-rounds=5"] if args.quick else []
    if baseline is not None:  # pytest-benchmark's own comparison: its table and its failure
        pytest_args += [f"--benchmark-compare={baseline}", f"--benchmark-compare-fail=median:{args.max_slowdown:g}%"]
    pytest_args += [a for a in args.pytest_args if a != "--"]
    print(f"conform: writing benchmarks to {directory}", flush=True)
    from harness import environment

    writer = ResultsWriter(directory)  # no records: a result directory like any other, for report and gate
    try:
        writer.write_environment(environment.collect({"command": sys.argv, "run_id": directory.name,
                                                      "bench_quick": args.quick}))
    finally:
        writer.close()
    # A bench is a pytest session of its own even when started from an xdist worker (``make test``
    # runs the tests that way): pytest-benchmark reads this variable and would disable every timing.
    os.environ.pop("PYTEST_XDIST_WORKER", None)
    code = int(pytest.main(pytest_args))
    if (directory / BENCHMARKS_FILE).is_file():
        from harness.report import render

        print(f"conform: report written to {render([directory])}", flush=True)
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
        return USAGE_ERROR
    return 1 if code else 0


def _snapshot(args: argparse.Namespace) -> int:
    from harness import environment, snapshot
    from harness.results import ENVIRONMENT_FILE, ResultsWriter

    catalogue = registry.load(args.pairs_from)
    try:
        pairs = catalogue.select(args.pairs) if args.pairs or not args.pairs_from else \
            [catalogue.pairs[n] for n in catalogue.sources]
    except registry.UnknownPairError as exc:
        return _usage(str(exc))
    directory, is_default = _result_dir(args.out)
    writer = ResultsWriter(directory)  # keeps a run's results; creates an empty file for a snapshot-only directory
    try:
        if not (directory / ENVIRONMENT_FILE).is_file():
            writer.write_environment(environment.collect({"command": sys.argv, "run_id": directory.name}))
    finally:
        writer.close()
    if is_default:
        _point_latest(directory)
    index = snapshot.write(pairs, directory)
    failed = {name: e["error"] for name, e in index["pairs"].items() if "error" in e}
    for name, why in failed.items():
        print(f"conform: snapshot of {name} failed: {why}", file=sys.stderr)
    written = len(index["pairs"]) - len(failed)
    print(f"conform: snapshot of {written} pairs written to {directory / snapshot.SNAPSHOT_DIR}")
    return 1 if failed else 0


def _dirs(value: str | None) -> list[Path]:
    return [Path(v) for v in (value or "").split(",") if v.strip()]


def _gate(args: argparse.Namespace) -> int:
    import time

    from harness import gate
    from harness.report.gate_page import write_page

    started = time.perf_counter()
    try:
        thresholds, table = gate.thresholds_from(Path("pyproject.toml"), max_error_growth=args.max_error_growth,
                                                 max_slowdown=args.max_slowdown, max_drift=args.max_drift)
        base_arg = args.baseline or ",".join(_as_list(table.get("baseline")))
        cand_arg = args.candidate or ",".join(_as_list(table.get("candidate")))
        if not base_arg or not cand_arg:
            return _usage("give BASELINE and CANDIDATE directories, or set them in [tool.conform.gate] of "
                          "pyproject.toml")
        base, cand = gate.load_side(_dirs(base_arg)), gate.load_side(_dirs(cand_arg))
        pairs = None if args.no_replay else registry.load(args.pairs_from).pairs
        verdict = gate.gate(base, cand, thresholds, pairs)
    except gate.GateError as exc:
        return _usage(f"gate: {exc}")
    print(gate.text(verdict))
    page = write_page(verdict, thresholds, Path(args.out) if args.out else cand.directories[0] / "gate.html")
    print(f"conform: gate page written to {page}; the gate took {time.perf_counter() - started:.1f} s")
    print(gate.verdict_line(verdict))
    return verdict.code


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"list": _list, "run": _run, "bench": _bench, "snapshot": _snapshot, "gate": _gate,
                "report": _report, "map": _map, "robust": _robust, "findings": _findings}[args.command](args)
    except (SpecError, FileNotFoundError, registry.UnknownPairError) as exc:
        return _usage(str(exc))
    except KeyboardInterrupt:
        print("conform: interrupted", file=sys.stderr)
        return INTERRUPTED
