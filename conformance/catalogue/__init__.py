"""The built-in catalogue: one module per family, each defining ``PAIRS``.

Every module here is loaded by :func:`harness.registry.load`. Factories import the layer
modules lazily (through :func:`twins`), so listing the catalogue loads no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from types import ModuleType

SEED_000 = "000_4a42d213cdc6ab68.txt"
SEED_001 = "001_891ade5985017d1d.txt"
SEED_002 = "002_6d5a8be370592a52.txt"
SEED_003 = "003_a97a8166b70c951e.txt"
SEED_004 = "004_c5cf47aaaa4f9704.txt"


def twins(family: str) -> tuple[Callable[[], ModuleType], Callable[[], ModuleType]]:
    """Lazy importers of ``layers_torch.<family>`` and ``layers_tf.<family>``."""
    return (lambda: import_module(f"layers_torch.{family}")), (lambda: import_module(f"layers_tf.{family}"))
