# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's per-target tracking state and box post-processing, without torch.

:class:`USOTTrackState` is one target's state (centre, size, memory queue,
frame id) and its per-frame arithmetic; :mod:`.postprocess` the functions
it is made of. Both run on torch tensors or numpy arrays and import
neither torch nor OpenMMLab, so an ONNX runtime can reuse them.
"""

from .postprocess import (
    CONTEXT_AMOUNT,
    SIZE_SMOOTHING_MODES,
    ArrayOps,
    BestCell,
    array_ops,
    box_in_crop,
    context_side,
    cosine_window,
    crop_window_origin,
    decode_boxes,
    flip_box,
    fuse_scores,
    penalized_scores,
    python2round,
    select_best,
    size_change_penalty,
    update_size,
)
from .state import (
    CROP_MODES,
    INIT_SCORE,
    MEMORY_INDEX_MODES,
    MIN_CROP_SIDE,
    ONE_BASED_ORIGIN,
    TEST_MODES,
    USOTTestConfig,
    USOTTrackState,
)

__all__ = [
    'CONTEXT_AMOUNT',
    'CROP_MODES',
    'INIT_SCORE',
    'MEMORY_INDEX_MODES',
    'MIN_CROP_SIDE',
    'ONE_BASED_ORIGIN',
    'SIZE_SMOOTHING_MODES',
    'TEST_MODES',
    'ArrayOps',
    'BestCell',
    'USOTTestConfig',
    'USOTTrackState',
    'array_ops',
    'box_in_crop',
    'context_side',
    'cosine_window',
    'crop_window_origin',
    'decode_boxes',
    'flip_box',
    'fuse_scores',
    'penalized_scores',
    'python2round',
    'select_best',
    'size_change_penalty',
    'update_size',
]
