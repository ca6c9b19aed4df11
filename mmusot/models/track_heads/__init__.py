# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot_head import USOTHead, iou_loss, weighted_bce_loss

__all__ = ['USOTHead', 'iou_loss', 'weighted_bce_loss']
