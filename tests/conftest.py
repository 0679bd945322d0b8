"""Fixtures shared by the harness's own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


@pytest.fixture
def shared_seeds() -> Path:
    """The tutorials beside the checkout (../shared/seeds), as CI provides them."""
    if not SEEDS.is_dir():
        pytest.skip(f"the tutorials are not beside this checkout ({SEEDS} is missing)")
    return SEEDS


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: without xdist, pytest must not refuse it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under xdist (``make check``, ``make test TEST_JOBS=auto``) a test module goes to one worker; checks one by one.

    Several modules share one expensive run through a module-scoped fixture (the real-model
    ports take 10 minutes); spread over the workers, each worker would make that run again.
    ``--dist loadgroup`` would say this with marks, but pytest 9.2 ignores the node id that
    xdist 3.8 rewrites for it, so the grouping is the scheduler's. Conformance checks are not
    grouped: one pair's records (the U-Net's take 10 minutes) spread like any others.
    """
    from xdist.scheduler import LoadScopeScheduling

    class ModulesWhole(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith("conformance/") else nodeid.split("::", 1)[0]

    return ModulesWhole(config, log)
