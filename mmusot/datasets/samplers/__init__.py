# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot_quota_sampler import USOTQuotaSampler

__all__ = ['USOTQuotaSampler']
