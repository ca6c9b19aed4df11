# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Deprecated: renamed :mod:`mmusot.utils.checkpoint_conversion`.

Kept for one release: importing this module warns and gives the new
module itself (every name, the same objects).
"""

import sys
import warnings

from . import checkpoint_conversion

warnings.warn(
    'mmusot.utils.checkpoint_convert was renamed '
    'mmusot.utils.checkpoint_conversion; the old name goes in the next '
    'release',
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = checkpoint_conversion
