# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""SiamFC/Ocean sub-window crops for USOT inference.

The official tracker (``get_subwindow_tracking`` in
``lib/utils/track_utils.py``) cuts a square window of integral side ``sz``
around the target, fills what lies outside the frame with the frame's
per-channel mean and resizes the window with ``cv2.resize``. Two
implementations of that crop are offered (``test_cfg.crop_mode``); their
geometry (window origin, target box in the crop) is the torch-free
:mod:`mmusot.tracking.postprocess`:

* :func:`crop_siamfc` (``'exact'``, the default): an exact float bilinear
  sample of the window (OpenCV's half-pixel geometry) with a float mean
  padding, one ``grid_sample`` on the model's device, nothing read back to
  the host. It is the more accurate crop and the fast one, but it is not
  the official crop: it differs from it by up to ~1.6 grey levels.
* :func:`crop_official` (``'official'``): the official numerics, bit for
  bit: a uint8 window, padding with the mean **truncated** to uint8, and
  OpenCV's 8-bit fixed-point ``INTER_LINEAR`` resize, so the patch is
  integer valued. It runs on the host (one device → host copy of each
  frame) and is slower; use it to reproduce the official trajectories
  and published numbers with the released weights.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...tracking.crops import (  # noqa: F401  (re-exported)
    UINT8_MAX,
    crop_official,
    official_pad_value,
)
from ...tracking.postprocess import (  # noqa: F401  (re-exported)
    box_in_crop,
    crop_window_origin,
    python2round,
)
from ...tracking.state import CROP_MODES  # noqa: F401  (re-exported)


def crop_siamfc(
    img: Tensor, center: Tensor, side: Tensor, out_size: int, pad_value: Tensor
) -> Tensor:
    """Exact float SiamFC sub-window: mean padding, bilinear resize.

    The window of :func:`crop_window_origin` and integral side ``sz`` is
    sampled from the frame padded with ``pad_value`` and resized to
    ``out_size`` with OpenCV's bilinear geometry (half-pixel centres,
    source coordinates clamped to the window), all in float, in one
    ``grid_sample``. This is the exact bilinear resize of the official
    window, **not** the official crop itself: that one is computed on
    uint8 (truncated mean padding, OpenCV's fixed-point resize, see
    :func:`crop_official`) and differs by up to ~1.6 grey levels. Works
    on any device; no value is read back to the host.

    Args:
        img (Tensor): of shape (1, C, H, W), the frame.
        center (Tensor): of shape (K, 2) as ``[cx, cy]``, frame pixels.
        side (Tensor): of shape (K,), integral crop sides in frame pixels.
        out_size (int): side of the output patches.
        pad_value (Tensor): of shape (C,), the value outside the frame.

    Returns:
        Tensor: of shape (K, C, out_size, out_size), same dtype as ``img``.
    """
    if img.dim() != 4 or img.size(0) != 1:
        raise ValueError(
            f'img must be of shape (1, C, H, W), got {tuple(img.shape)}'
        )
    num = center.size(0)
    height, width = img.shape[-2:]
    coord_dtype = (
        torch.float32 if img.dtype != torch.float64 else torch.float64
    )
    center = center.to(coord_dtype)
    side = side.to(coord_dtype)
    origin = crop_window_origin(center, side)  # (K, 2)
    steps = torch.arange(out_size, device=img.device, dtype=coord_dtype)
    # OpenCV INTER_LINEAR: src = (dst + 0.5) * scale - 0.5, clamped.
    src = (steps[None] + 0.5) * (side[:, None] / out_size) - 0.5  # (K, O)
    src = torch.minimum(src.clamp(min=0), (side[:, None] - 1))
    xs = src + origin[:, 0:1]
    ys = src + origin[:, 1:2]
    # align_corners=True: -1 and 1 are the centres of the border pixels;
    # zero padding beyond them equals padding (img - pad) with zeros.
    gx = xs * (2.0 / max(width - 1, 1)) - 1.0
    gy = ys * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack(
        (
            gx[:, None, :].expand(num, out_size, out_size),
            gy[:, :, None].expand(num, out_size, out_size),
        ),
        dim=-1,
    )
    pad = pad_value.to(img.dtype).view(1, -1, 1, 1)
    src_img = (img - pad).to(coord_dtype).expand(num, -1, -1, -1)
    patch = F.grid_sample(
        src_img,
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=True,
    )
    return (patch + pad.to(coord_dtype)).to(img.dtype)


def frame_to_uint8(img: Tensor, check: bool = True) -> np.ndarray:
    """A (1, C, H, W) 0-255 frame as the official crop sees it.

    Args:
        img (Tensor): of shape (1, C, H, W), BGR, integral values in
            [0, 255] (an 8-bit image after ``TrackDataPreprocessor``
            without normalisation), any device and dtype.
        check (bool): verify that the values are integral and in range.
            Defaults to True.

    Returns:
        np.ndarray: of shape (H, W, C), uint8, C-contiguous, on the host.

    Raises:
        ValueError: when ``check`` and a value is not an integer in
            [0, 255] (normalised or resized frames cannot be cropped the
            official way).
    """
    if img.dim() != 4 or img.size(0) != 1:
        raise ValueError(
            f'img must be of shape (1, C, H, W), got {tuple(img.shape)}'
        )
    if check and (
        bool((img != torch.round(img)).any())
        or bool(img.min() < 0)
        or bool(img.max() > UINT8_MAX)
    ):
        raise ValueError(
            "crop_mode='official' needs 8-bit frames: integral values in "
            f'[0, {UINT8_MAX}] (BGR as loaded by LoadImageFromFile, no '
            'normalisation); got values '
            f'{float(img.min()):g}..{float(img.max()):g}'
            + (
                ''
                if bool((img == torch.round(img)).all())
                else ', not all integral'
            )
        )
    # to uint8 first (on the frame's device), then the HWC copy on bytes
    frame = img[0].round().clamp_(0, UINT8_MAX).to(torch.uint8)
    return frame.permute(1, 2, 0).contiguous().cpu().numpy()


def patch_to_tensor(patch: np.ndarray, device: torch.device) -> Tensor:
    """An (S, S, C) uint8 patch as a (1, C, S, S) float32 network input."""
    return torch.from_numpy(patch).to(device).permute(2, 0, 1)[None].float()
