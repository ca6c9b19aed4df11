# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot_lr import USOTLR, set_lr_mult, usot_lr_factor

__all__ = ['USOTLR', 'set_lr_mult', 'usot_lr_factor']
