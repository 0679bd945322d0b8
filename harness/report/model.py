"""What the report shows, before any HTML: result directories read, merged by record key.

Why a merge step of its own: shards of one run, or a CPU and a CUDA run, become one view,
and two records about the same key (pair, check, dtype, device, mode) are both kept with
the directory each came from. One never silently overwrites the other.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.dimensions import DIMENSIONS, rank
from harness.report.fmt import VERDICT_ORDER
from harness.results import ENVIRONMENT_FILE, Record, read_directory

__all__ = ["Cell", "Entry", "Report", "Source", "column_sort_key", "load"]

Key = tuple[str, str, str, str, str]
Column = tuple[str, str, str, str]


@dataclass(frozen=True)
class Source:
    """One result directory: its label on the page, its environment (None when unreadable)."""

    directory: Path
    label: str
    environment: dict[str, Any] | None
    environment_note: str
    records: tuple[Record, ...]
    incomplete: str | None = None


@dataclass(frozen=True)
class Entry:
    """One record and the directory it came from."""

    record: Record
    source: Source


@dataclass
class Cell:
    """Every record about one key. More than one is a conflict, shown side by side."""

    key: Key
    entries: list[Entry] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        """Two records for one key disagree, or at least cannot both be the answer."""
        return len(self.entries) > 1

    @property
    def verdict(self) -> str:
        """The cell's verdict in the matrix: the record's own, or ``conflict``."""
        return "conflict" if self.conflict else self.entries[0].record.verdict


@dataclass(frozen=True)
class Report:
    """Everything rendering needs: sources, merged cells per pair, the matrix columns."""

    sources: tuple[Source, ...]
    cells: dict[Key, Cell]
    pairs: tuple[str, ...]
    columns: tuple[Column, ...]

    def pair_cells(self, pair: str) -> list[Cell]:
        """A pair's cells in column order."""
        return [self.cells[(pair, *c)] for c in self.columns if (pair, *c) in self.cells]

    def short_label(self, key: Key) -> str:
        """check · dtype · ... naming only the dimensions that vary in this report (cpu everywhere says nothing)."""
        varying = [i for i in range(4) if len({c[i] for c in self.columns}) > 1] or [0]
        return " · ".join(key[1 + i] for i in varying)

    def records(self) -> list[Record]:
        """Every record of every directory, duplicates included (counts are of records)."""
        return [r for s in self.sources for r in s.records]


def column_sort_key(column: Column) -> tuple[tuple[int, str], ...]:
    """Columns grouped by check, then dtype, device, mode (see dimensions for the orders)."""
    return tuple(rank(d, v) for d, v in zip(DIMENSIONS, column, strict=True))


def _environment(directory: Path) -> tuple[dict[str, Any] | None, str]:
    """environment.json, or None with why: a missing environment is 'unknown', not a crash."""
    path = directory / ENVIRONMENT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no {ENVIRONMENT_FILE}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{ENVIRONMENT_FILE} unreadable: {type(exc).__name__}"
    if not isinstance(data, dict):
        return None, f"{ENVIRONMENT_FILE} is not a JSON object"
    return data, ""


def _labels(directories: Sequence[Path]) -> list[str]:
    """Short names for directories: the last path part, or more of it when two share a name."""
    names = [d.name or str(d) for d in directories]
    if len(set(names)) == len(names):
        return names
    counts = Counter(names)
    return [str(d) if counts[n] > 1 else n for d, n in zip(directories, names, strict=True)]


def _sources(directories: Sequence[Path]) -> list[Source]:
    """Read each directory (through read_directory: schema errors name file:line, a cut last line is noted)."""
    out = []
    for directory, label in zip(directories, _labels(directories), strict=True):
        result = read_directory(directory)
        env, note = _environment(directory)
        out.append(Source(directory, label, env, note, tuple(result.records), result.interrupted))
    return out


def _merge(sources: Sequence[Source]) -> dict[Key, Cell]:
    """Group records by key, keeping every one; insertion order follows the files."""
    cells: dict[Key, Cell] = {}
    for source in sources:
        for record in source.records:
            cells.setdefault(record.key, Cell(record.key)).entries.append(Entry(record, source))
    return cells


def _pair_order(cells: dict[Key, Cell]) -> list[str]:
    """Pairs with problems first (worst verdict), then by name: what needs a look comes first."""
    worst: dict[str, int] = {}
    for key, cell in cells.items():
        position = VERDICT_ORDER.index(cell.verdict)
        worst[key[0]] = min(worst.get(key[0], position), position)
    return sorted(worst, key=lambda p: (worst[p], p))


def load(directories: Sequence[Path]) -> Report:
    """Read and merge result directories into one Report."""
    if not directories:
        raise ValueError("render needs at least one result directory. Received: none")
    sources = _sources([Path(d) for d in directories])
    cells = _merge(sources)
    columns = sorted({k[1:] for k in cells}, key=column_sort_key)
    return Report(tuple(sources), cells, tuple(_pair_order(cells)), tuple(columns))
