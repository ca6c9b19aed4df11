# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The checks a tracker's inputs pass: frames and init boxes.

Shared by the PyTorch trackers (:mod:`mmusot.apis`) and the ONNX runtime
(:mod:`mmusot.runtime`); numpy and OpenCV only.
"""

import math
from typing import Sequence, Union

import cv2
import numpy as np

BoxLike = Union[Sequence[float], np.ndarray]


def check_frame(frame: np.ndarray) -> np.ndarray:
    """A frame as ``LoadImageFromFile`` gives it: (H, W, 3) uint8 BGR.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 BGR as OpenCV reads it, or a
            grey (H, W) / (H, W, 1) uint8 image.

    Returns:
        np.ndarray: of shape (H, W, 3), uint8, C-contiguous.

    Raises:
        TypeError: not a uint8 numpy array.
        ValueError: empty, or not 1 or 3 channels.
    """
    if not isinstance(frame, np.ndarray):
        raise TypeError(
            f'a frame must be a numpy array, got {type(frame).__name__}'
        )
    if frame.dtype != np.uint8:
        raise TypeError(
            'a frame must be uint8 (as cv2.imread / VideoCapture give it), '
            f'got {frame.dtype}'
        )
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            'a frame must be (H, W, 3) BGR or (H, W) grey, got shape '
            f'{frame.shape}'
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f'empty frame of shape {frame.shape}')
    return np.ascontiguousarray(frame)


def check_box(box: BoxLike, frame_shape: Sequence[int]) -> np.ndarray:
    """Validate an ``[x, y, w, h]`` box against the frame it starts in.

    A box may stick out of the frame (a target partly out of view) as long
    as its centre lies inside; a box wider or taller than the whole frame
    is refused: no target seen in the frame is larger than the frame, so
    such a box is a mistake (coordinates for another resolution, x2,y2
    given as w,h ...), and clipping it would silently start the tracker on
    a box the user never drew.

    Args:
        box (Sequence[float] | np.ndarray): ``[x, y, w, h]``: top-left
            corner and size, pixels.
        frame_shape (Sequence[int]): ``(H, W, ...)`` of the frame.

    Returns:
        np.ndarray: of shape (4,), float64, ``[x, y, w, h]``.

    Raises:
        ValueError: not 4 numbers, not finite, zero or negative width or
            height, its centre outside the frame, or wider or taller than
            the frame.
    """
    try:
        values = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(
            f'box must be 4 numbers x, y, w, h; got {box!r}'
        ) from None
    if values.size != 4:
        raise ValueError(
            f'box must be 4 numbers x, y, w, h; got {values.size}: {box!r}'
        )
    x, y, w, h = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f'box x, y, w, h is not finite: {values.tolist()}')
    if w <= 0 or h <= 0:
        raise ValueError(
            f'box has no area: w={w:g}, h={h:g} (x, y, w, h = '
            f'{values.tolist()})'
        )
    height, width = int(frame_shape[0]), int(frame_shape[1])
    cx, cy = x + w / 2, y + h / 2
    if not (0 <= cx < width and 0 <= cy < height):
        raise ValueError(
            f'box x, y, w, h = {values.tolist()} is outside the '
            f'{width}x{height} frame (its centre ({cx:g}, {cy:g}) must lie '
            'inside it)'
        )
    if w > width or h > height:
        raise ValueError(
            f'box x, y, w, h = {values.tolist()} is {w:g}x{h:g}, larger than '
            f'the {width}x{height} frame; give a box in pixels of this frame '
            '(x, y, w, h: top-left corner, width, height), clipped to the '
            'frame if the target fills the view'
        )
    return values


def read_frame(path: str) -> np.ndarray:
    """An image file as a frame (:func:`check_frame`), or an error naming it.

    Raises:
        ValueError: the file is missing, unreadable or not an image.
    """
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        raise ValueError(f'{path}: missing or not a readable image')
    return check_frame(frame)
