# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .sot_mobilenet_v2 import InvertedResidual, SOTMobileNetV2

__all__ = ['InvertedResidual', 'SOTMobileNetV2']
