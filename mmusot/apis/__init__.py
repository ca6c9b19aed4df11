# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Inference API: build a tracker from a config, track frames in memory."""

from ..config import load_tracker_config, resolve_config_path
from .builder import (
    DeviceError,
    build_tracker,
    check_device,
    quiet_init_weights,
)
from .opencv_trackers import OPENCV_TRACKERS, OpenCVTracker, opencv_factory
from .tracker import (
    InferenceEngine,
    MultiTracker,
    Tracker,
    check_box,
    check_frame,
    inference_pipeline,
    track_sequence,
    xywh_to_xyxy,
    xyxy_to_xywh,
)
from .video import (
    FrameError,
    TrackingError,
    load_tracker,
    open_source,
    track_video,
)

__all__ = [
    'DeviceError',
    'build_tracker',
    'check_device',
    'load_tracker_config',
    'quiet_init_weights',
    'resolve_config_path',
    'OPENCV_TRACKERS',
    'OpenCVTracker',
    'opencv_factory',
    'InferenceEngine',
    'MultiTracker',
    'Tracker',
    'check_box',
    'check_frame',
    'inference_pipeline',
    'track_sequence',
    'xywh_to_xyxy',
    'xyxy_to_xywh',
    'FrameError',
    'TrackingError',
    'load_tracker',
    'open_source',
    'track_video',
]
