# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Boxes for the frames the DP did not pick (paper Sec. 3.1).

Official ``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py``:
linear interpolation between picked frames (the official code's weights are
reversed, a documented bug kept for reproduction) and jittered copies at
the ends.
"""

import zlib
from typing import Sequence

import numpy as np

# End copies get an independent U(-3, 3) offset per coordinate, unless the
# box's smallest coordinate is below 75 px (before the first picked frame)
# or 50 px (after the last one).
END_JITTER_PX = 3.0
HEAD_NO_JITTER_BELOW_PX = 75.0
TAIL_NO_JITTER_BELOW_PX = 50.0


def video_rng(name: str) -> np.random.Generator:
    """A generator seeded from a video name (stable across runs/machines)."""
    return np.random.default_rng(zlib.crc32(name.encode('utf-8')))


def interpolate_box(
    box_a: np.ndarray,
    box_b: np.ndarray,
    a: int,
    b: int,
    j: int,
    reversed_official: bool = False,
) -> np.ndarray:
    """Linear interpolation of a box between picked frames a < j < b.

    Args:
        box_a (np.ndarray): of shape (4,), the box at frame a.
        box_b (np.ndarray): of shape (4,), the box at frame b.
        a (int): earlier picked frame.
        b (int): later picked frame.
        j (int): the frame to fill.
        reversed_official (bool): use the official code's reversed weights
            (frames next to a get boxes close to B(b)), a documented bug
            kept for reproduction. Defaults to False (correct weights).

    Returns:
        np.ndarray: of shape (4,), float64.
    """
    ratio = (j - a) / (b - a)
    if not reversed_official:
        ratio = 1.0 - ratio  # weight of box_a
    return ratio * np.asarray(box_a, np.float64) + (1 - ratio) * np.asarray(
        box_b, np.float64
    )


def fill_boxes(
    picked_frames: Sequence[int],
    picked_boxes: np.ndarray,
    num_frames: int,
    rng: np.random.Generator,
    reversed_official: bool = False,
    jitter: float = END_JITTER_PX,
    head_no_jitter_below: float = HEAD_NO_JITTER_BELOW_PX,
    tail_no_jitter_below: float = TAIL_NO_JITTER_BELOW_PX,
    truncate: bool = True,
) -> np.ndarray:
    """A box for every frame of a unit from the DP-picked boxes.

    Before the first picked frame the first box is copied, after the last
    the last one; each copy gets an independent U(-jitter, jitter) offset
    per coordinate unless the box's smallest coordinate is below 75 (head)
    or 50 (tail). In between, boxes are linearly interpolated. Boxes are
    finally int-truncated, as in the official code.

    Args:
        picked_frames (Sequence[int]): strictly increasing frame indices.
        picked_boxes (np.ndarray): of shape (P, 4), [x1, y1, x2, y2].
        num_frames (int): frames in the unit (L).
        rng (np.random.Generator): source of the jitter (seed it from the
            video name for byte-identical reruns).
        reversed_official (bool): official reversed interpolation.
            Defaults to False.
        jitter (float): half-range of the end-copy jitter. Defaults to 3.
        head_no_jitter_below (float): see above. Defaults to 75.
        tail_no_jitter_below (float): see above. Defaults to 50.
        truncate (bool): int-truncate the boxes, as stored in the json.
            The official corner frequency and mean box change are computed
            on the boxes before truncation (False). Defaults to True.

    Returns:
        np.ndarray: of shape (num_frames, 4), [x1, y1, x2, y2]; int64 when
        ``truncate``, else float64.
    """
    frames = [int(f) for f in picked_frames]
    boxes = np.asarray(picked_boxes, np.float64).reshape(-1, 4)
    if not frames or len(frames) != len(boxes):
        raise ValueError('need as many picked frames as boxes, at least one')
    if any(b <= a for a, b in zip(frames, frames[1:])):
        raise ValueError(f'picked frames must increase: {frames}')
    if frames[0] < 0 or frames[-1] >= num_frames:
        raise ValueError(
            f'picked frames {frames[0]}..{frames[-1]} outside '
            f'0..{num_frames - 1}'
        )
    out = np.zeros((num_frames, 4), np.float64)
    first = boxes[0]
    for j in range(frames[0]):
        out[j] = first
        if first.min() >= head_no_jitter_below:
            out[j] = first + rng.uniform(-jitter, jitter, 4)
    for k, (a, b) in enumerate(zip(frames, frames[1:])):
        out[a] = boxes[k]
        for j in range(a + 1, b):
            out[j] = interpolate_box(
                boxes[k], boxes[k + 1], a, b, j, reversed_official
            )
    out[frames[-1]] = boxes[-1]
    last = boxes[-1]
    for j in range(frames[-1] + 1, num_frames):
        out[j] = last
        if last.min() >= tail_no_jitter_below:
            out[j] = last + rng.uniform(-jitter, jitter, 4)
    return np.trunc(out).astype(np.int64) if truncate else out
