# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .transforms import *  # noqa: F401,F403

__all__ = []
