"""The benchmark suite: ``conform bench`` or plain ``pytest benchmarks`` (pytest-benchmark)."""
