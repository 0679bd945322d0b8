"""Fixtures shared by the harness's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


@pytest.fixture
def shared_seeds() -> Path:
    """The tutorials beside the checkout (../shared/seeds), as CI provides them."""
    if not SEEDS.is_dir():
        pytest.skip(f"the tutorials are not beside this checkout ({SEEDS} is missing)")
    return SEEDS
