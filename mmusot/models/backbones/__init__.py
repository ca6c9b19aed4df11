# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .sot_mobilenet_v2 import SOTMobileNetV2

__all__ = ['SOTMobileNetV2']
