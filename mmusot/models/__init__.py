# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from . import backbones, layers, sot, track_heads
from .backbones import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .sot import *  # noqa: F401,F403
from .track_heads import *  # noqa: F401,F403

__all__ = (
    backbones.__all__ + layers.__all__ + sot.__all__ + track_heads.__all__
)
