"""Result records and the result directory: a versioned schema, written line by line.

Why line by line: a run that dies half way still leaves every finished record on disk, and a
reader can say exactly which line of which file is corrupt. Why versioned: the gate will
compare result sets written months apart; a set this version cannot read is refused with a
message, never misread.
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
    "RESULTS_FILE",
    "SCHEMA_VERSION",
    "MEANINGS",
    "VERDICTS",
    "Record",
    "ResultsError",
    "ResultsWriter",
    "read_records",
]

SCHEMA_VERSION = 3
# Version 2 added the optional ``execution`` and ``trajectory`` fields; version 3 the verdicts
# ``precision`` and ``inconclusive`` and the optional ``coverage`` and ``oracle`` fields. An
# older record is a newer one without them, so it is read as one (its verdicts are a subset).
READABLE_VERSIONS = (1, 2, SCHEMA_VERSION)
RESULTS_FILE = "results.jsonl"
ENVIRONMENT_FILE = "environment.json"
BENCHMARKS_FILE = "benchmarks.json"  # pytest-benchmark's --benchmark-json, written by `conform bench`
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
    (:mod:`harness.oracle`).
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
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ResultsError(f"{where}: not a valid record: {exc}") from None


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
    """Appends records to ``DIR/results.jsonl``, flushing each, so a crash loses nothing."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / RESULTS_FILE
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: Record) -> None:
        self._file.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._file.flush()

    def write_environment(self, environment: dict[str, Any]) -> None:
        (self.directory / ENVIRONMENT_FILE).write_text(json.dumps(environment, indent=2, sort_keys=True) + "\n")

    def close(self) -> None:
        self._file.close()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line


def read_records(directories: Iterable[Path]) -> list[Record]:
    """Every record of one or more result directories (shards merge by concatenation)."""
    records: list[Record] = []
    for directory in directories:
        path = Path(directory) / RESULTS_FILE
        if not path.is_file():
            raise ResultsError(f"{directory}: no {RESULTS_FILE} (is this a result directory of `conform run`?)")
        for number, line in _lines(path):
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ResultsError(f"{where}: corrupt line ({exc.msg}); the file was truncated or edited") from None
            if not isinstance(data, dict):
                raise ResultsError(f"{where}: expected a JSON object, found {type(data).__name__}")
            records.append(Record.from_json(data, where))
    return records
