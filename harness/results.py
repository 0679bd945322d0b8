"""Result records and the result directory: a versioned schema, written line by line.

Why line by line: a run that dies half way still leaves every finished record on disk, and a
reader can say exactly which line of which file is corrupt. Why versioned: the gate will
compare result sets written months apart; a set this version cannot read is refused with a
message, never misread.

What a reader accepts, and why: a results file is input, often from another machine, so every
line is checked before it becomes a record: UTF-8, at most ``MAX_LINE`` bytes, JSON nested no
deeper than Python can parse, every field of the type the schema says, no string longer than
``MAX_STRING`` characters. Anything else is refused with the file and the line. The one
exception is a last line cut short without its newline: that is the trace of a killed run,
so its complete records are read and the cut is reported (``ResultSet.cut``), and a writer
that appends to such a file first removes the partial line.

``run.json`` beside the records says whether the run finished: when it started and ended, its
exit status, what was selected and how many checks that was, so that a reader can say
"interrupted after N of M checks" instead of presenting a partial run as a whole one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BENCHMARKS_FILE",
    "ENVIRONMENT_FILE",
    "MAX_LINE",
    "MAX_STRING",
    "MEANINGS",
    "RESULTS_FILE",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "VERDICTS",
    "Record",
    "ResultSet",
    "ResultsError",
    "ResultsWriter",
    "read_directory",
    "read_records",
    "read_run",
]

SCHEMA_VERSION = 5
# Version 2 added the optional ``execution`` and ``trajectory`` fields; version 3 the verdicts
# ``precision`` and ``inconclusive`` and the optional ``coverage`` and ``oracle`` fields;
# version 4 the optional ``weight_map``; version 5 the optional ``noise_floor`` and ``findings``. An
# older record is a newer one without them, so it is read as one (its verdicts are a subset).
READABLE_VERSIONS = (1, 2, 3, 4, SCHEMA_VERSION)
RESULTS_FILE = "results.jsonl"
ENVIRONMENT_FILE = "environment.json"
BENCHMARKS_FILE = "benchmarks.json"  # pytest-benchmark's --benchmark-json, written by `conform bench`
RUN_FILE = "run.json"
# A record's line is a few kB (every example's case and headroom); 16 MiB is far beyond any real
# one and keeps a reader from parsing a corrupted file into memory first.
MAX_LINE = 16 * 1024 * 1024
# The longest string a record may hold: a message or a traceback is a few kB.
MAX_STRING = 1_000_000
VERDICTS = ("pass", "fail", "precision", "inconclusive", "known-divergence", "error", "skip")
# What each verdict means, for people (the report, the README and ``--fail-on`` help).
MEANINGS = {
    "pass": "at least one non-degenerate case ran, and everything agreed within tolerance",
    "fail": "a real difference: float64 disagrees too, or outputs differ in count, shape or finiteness",
    "precision": "float32 disagrees, the float64 replay of the same case agrees; the record names the framework "
                 "whose float32 result is further from it",
    "inconclusive": "every example the check could draw was degenerate (empty tensors, axes of size 1)",
    "known-divergence": "a declared difference reproduced",
    "error": "a side raised",
    "skip": "not checkable here, with the reason",
}


class ResultsError(ValueError):
    """A result file that cannot be read as this schema; the message says where and why."""


@dataclass
class Record:
    """One pair x check x dtype x device x mode outcome.

    ``metrics`` holds per-tensor metrics of the minimal failing case, or for a pass those
    of the example closest to the tolerance; ``per_example`` keeps every example's headroom.
    ``execution`` says how compiled (``graph``) modes ran: which compiler on each side, and
    how many traces and compilations the record cost. ``trajectory`` is the ``train_step``
    check's weight divergence after each SGD step (step 0: the loaded weights). ``coverage``
    says what the examples covered (:func:`harness.coverage.summary`); ``oracle`` is the
    float64 judgement of a float32 divergence, or the float32 evidence of a float64 one
    (:mod:`harness.oracle`). ``weight_map`` is the map the atlas resolved for a pair declared
    with ``weights="auto"`` (torch name -> the ``Link`` as Python), so the record says what it tested.
    ``noise_floor`` says how many float64 examples were judged against a measured noise floor and
    the worst of them (:mod:`harness.noise`); ``findings`` the framework defects of the ledger the
    record reproduced as declared or matches (:mod:`harness.ledger`).
    """

    pair: str
    check: str
    dtype: str
    device: str
    mode: str
    verdict: str
    origin: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    examples: int = 0
    minimal_case: dict[str, Any] | None = None
    repro: str | None = None
    message: str = ""
    tolerance: dict[str, Any] = field(default_factory=dict)
    known_divergence: str | None = None
    divergence_kind: str | None = None
    localisation: dict[str, Any] | None = None
    execution: dict[str, Any] | None = None
    trajectory: list[dict[str, Any]] | None = None
    coverage: dict[str, Any] | None = None
    oracle: dict[str, Any] | None = None
    per_example: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    weight_map: dict[str, str] | None = None
    noise_floor: dict[str, Any] | None = None
    findings: list[dict[str, Any]] | None = None
    duration_s: float = 0.0
    run_id: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}. Received: {self.verdict!r}")

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.pair, self.check, self.dtype, self.device, self.mode)

    def to_json(self) -> dict[str, Any]:
        return _finite(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Record:
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise ResultsError(
                f"{where}: schema_version {version!r} cannot be read by this version of the harness "
                f"(it reads schema_version {', '.join(map(str, READABLE_VERSIONS))}); re-run the suite with "
                "this version or read it with the version that wrote it"
            )
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ResultsError(f"{where}: unknown fields {sorted(unknown)} for schema_version {version}")
        for name, value in data.items():
            allowed = _FIELD_TYPES[name]
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
                raise ResultsError(f"{where}: field {name!r} must be {names}, found {type(value).__name__}")
        _check_nested(data, where)
        _check_strings(data, where)
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{where}: not a valid record: {exc}") from None


_NONE = type(None)
# The JSON type of every field (a number may be an int or a float; inf/NaN are written as strings).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("pair", "check", "dtype", "device", "mode", "verdict", "message", "run_id"), (str,)),
    **dict.fromkeys(("origin", "metrics", "tolerance"), (dict,)),
    **dict.fromkeys(("minimal_case", "localisation", "execution", "coverage", "oracle", "error", "weight_map",
                     "noise_floor"), (dict, _NONE)),
    **dict.fromkeys(("repro", "known_divergence", "divergence_kind"), (str, _NONE)),
    "trajectory": (list, _NONE),
    "findings": (list, _NONE),
    "per_example": (list,),
    "examples": (int,),
    "schema_version": (int,),
    "duration_s": (int, float),
}


def _numeric(value: Any) -> bool:
    """A number as records hold one: int or float, or the strings that stand for inf and NaN."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in ("inf", "-inf", "nan")


def _check_nested(data: dict[str, Any], where: str) -> None:
    """The nested numbers the report and the gate compute with: headrooms and the coverage counts."""
    for name, metric in data.get("metrics", {}).items():
        if not isinstance(metric, dict) or not _numeric(metric.get("headroom", 0)):
            raise ResultsError(f"{where}: metric {name!r} must be an object with a numeric headroom")
    for i, example in enumerate(data.get("per_example", [])):
        if not isinstance(example, dict) or not _numeric(example.get("headroom", 0)):
            raise ResultsError(f"{where}: per_example[{i}] must be an object with a numeric headroom")
    coverage = data.get("coverage") or {}
    for key in ("examples", "non_degenerate"):
        if key in coverage and not (isinstance(coverage[key], int) and not isinstance(coverage[key], bool)):
            raise ResultsError(f"{where}: coverage.{key} must be an int")


def _check_strings(data: Any, where: str) -> None:
    """Refuse a string longer than ``MAX_STRING`` anywhere in a record (iteratively: no recursion limit)."""
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise ResultsError(f"{where}: a string of {len(value):,} characters (at most {MAX_STRING:,} are read)")
        if isinstance(value, dict):
            todo.extend(value.keys())
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: encode them as strings so the file stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class ResultsWriter:
    """Appends records to ``DIR/results.jsonl``, flushing each, so a crash loses nothing.

    A partial last line (a killed run's) is removed before the first append, so a record is
    never glued onto the remains of another.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / RESULTS_FILE
        _drop_partial_line(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: Record) -> None:
        self._file.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._file.flush()

    def write_environment(self, environment: dict[str, Any]) -> None:
        (self.directory / ENVIRONMENT_FILE).write_text(json.dumps(environment, indent=2, sort_keys=True) + "\n")

    def write_run(self, run: dict[str, Any]) -> None:
        """run.json, replaced whole (written to a temporary file first, so a reader never sees half of it)."""
        temporary = self.directory / f".{RUN_FILE}.tmp"
        temporary.write_text(json.dumps(run, indent=2, sort_keys=True) + "\n")
        temporary.replace(self.directory / RUN_FILE)

    def close(self) -> None:
        self._file.close()


def _drop_partial_line(path: Path) -> None:
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


@dataclass
class ResultSet:
    """One result directory as read: its records, a cut last line if any, and its run.json."""

    directory: Path
    records: list[Record]
    cut: str | None = None
    run: dict[str, Any] | None = None

    @property
    def interrupted(self) -> str | None:
        """Why this run is incomplete ("interrupted after N of M checks"), or None when it finished."""
        run = self.run or {}
        status = run.get("status")
        if status in (None, "finished"):
            return self.cut and f"{self.cut} (no run.json says how the run ended)"
        selected = run.get("selected")
        of = f" of {selected}" if isinstance(selected, int) else ""
        how = "was interrupted" if status == "interrupted" else "did not finish (killed, or still running)"
        return f"the run {how} after {len(self.records)}{of} checks"


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(number, bytes, has its newline) of every non-blank line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line, line.endswith(b"\n")


def _parse(line: bytes, where: str) -> Any:
    if len(line) > MAX_LINE:
        raise ResultsError(f"{where}: a line of {len(line):,} bytes (at most {MAX_LINE:,} are read)")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{where}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{where}: corrupt line ({exc.msg}); the file was truncated or edited") from None
    except RecursionError:
        raise ResultsError(f"{where}: JSON nested too deeply to be a record") from None


def read_run(directory: Path) -> dict[str, Any] | None:
    """A directory's run.json, or None where there is none (a run of an older version)."""
    path = Path(directory) / RUN_FILE
    if not path.is_file():
        return None
    data = _parse(path.read_bytes(), str(path))
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def read_directory(directory: Path) -> ResultSet:
    """Every complete record of one result directory; a cut last line is reported, anything else refused."""
    path = Path(directory) / RESULTS_FILE
    if not path.is_file():
        raise ResultsError(f"{directory}: no {RESULTS_FILE} (is this a result directory of `conform run`?)")
    try:
        lines = list(_lines(path))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None
    records: list[Record] = []
    cut = None
    for index, (number, line, complete) in enumerate(lines):
        where = f"{path}:{number}"
        try:
            data = _parse(line, where)
        except ResultsError:
            if complete or index != len(lines) - 1:
                raise
            cut = f"{where} was cut short (a killed run); its record is left out"
            break
        if not isinstance(data, dict):
            raise ResultsError(f"{where}: expected a JSON object, found {type(data).__name__}")
        records.append(Record.from_json(data, where))
    return ResultSet(Path(directory), records, cut, read_run(directory))


def read_records(directories: Iterable[Path]) -> list[Record]:
    """Every record of one or more result directories (shards merge by concatenation)."""
    return [r for d in directories for r in read_directory(d).records]
