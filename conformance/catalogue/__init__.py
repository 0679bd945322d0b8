"""The built-in pair catalogue: one module per ``layers_*`` module, each defining ``PAIRS``.

The modules import no framework; every factory imports its layer module when it is called.
"""
