# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""SiamFC sub-window crops on the host, with numpy and OpenCV only.

The two crops of ``test_cfg.crop_mode`` as the torch-free runtime
(:mod:`mmusot.runtime`) needs them; the model's own crops are
:mod:`mmusot.models.sot.usot_subwindow` (``crop_official`` is this one):

* :func:`crop_exact` (``'exact'``): the window of integral side ``sz``
  around the target, padded with the frame's float mean and resized with
  OpenCV's bilinear geometry (half-pixel centres, source coordinates
  clamped to the window), in float32: the numpy twin of the model's
  ``crop_siamfc`` (equal up to float rounding);
* :func:`crop_official` (``'official'``): the official numerics bit for
  bit: uint8 window, mean **truncated** to uint8, OpenCV's fixed-point
  ``INTER_LINEAR`` resize.
"""

import math
from typing import Sequence

import cv2
import numpy as np

from .postprocess import crop_window_origin

#: Range of the 8-bit frames the official crop works on.
UINT8_MAX = 255


def exact_pad_value(frame: np.ndarray) -> np.ndarray:
    """The ``'exact'`` crop's padding: the per-channel frame mean, float32.

    Args:
        frame (np.ndarray): of shape (H, W, C), uint8.

    Returns:
        np.ndarray: of shape (C,), float32.
    """
    pixels = frame.reshape(-1, frame.shape[-1])
    return pixels.mean(axis=0, dtype=np.float64).astype(np.float32)


def crop_exact(
    frame: np.ndarray,
    center: Sequence[float],
    side: float,
    out_size: int,
    pad_value: np.ndarray,
) -> np.ndarray:
    """Exact float SiamFC sub-window (the model's ``crop_siamfc``).

    The window starts at :func:`~mmusot.tracking.postprocess.
    crop_window_origin`; output pixel ``o`` samples window coordinate
    ``min(max((o + 0.5) sz / out - 0.5, 0), sz - 1)`` bilinearly, pixels
    outside the frame being ``pad_value``: the float32 window resized by
    ``cv2.resize`` (``INTER_LINEAR``; for float images its coefficients
    are exactly these, in float arithmetic).

    Args:
        frame (np.ndarray): of shape (H, W, C), uint8 (or float).
        center (Sequence[float]): ``[cx, cy]``, frame pixels.
        side (float): integral crop side ``sz``.
        out_size (int): side of the output patch.
        pad_value (np.ndarray): of shape (C,), float32
            (:func:`exact_pad_value`).

    Returns:
        np.ndarray: of shape (out_size, out_size, C), float32.
    """
    size = _checked_side(center, side, 'exact')
    x0, y0 = (
        int(v)
        for v in crop_window_origin(
            np.asarray(center, dtype=np.float32), np.float32(side)
        )
    )
    # float input: OpenCV's bilinear coefficients are exact floats (the
    # fixed-point path is for 8-bit images only)
    window = _window(frame, x0, y0, size, pad_value, np.float32)
    return _resize(window, out_size)


def _checked_side(center: Sequence[float], side: float, mode: str) -> int:
    """The crop side as an int, after checking the window is finite and
    the side a positive integer."""
    if not all(math.isfinite(float(v)) for v in (*center, side)):
        raise ValueError(
            f'{mode} crop of a non-finite window (centre {list(center)}, '
            f'side {side}): the tracker state is not finite, i.e. the '
            'network returned NaN/inf (untrained or broken weights?)'
        )
    size = int(side)
    if size < 1 or size != side:
        raise ValueError(f'crop side must be a positive integer, got {side}')
    return size


def _window(
    frame: np.ndarray,
    x0: int,
    y0: int,
    size: int,
    pad_value: np.ndarray,
    dtype: type,
) -> np.ndarray:
    """The ``size``-pixel square of ``frame`` at ``(x0, y0)``, ``pad_value``
    outside it, as ``dtype``; only the window is materialised."""
    height, width = frame.shape[:2]
    window = np.empty((size, size, frame.shape[2]), dtype=dtype)
    window[:] = np.asarray(pad_value).astype(dtype)
    xa, xb = max(x0, 0), min(x0 + size, width)
    ya, yb = max(y0, 0), min(y0 + size, height)
    if xa < xb and ya < yb:
        window[ya - y0 : yb - y0, xa - x0 : xb - x0] = frame[ya:yb, xa:xb]
    return window


def _resize(window: np.ndarray, out_size: int) -> np.ndarray:
    """``window`` resized to ``out_size`` (OpenCV ``INTER_LINEAR``)."""
    if window.shape[0] == out_size:
        return window
    return cv2.resize(
        window, (out_size, out_size), interpolation=cv2.INTER_LINEAR
    )


def official_pad_value(frame: np.ndarray) -> np.ndarray:
    """The official padding value: the frame mean truncated to uint8.

    The official tracker computes the per-channel mean in float64 and
    writes it into a uint8 canvas, which truncates (117.8 → 117).

    Args:
        frame (np.ndarray): of shape (H, W, C), uint8.

    Returns:
        np.ndarray: of shape (C,), uint8.
    """
    return np.mean(frame, axis=(0, 1)).astype(np.uint8)


def crop_official(
    frame: np.ndarray,
    center: Sequence[float],
    side: float,
    out_size: int,
    pad_value: np.ndarray,
) -> np.ndarray:
    """The official SiamFC sub-window, bit for bit (uint8, OpenCV).

    The window ``[x0, x0 + sz) × [y0, y0 + sz)`` with ``x0 = round(cx -
    (sz + 1) / 2)`` (halves to even) is an integer slice of the frame
    padded with ``pad_value`` (only the window is materialised, not the
    whole padded canvas), then ``cv2.resize`` with ``INTER_LINEAR`` on
    uint8 (OpenCV's fixed-point path) when ``sz != out_size``; official
    ``get_subwindow_tracking``, ``lib/utils/track_utils.py``.

    Args:
        frame (np.ndarray): of shape (H, W, C), uint8.
        center (Sequence[float]): ``[cx, cy]`` in frame pixels.
        side (float): the crop side ``sz``, an integral value.
        out_size (int): side of the output patch.
        pad_value (np.ndarray): of shape (C,), uint8 (see
            :func:`official_pad_value`).

    Returns:
        np.ndarray: of shape (out_size, out_size, C), uint8.
    """
    size = _checked_side(center, side, 'official')
    x0 = int(round(float(center[0]) - (size + 1) / 2))
    y0 = int(round(float(center[1]) - (size + 1) / 2))
    return _resize(_window(frame, x0, y0, size, pad_value, np.uint8), out_size)
