# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The official uint8 crop (``crop_mode='official'``) on real frames.

The reference here builds the official padded canvas literally (the whole
frame with top/bottom pads over the image columns, left/right pads over the
full height, the float64 mean written into uint8), slices the window and
resizes it with ``cv2.resize``; :func:`crop_official` materialises only the
window. Both must agree bit for bit.
"""

import cv2
import numpy as np
import pytest
import torch

from mmusot.models.sot.usot_subwindow import (
    crop_official,
    crop_siamfc,
    frame_to_uint8,
    official_pad_value,
    patch_to_tensor,
)
from mmusot.models.sot.usot_tracking import USOTTrackingMixin
from tests.fixtures import require_shared

FRAMES = {
    'Crossing': 'data/sot_eval/Crossing/img/0001.jpg',  # 360 x 240
    'bag': 'data/sot_eval/bag/img/00000001.jpg',  # 480 x 360
}


def reference_crop(img, center, side, out_size):
    """The official sub-window, written out as the reference builds it."""
    avg = np.mean(img, axis=(0, 1))
    rows, cols, channels = img.shape
    xmin = round(center[0] - (side + 1) / 2)
    ymin = round(center[1] - (side + 1) / 2)
    xmax, ymax = xmin + side - 1, ymin + side - 1
    left, top = int(max(0, -xmin)), int(max(0, -ymin))
    right = int(max(0, xmax - cols + 1))
    bottom = int(max(0, ymax - rows + 1))
    canvas = np.zeros(
        (rows + top + bottom, cols + left + right, channels), np.uint8
    )
    canvas[top : top + rows, left : left + cols] = img
    canvas[:top, left : left + cols] = avg  # float64 into uint8: truncated
    canvas[rows + top :, left : left + cols] = avg
    canvas[:, :left] = avg
    canvas[:, cols + left :] = avg
    window = canvas[ymin + top : ymax + top + 1, xmin + left : xmax + left + 1]
    if side == out_size:
        return window
    return cv2.resize(window, (out_size, out_size))


def load(name, flags=cv2.IMREAD_COLOR):
    return cv2.imread(str(require_shared(FRAMES[name])), flags)


WINDOWS = [
    # (center, side, out): inside, partly outside, tiny, huge, outside
    ((180.0, 120.0), 200, 127),  # inside, downscale
    ((180.3, 119.7), 100, 255),  # inside, upscale
    ((10.0, 8.0), 150, 255),  # top-left outside
    ((350.0, 235.0), 123, 127),  # bottom-right outside
    ((180.0, 120.0), 1000, 255),  # window ≫ frame: padded on all sides
    ((50.0, 50.0), 1, 127),  # a single pixel
    ((50.5, 60.5), 2, 127),  # half-pixel centre: round half to even
    ((100.0, 100.0), 3, 255),
    ((200.0, 100.0), 127, 127),  # same size: an integer slice, no resize
    ((-300.0, 500.0), 80, 127),  # entirely outside: all padding
]


@pytest.mark.parametrize('name', list(FRAMES))
@pytest.mark.parametrize('center,side,out', WINDOWS)
def test_official_crop_bit_exact_on_real_frames(name, center, side, out):
    img = load(name)
    pad = official_pad_value(img)
    patch = crop_official(img, center, float(side), out, pad)
    assert patch.dtype == np.uint8 and patch.shape == (out, out, 3)
    assert np.array_equal(patch, reference_crop(img, center, side, out))


def test_official_crop_rejects_bad_windows():
    img = load('Crossing')
    pad = official_pad_value(img)
    with pytest.raises(ValueError, match='non-finite window'):
        crop_official(img, (float('nan'), 10.0), 20.0, 127, pad)
    with pytest.raises(ValueError, match='non-finite window'):
        crop_official(img, (10.0, 10.0), float('inf'), 127, pad)
    for side in (0.0, 20.5):
        with pytest.raises(ValueError, match='positive integer'):
            crop_official(img, (10.0, 10.0), side, 127, pad)


def test_official_pad_value_is_the_truncated_mean():
    frame = np.zeros((1, 5, 3), np.uint8)
    frame[0, :, 0] = [117, 117, 117, 118, 120]  # mean 117.8
    frame[0, :, 1] = [0, 0, 0, 0, 4]  # 0.8
    frame[0, :, 2] = 255
    assert official_pad_value(frame).tolist() == [117, 0, 255]
    assert official_pad_value(frame).dtype == np.uint8
    patch = crop_official(frame, (2.0, 0.0), 9.0, 9, official_pad_value(frame))
    assert patch[0, 0].tolist() == [117, 0, 255]  # a padded pixel


def test_official_crop_of_a_grey_frame():
    # the tracker expands a 1-channel frame to 3 equal channels, as the
    # official reader (cv2.imread in colour) does for a grey image
    grey = load('Crossing', cv2.IMREAD_GRAYSCALE)
    tensor = torch.from_numpy(grey).float()[None, None]
    frame = frame_to_uint8(USOTTrackingMixin._to_bgr(tensor))
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(frame, bgr)
    for center, side, out in WINDOWS[:5]:
        patch = crop_official(
            frame, center, float(side), out, official_pad_value(frame)
        )
        assert np.array_equal(patch, reference_crop(bgr, center, side, out))


def test_frame_to_uint8_checks_8bit_values():
    img = load('bag')
    tensor = torch.from_numpy(img).permute(2, 0, 1).float()[None]
    frame = frame_to_uint8(tensor)
    assert frame.flags['C_CONTIGUOUS'] and np.array_equal(frame, img)
    for bad in (tensor + 0.5, tensor - 1, tensor * 2):
        with pytest.raises(ValueError, match="crop_mode='official'"):
            frame_to_uint8(bad)
    patch = patch_to_tensor(frame[:4, :5], torch.device('cpu'))
    assert patch.dtype == torch.float32 and patch.shape == (1, 3, 4, 5)
    assert torch.equal(patch, tensor[..., :4, :5])


@pytest.mark.parametrize('name', list(FRAMES))
def test_exact_crop_is_close_to_but_not_the_official_crop(name):
    """Why the switch exists: the float crop differs by < 2 grey levels."""
    img = load(name)
    tensor = torch.from_numpy(img).permute(2, 0, 1).float()[None]
    diffs = []
    for center, side, out in WINDOWS[:4]:
        official = crop_official(
            img, center, float(side), out, official_pad_value(img)
        )
        exact = crop_siamfc(
            tensor,
            torch.tensor([center]),
            torch.tensor([float(side)]),
            out,
            tensor.mean(dim=(0, 2, 3)),
        )[0].permute(1, 2, 0)
        diffs.append((exact - torch.from_numpy(official).float()).abs())
    diff = torch.cat([d.flatten() for d in diffs])
    assert diff.max() < 2.0
    assert 0.05 < diff.mean() < 0.6


def test_old_crop_module_is_a_deprecated_alias():
    import importlib

    import mmusot.models.sot.usot_subwindow as subwindow

    with pytest.warns(DeprecationWarning, match='usot_subwindow'):
        old = importlib.reload(
            importlib.import_module('mmusot.models.sot.usot_crop')
        )
    assert old.crop_siamfc is subwindow.crop_siamfc
    assert old.box_in_crop is subwindow.box_in_crop
