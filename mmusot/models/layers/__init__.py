# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .conf_value_fusion import ConfidenceValueFusion
from .multi_scale_dw_corr import (
    MultiScaleDWFusion,
    MultiScaleEncoder,
    depthwise_xcorr,
)
from .prroi_pool import PrRoIPool2d, prroi_pool2d

__all__ = [
    'PrRoIPool2d',
    'prroi_pool2d',
    'ConfidenceValueFusion',
    'MultiScaleDWFusion',
    'MultiScaleEncoder',
    'depthwise_xcorr',
]
