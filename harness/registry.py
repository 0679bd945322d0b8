"""Where pairs come from: the built-in catalogue and users' own pair files.

A pair file is any Python file that defines ``LayerPair`` objects at module level (or a
``PAIRS`` sequence of them). It is code: loading it executes it, as pytest executes a
``conftest.py``; an error in it is reported as the file, the line and the error, in one line.
The built-in catalogue is exactly that: the modules of ``conformance.catalogue``. One
mechanism, so a user's pair gets everything ours get.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import importlib.util
import pkgutil
import sys
import traceback
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType

from harness.spec import LayerPair, SpecError

__all__ = ["Catalogue", "UnknownPairError", "load", "packages"]

BUILTIN_PACKAGE = "conformance.catalogue"


class UnknownPairError(LookupError):
    """Names that match no registered pair; the message lists close matches."""

    def __init__(self, unknown: Sequence[str], known: Sequence[str]):
        self.unknown = list(unknown)
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "no close match"
            hints.append(f"  {name!r}: {hint}")
        super().__init__(
            "unknown pair name(s):\n" + "\n".join(hints) + "\nRun `conform list` to see every registered pair."
        )


def _pairs_of(module: ModuleType) -> list[LayerPair]:
    """The module's pairs, each once: a module-level alias (``bert = bert_tiny``) is the same pair."""
    declared = getattr(module, "PAIRS", None)
    if declared is not None:
        pairs = list(declared)
        bad = [p for p in pairs if not isinstance(p, LayerPair)]
        if bad:
            raise SpecError(f"{module.__name__}.PAIRS holds non-LayerPair objects: {bad[:3]}")
    else:
        pairs = [v for v in vars(module).values() if isinstance(v, LayerPair)]
    return list({id(p): p for p in pairs}.values())


def packages(pair_files: Iterable[str | Path]) -> dict[str, str]:
    """The installed distributions (name -> version) of every top-level module the pair files import.

    Read from the files' source, so imports inside factories count too (a pair file imports
    ``transformers`` lazily to keep ``conform list`` fast): a result set is only comparable with
    another made with the same versions of what the pairs were built from.
    """
    modules: set[str] = set()
    for file in pair_files:
        try:
            tree = ast.parse(Path(file).read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    distributions = metadata.packages_distributions()
    found: dict[str, str] = {}
    for module in sorted(modules - set(sys.stdlib_module_names)):
        for dist in distributions.get(module, ()):
            with contextlib.suppress(metadata.PackageNotFoundError):
                found[dist] = metadata.version(dist)
    return found


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise FileNotFoundError(f"--pairs-from {path}: no such file")
    name = f"conform_user_pairs_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"--pairs-from {path}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:  # a pair file imports its siblings (`from my_layers import ...`), as a script would
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a pair file is user code: any error is the file's, said in one line
        del sys.modules[name]
        where = f"{path}:{_line_of(exc, path)}"
        raise SpecError(f"--pairs-from {where}: {type(exc).__name__}: {_first_line(exc)}") from None
    return module


def _line_of(exc: BaseException, path: Path) -> int | str:
    """The line of ``path`` where the error arose (a SyntaxError's own, else the file's last frame)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    return frames[-1].lineno if frames and frames[-1].lineno else "?"


def _first_line(exc: BaseException) -> str:
    text = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    return (text.strip().splitlines() or [""])[0][:300]


class Catalogue:
    """Registered pairs by name, with the file each user pair came from."""

    def __init__(self) -> None:
        self.pairs: dict[str, LayerPair] = {}
        self.sources: dict[str, str] = {}

    def add(self, pair: LayerPair, source: str | None) -> None:
        if self.pairs.get(pair.name) is pair:  # the same pair imported into a second file: registered once
            return
        if pair.name in self.pairs:
            where = self.sources.get(pair.name, BUILTIN_PACKAGE)
            raise SpecError(f"pair name {pair.name!r} is registered twice (first from {where})")
        self.pairs[pair.name] = pair
        if source:
            self.sources[pair.name] = source

    def select(self, names: Iterable[str] | None) -> list[LayerPair]:
        """The named pairs in the order given, or all of them; unknown names raise."""
        if not names:
            return list(self.pairs.values())
        names = list(dict.fromkeys(names))
        unknown = [n for n in names if n not in self.pairs]
        if unknown:
            raise UnknownPairError(unknown, list(self.pairs))
        return [self.pairs[n] for n in names]


def load(pair_files: Iterable[str | Path] = (), builtin: bool = True) -> Catalogue:
    """The built-in catalogue plus every pair defined in ``pair_files``."""
    catalogue = Catalogue()
    if builtin:
        package = importlib.import_module(BUILTIN_PACKAGE)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            for pair in _pairs_of(importlib.import_module(f"{BUILTIN_PACKAGE}.{info.name}")):
                catalogue.add(pair, None)
    for file in pair_files:
        path = Path(file)
        for pair in _pairs_of(_import_file(path)):
            catalogue.add(pair, str(path))
    return catalogue
