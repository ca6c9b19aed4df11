# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Deprecated alias of :mod:`mmusot.models.sot.usot_subwindow`.

The inference crops moved to ``usot_subwindow`` (the official name of the
crop, ``get_subwindow_tracking``), apart from the training crop of
:mod:`mmusot.datasets.transforms.usot_crop`. This module will be removed
in the next release.
"""

import warnings

from .usot_subwindow import (  # noqa: F401
    CROP_MODES,
    UINT8_MAX,
    box_in_crop,
    crop_official,
    crop_siamfc,
    crop_window_origin,
    frame_to_uint8,
    official_pad_value,
    patch_to_tensor,
    python2round,
)

warnings.warn(
    'mmusot.models.sot.usot_crop is deprecated; import from '
    'mmusot.models.sot.usot_subwindow',
    DeprecationWarning,
    stacklevel=2,
)
