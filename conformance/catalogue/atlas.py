"""The atlas pairs: every built-in counterpart correctly configured, and every convention at the defaults.

Generated from :data:`harness.atlas.ATLAS` (see :mod:`harness.atlas.pairs`): the facts live
there once, so the pairs that prove them are the facts ``conform map`` uses.
"""

from harness.atlas import ATLAS
from harness.atlas.pairs import pairs

PAIRS = pairs(ATLAS)
