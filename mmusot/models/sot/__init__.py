# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot import USOT
from .usot_tracking import USOTTrackingMixin

__all__ = ['USOT', 'USOTTrackingMixin']
