# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .usot_crop import USOTCropLikeSiamFC, USOTShiftScaleCrop, mean_colour
from .usot_formatting import PackUSOTInputs
from .usot_frames import frame_role
from .usot_geometric import USOTPerspective, USOTRandomFlip
from .usot_photometric import (
    USOTBrightness,
    USOTCoarseDropout,
    USOTHueSaturation,
    USOTMotionBlur,
    USOTSaltPepper,
    motion_blur_kernel,
)

__all__ = [
    'PackUSOTInputs',
    'USOTBrightness',
    'USOTCoarseDropout',
    'USOTCropLikeSiamFC',
    'USOTHueSaturation',
    'USOTMotionBlur',
    'USOTPerspective',
    'USOTRandomFlip',
    'USOTSaltPepper',
    'USOTShiftScaleCrop',
    'frame_role',
    'mean_colour',
    'motion_blur_kernel',
]
