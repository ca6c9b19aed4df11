# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Shot cuts: where an edited video jumps to another camera shot.

The discovery of Sec. 3.1 assumes one continuous shot: optical flow across a
cut is meaningless, and a dynamic-programming track that crosses it follows
nothing. The official datasets (GOT-10k, VID, LaSOT, YouTube-VOS) are single
shots, so the official code never splits; users' videos (edits, trailers,
montages) often are not. With ``PseudoLabelSettings.shot_cut`` set, a video
is split at its cuts and every shot is discovered as its own track (an
mmusot addition, off in the dataset presets).

A cut is a frame whose hue-saturation histogram is far from the previous
frame's (Bhattacharyya distance, 0 = same colours, 1 = disjoint). On the
41 real clips of the project's shared data, consecutive frames of one shot
stay at or below 0.34 (a hand-held book close-up), the hard cuts of a
montage measure 0.50-0.87 (``tools/analysis/shot_cuts.py`` prints them).
"""

from typing import Optional

import cv2
import numpy as np

#: Default distance above which a frame starts a new shot.
SHOT_CUT_DISTANCE = 0.4
#: Hue and saturation bins of the histogram.
HS_BINS = (32, 32)
#: Frames are shrunk to this width before the histogram (speed only).
HISTOGRAM_WIDTH = 160


def hs_histogram(frame: np.ndarray) -> np.ndarray:
    """Hue-saturation histogram of a BGR frame (float32, HS_BINS)."""
    h, w = frame.shape[:2]
    if w > HISTOGRAM_WIDTH:
        size = (HISTOGRAM_WIDTH, max(1, round(h * HISTOGRAM_WIDTH / w)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
    return cv2.calcHist([hsv], [0, 1], None, list(HS_BINS), [0, 180, 0, 256])


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two histograms, in [0, 1]."""
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


class ShotCutDetector:
    """Fed frame by frame; says which frames begin a new shot.

    Args:
        threshold (float): a frame whose histogram distance to the previous
            frame exceeds this starts a new shot. In (0, 1].

    Example::

        detect = ShotCutDetector(0.4)
        cuts = [i for i, frame in enumerate(frames) if detect(frame)]
    """

    def __init__(self, threshold: float = SHOT_CUT_DISTANCE) -> None:
        check_shot_cut(threshold)
        self.threshold = threshold
        self._previous: Optional[np.ndarray] = None
        self.last_distance = 0.0

    def __call__(self, frame: np.ndarray) -> bool:
        """True when ``frame`` begins a new shot (never the first frame)."""
        hist = hs_histogram(frame)
        previous, self._previous = self._previous, hist
        if previous is None:
            return False
        self.last_distance = histogram_distance(previous, hist)
        return self.last_distance > self.threshold


def check_shot_cut(threshold: Optional[float]) -> None:
    """Raise ValueError unless ``threshold`` is None or in (0, 1]."""
    if threshold is not None and not 0 < threshold <= 1:
        raise ValueError(
            f'shot_cut must be a histogram distance in (0, 1] or None, '
            f'got {threshold}'
        )
