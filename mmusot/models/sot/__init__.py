# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot import USOT
from .usot_tracking import USOTTrackingMixin  # noqa: F401  (a mixin)

# Only registered components are listed; the mixin is importable by name.
__all__ = ['USOT']
