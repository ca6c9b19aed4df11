# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .prroi_pool import PrRoIPool2d, prroi_pool2d

__all__ = ['PrRoIPool2d', 'prroi_pool2d']
