"""The conformance suite: one test body, parametrised by the ``conform`` pytest plugin.

Every registered pair x check x dtype x device x mode becomes one test id
(``linear_wrapper_000-gradient-float32-cpu-eval``); select with ``-k`` or the plugin's
``--conform-*`` options. The body holds no logic: the pair specs are the tests.
"""


def test_pair(conform_target, conform_run):
    conform_run(conform_target)
