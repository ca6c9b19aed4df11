# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Pseudo-label quality: Q_v, Q_f, corner score, fragments T_l / T_u.

Eq. (4) (video quality), Eq. (5) (frame quality) and Eq. (7) (fragment
bounds) of the paper (Sec. 3.2-3.3) in the official code's form: the
statistics of
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` and the
filtering, corner score and fragments of ``gen_json.py``.
"""

from typing import Sequence, Tuple

import numpy as np

from .boxes import box_diou
from .candidates import CandidateConfig

# The margin lines sit 1/32 of the frame inside each border (the margin
# cut of the candidate boxes).
MARGIN_DIV = CandidateConfig.margin_div
# A box closer than this to a margin line (pixels) touches that border.
BORDER_TOLERANCE_PX = 10
# Corner frequency: a box at the x and y borders counts 1, at one 0.3.
ONE_BORDER_WEIGHT = 0.3
# Corner score: each axis contributes at most 0.1 (so the score is in
# [0, 0.2]).
CORNER_SCORE_CAP = 0.1
# Video pre-filter: Q_v - corner_freq / 3 must reach ``min_combined``.
CORNER_FREQ_DIVISOR = 3.0
# Official pre-filter and fragment (Eq. (7)) defaults.
MIN_VIDEO_QUALITY = 0.35
MAX_CORNER_FREQ = 0.4
MIN_COMBINED_QUALITY = 0.33
FRAGMENT_SEARCH_GAP = 2
FRAGMENT_MAX_GAP = 320
FRAGMENT_THETA2 = 0.45
FRAGMENT_THETA3 = 0.40
FRAGMENT_GAMMA = 2.5


def video_quality(num_picked: int, num_flow_frames: int) -> float:
    """Eq. 4, Q_v: DP-picked frames over sub-sampled (flow) frames.

    The paper divides by the video length; the official code by the
    number of sub-sampled frames at which flow was computed.

    Args:
        num_picked (int): frames on the DP path.
        num_flow_frames (int): frames at which flow was computed.

    Returns:
        float: Q_v in [0, 1]; 0 when no flow was computed.
    """
    return num_picked / num_flow_frames if num_flow_frames else 0.0


def margin_extremes(width: int, height: int) -> Tuple[int, int, int, int]:
    """The margin lines (left, top, right, bottom) = int(W/32), int(H/32),
    int(31W/32), int(31H/32)."""
    inner = MARGIN_DIV - 1
    return (
        int(width / MARGIN_DIV),
        int(height / MARGIN_DIV),
        int(inner * width / MARGIN_DIV),
        int(inner * height / MARGIN_DIV),
    )


def corner_frequency(boxes: np.ndarray, width: int, height: int) -> float:
    """How often the boxes touch the margin lines (``corner_bbox_freq``).

    A box is at the x border if x1 < left + 10 or x2 > right - 10 (y alike);
    at both borders it counts 1, at one 0.3.

    Args:
        boxes (np.ndarray): of shape (N, 4), [x1, y1, x2, y2], all frames.
        width (int): frame width.
        height (int): frame height.

    Returns:
        float: the mean count over the frames (0 for no frames).
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return 0.0
    left, top, right, bottom = margin_extremes(width, height)
    tol = BORDER_TOLERANCE_PX
    at_x = (boxes[:, 0] < left + tol) | (boxes[:, 2] > right - tol)
    at_y = (boxes[:, 1] < top + tol) | (boxes[:, 3] > bottom - tol)
    count = np.where(
        at_x & at_y, 1.0, np.where(at_x | at_y, ONE_BORDER_WEIGHT, 0.0)
    )
    return float(count.sum() / len(boxes))


def corner_score(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per-frame distance from the margin lines, in [0, 0.2] (gen_json.py).

    ``min(x_border / (right - left), 0.1) + min(y_border / (bottom - top),
    0.1)`` with ``x_border = min(|x1 - left|, |right - x2|)``.

    Args:
        boxes (np.ndarray): of shape (N, 4), [x1, y1, x2, y2].
        width (int): frame width.
        height (int): frame height.

    Returns:
        np.ndarray: of shape (N,), float64; higher is farther from borders.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    left, top, right, bottom = margin_extremes(width, height)
    xb = np.minimum(np.abs(boxes[:, 0] - left), np.abs(right - boxes[:, 2]))
    yb = np.minimum(np.abs(boxes[:, 1] - top), np.abs(bottom - boxes[:, 3]))
    return np.minimum(
        xb / max(right - left, 1), CORNER_SCORE_CAP
    ) + np.minimum(yb / max(bottom - top, 1), CORNER_SCORE_CAP)


def frame_quality(
    picked_frames: Sequence[int],
    flow_frames: Sequence[int],
    num_frames: int,
    radius: int,
) -> np.ndarray:
    """Eq. 5, Q_f: DP-picked over flow frames within ``radius`` raw frames.

    Args:
        picked_frames (Sequence[int]): frames on the DP path.
        flow_frames (Sequence[int]): frames at which flow was computed.
        num_frames (int): frames in the unit.
        radius (int): window half-width in raw frames (3 * gap for the short
            score, 10 * gap for the long one).

    Returns:
        np.ndarray: of shape (num_frames,), float64; 0 where no flow frame
        lies within the window.
    """

    def window_counts(frames):
        hits = np.zeros(num_frames + 1)
        np.add.at(hits, np.asarray(frames, np.int64) + 1, 1)
        cum = np.cumsum(hits)
        t = np.arange(num_frames)
        hi = np.minimum(t + radius, num_frames - 1) + 1
        lo = np.maximum(t - radius, 0)
        return cum[hi] - cum[lo]

    num = window_counts(picked_frames)
    den = window_counts(flow_frames)
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


def passes_video_filter(
    q_v: float,
    corner_freq: float,
    min_q_v: float = MIN_VIDEO_QUALITY,
    max_corner: float = MAX_CORNER_FREQ,
    min_combined: float = MIN_COMBINED_QUALITY,
) -> Tuple[bool, str]:
    """The official video pre-filter (``gen_json.py``; Q_v of Eq. (4)).

    Args:
        q_v (float): video quality Q_v.
        corner_freq (float): corner frequency.
        min_q_v (float): drop if Q_v < this. Defaults to 0.35.
        max_corner (float): drop if corner_freq > this. Defaults to 0.4.
        min_combined (float): drop if Q_v - corner_freq / 3 < this.
            Defaults to 0.33.

    Returns:
        tuple[bool, str]: whether the track is kept, and why not ('' if
        kept).
    """
    if q_v < min_q_v:
        return False, f'low video quality: Q_v={q_v:.3f} < {min_q_v}'
    if corner_freq > max_corner:
        return False, (
            f'box at the border too often: corner frequency '
            f'{corner_freq:.3f} > {max_corner}'
        )
    combined = q_v - corner_freq / CORNER_FREQ_DIVISOR
    if combined < min_combined:
        return False, f'Q_v - corner/3 = {combined:.3f} < {min_combined}'
    return True, ''


def fragment_bounds(
    boxes: np.ndarray,
    frame_quality_short: np.ndarray,
    search_gap: int = FRAGMENT_SEARCH_GAP,
    max_frame_gap: int = FRAGMENT_MAX_GAP,
    theta2: float = FRAGMENT_THETA2,
    theta3: float = FRAGMENT_THETA3,
    gamma: float = FRAGMENT_GAMMA,
) -> Tuple[np.ndarray, np.ndarray]:
    """Eq. (7): the fragment [T_l, T_u] around every frame (``gen_json.py``).

    From each frame, walk backwards / forwards in steps of ``search_gap``
    while the DIoU (gamma 2.5, no x3) with the last accepted box is at
    least theta2 and Q_f of the step's frame exceeds theta3, within
    ``max_frame_gap``. The bounds shrink by ``search_gap // 2``; a frame
    inside the previous frame's fragment reuses its bounds.

    Args:
        boxes (np.ndarray): of shape (N, 4), [x1, y1, x2, y2], every frame.
        frame_quality_short (np.ndarray): of shape (N,), Q_f short.
        search_gap (int): walk stride. Defaults to 2.
        max_frame_gap (int): max span from the frame. Defaults to 320.
        theta2 (float): DIoU threshold. Defaults to 0.45.
        theta3 (float): Q_f threshold. Defaults to 0.40.
        gamma (float): DIoU weight. Defaults to 2.5.

    Returns:
        tuple[np.ndarray, np.ndarray]: T_l and T_u, each of shape (N,),
        int64, positions in the frame list.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    qf = np.asarray(frame_quality_short, np.float64)
    n = len(boxes)
    t_l = np.zeros(n, np.int64)
    t_u = np.zeros(n, np.int64)
    shrink = search_gap // 2

    def walk(idx, step, stop):
        last = idx
        p = idx + step
        while (p >= stop) if step < 0 else (p < stop):
            d = float(box_diou(boxes[p], boxes[last], gamma))
            if d < theta2 or qf[p] <= theta3:
                break
            last = p
            p += step
        return last

    for idx in range(n):
        if idx > 0 and t_u[idx - 1] >= idx:
            t_l[idx], t_u[idx] = t_l[idx - 1], t_u[idx - 1]
            continue
        lo = walk(idx, -search_gap, max(0, idx - max_frame_gap))
        hi = walk(idx, search_gap, min(n, idx + max_frame_gap))
        t_l[idx] = min(lo + shrink, idx) if lo != idx else idx
        t_u[idx] = max(hi - shrink, idx) if hi != idx else idx
    return t_l, t_u
