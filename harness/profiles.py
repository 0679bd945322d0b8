"""The hypothesis profiles of a record's search, registered wherever records are made.

Why a module: records are made in the pytest process or in a child process
(:mod:`harness.recycle`) that never imports the pytest plugin; both must know the same profiles.

* ``ci`` (the default, ``make run`` and the gate): 20 examples per check, derandomised, so two
  runs try the same cases;
* ``smoke`` (``make test``): every coverage case and two drawn examples per record, derandomised;
* ``dev``: 20 examples, random: each run explores new cases;
* ``thorough``: 300 examples, random.
"""

from __future__ import annotations

from hypothesis import settings

__all__ = ["DEFAULT", "PROFILES"]

PROFILES = ("ci", "smoke", "dev", "thorough")
DEFAULT = "ci"

settings.register_profile("ci", max_examples=20, derandomize=True, deadline=None)
settings.register_profile("smoke", max_examples=2, derandomize=True, deadline=None)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.register_profile("thorough", max_examples=300, deadline=None)
