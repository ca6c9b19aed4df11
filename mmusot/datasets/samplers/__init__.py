# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .pseudo_label_sampler import PseudoLabelSampler, SamplingState
from .usot_quota_sampler import USOTQuotaSampler

__all__ = ['PseudoLabelSampler', 'SamplingState', 'USOTQuotaSampler']
