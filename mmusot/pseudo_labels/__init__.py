# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Moving-object discovery: unlabeled videos -> pseudo boxes (numpy/OpenCV).

Stage one of USOT (paper Sec. 3.1 Moving Object Discovery; official
``preprocessing/``): optical flow, candidate boxes (Eq. (1)-(2)), dynamic
programming (Eq. (3)), filling, quality (Eq. (4), (5), (7)) and mmtrack SOT
output. No torch, mmengine or mmtrack imports. Every error raised on
purpose is a :class:`PseudoLabelError` (:mod:`.errors`).
"""

from .boxes import box_diou, box_iou, xywh_to_xyxy, xyxy_to_xywh
from .candidates import (
    CandidateConfig,
    best_component_box,
    box_score,
    candidate_boxes,
    clean_mask,
    cut_margin,
    motion_distance_map,
    motion_threshold,
    passes_saliency_gate,
    score_component,
)
from .convert import (
    convert_sources,
    convert_videos,
    default_video_settings,
    format_summary,
    load_records,
    merge,
    parse_shard,
    read_status,
    select_shard,
    summarize,
    video_sources,
)
from .datasets import dataset_sources
from .dp import dp_select_boxes, transition_reward
from .errors import (
    AnnotationError,
    InputError,
    OutputLockedError,
    PseudoLabelError,
    SettingsMismatchError,
    VideoReadError,
)
from .fill import fill_boxes, interpolate_box, video_rng
from .flow import (
    FLOW_BACKENDS,
    DISFlow,
    FarnebackFlow,
    FlowBackend,
    build_flow_backend,
    max_flow_component,
    next_frame_interval,
    register_flow_backend,
    resize_flow,
)
from .pipeline import (
    PRESETS,
    PseudoLabelSettings,
    preset_settings,
    process_video,
    unit_ranges,
)
from .quality import (
    corner_frequency,
    corner_score,
    fragment_bounds,
    frame_quality,
    margin_extremes,
    passes_video_filter,
    video_quality,
)
from .shots import SHOT_CUT_DISTANCE, ShotCutDetector
from .video_io import (
    VideoSource,
    count_frames,
    discover_sources,
    iter_frames,
    safe_name,
)
from .writer import (
    FRAME_TEMPLATE,
    INFOS_HEADER,
    atomic_write_json,
    atomic_write_text,
    format_boxes_xywh,
    frame_file,
    read_boxes_xywh,
    read_infos,
    write_infos,
)

__all__ = [
    'box_iou',
    'box_diou',
    'xyxy_to_xywh',
    'xywh_to_xyxy',
    'CandidateConfig',
    'cut_margin',
    'motion_distance_map',
    'motion_threshold',
    'passes_saliency_gate',
    'clean_mask',
    'box_score',
    'score_component',
    'best_component_box',
    'candidate_boxes',
    'transition_reward',
    'dp_select_boxes',
    'interpolate_box',
    'fill_boxes',
    'video_rng',
    'FlowBackend',
    'DISFlow',
    'FarnebackFlow',
    'FLOW_BACKENDS',
    'register_flow_backend',
    'build_flow_backend',
    'resize_flow',
    'max_flow_component',
    'next_frame_interval',
    'video_quality',
    'frame_quality',
    'corner_frequency',
    'corner_score',
    'margin_extremes',
    'fragment_bounds',
    'passes_video_filter',
    'PseudoLabelSettings',
    'ShotCutDetector',
    'SHOT_CUT_DISTANCE',
    'PRESETS',
    'preset_settings',
    'process_video',
    'unit_ranges',
    'VideoSource',
    'VideoReadError',
    'discover_sources',
    'iter_frames',
    'count_frames',
    'safe_name',
    'FRAME_TEMPLATE',
    'INFOS_HEADER',
    'atomic_write_text',
    'atomic_write_json',
    'format_boxes_xywh',
    'frame_file',
    'read_boxes_xywh',
    'write_infos',
    'read_infos',
    'convert_sources',
    'merge',
    'summarize',
    'format_summary',
    'load_records',
    'read_status',
    'select_shard',
    'parse_shard',
    'convert_videos',
    'dataset_sources',
    'video_sources',
    'default_video_settings',
    'PseudoLabelError',
    'InputError',
    'AnnotationError',
    'SettingsMismatchError',
    'OutputLockedError',
]
