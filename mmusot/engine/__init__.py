# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .hooks import *  # noqa: F401,F403
