# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .layers import *  # noqa: F401,F403
from .sot import *  # noqa: F401,F403
from .track_heads import *  # noqa: F401,F403
