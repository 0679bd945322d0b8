"""``python -m harness`` is the ``conform`` command."""

from harness.cli import main

raise SystemExit(main())
