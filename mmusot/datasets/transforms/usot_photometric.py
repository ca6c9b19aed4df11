# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's photometric augmentations (paper Sec. 4.1, data augmentation).

OpenCV/numpy equivalents of the official imgaug operations (official
``lib/dataset_loader/datasets_usot.py``); exact parity with imgaug is not
needed (random augmentation). Images stay uint8 BGR; boxes are unchanged.
"""

from typing import Sequence, Tuple

import cv2
import numpy as np
from mmtrack.registry import TRANSFORMS

from .usot_frames import BaseUSOTFrameTransform

# Official values (``lib/dataset_loader/datasets_usot.py``).
DROPOUT_PROB_RANGE = (0.0, 0.05)
DROPOUT_SIZE_PERCENT = 0.15
DROPOUT_PER_CHANNEL_PROB = 0.5
SALT_PEPPER_PROB = 0.05
SALT_FRACTION = 0.5  # salt (255) vs pepper (0), equally likely
MULTIPLY_RANGE = (0.5, 1.5)
BLUR_KERNEL_RANGE = (3, 9)
BLUR_ANGLES = (-60.0, 60.0)
BLUR_DIRECTION_RANGE = (-1.0, 1.0)
HUE_PERIOD = 180  # OpenCV's 8-bit hue range


def _check_range(name: str, value: Sequence[float]) -> Tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if lo > hi:
        raise ValueError(f'{name}: need lo <= hi, got {value}')
    return lo, hi


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class USOTCoarseDropout(BaseUSOTFrameTransform):
    """Coarse dropout (imgaug ``CoarseDropout((0, 0.05), size_percent=0.15,
    per_channel=0.5)``).

    Per frame: a drop probability ``p = U(lo, hi)``; a keep mask of
    Bernoulli(1 - p) at ``size_percent`` of the resolution (one mask per
    channel with probability ``per_channel_prob``, else shared), enlarged
    with nearest-neighbour interpolation; dropped pixels become 0.

    Required Keys:

    - img (per-frame list), aug_seed (optional)

    Modified Keys:

    - img

    Args:
        prob_range (tuple[float, float]): range of p. Defaults to (0,
            0.05).
        size_percent (float): mask resolution relative to the image.
            Defaults to 0.15.
        per_channel_prob (float): probability of per-channel masks.
            Defaults to 0.5.
        roles (Sequence[str]): Defaults to ('template',).
    """

    def __init__(
        self,
        prob_range: Tuple[float, float] = DROPOUT_PROB_RANGE,
        size_percent: float = DROPOUT_SIZE_PERCENT,
        per_channel_prob: float = DROPOUT_PER_CHANNEL_PROB,
        roles: Sequence[str] = ('template',),
    ) -> None:
        super().__init__(roles)
        self.prob_range = _check_range('prob_range', prob_range)
        if not 0 < size_percent <= 1:
            raise ValueError(f'size_percent must be in (0, 1]: {size_percent}')
        self.size_percent = size_percent
        self.per_channel_prob = per_channel_prob

    def transform_frame(self, img, bboxes, role, rng):
        h, w, c = img.shape
        p = rng.uniform(*self.prob_range)
        mh = max(1, int(round(h * self.size_percent)))
        mw = max(1, int(round(w * self.size_percent)))
        channels = c if rng.random() < self.per_channel_prob else 1
        keep = (rng.random((mh, mw, channels)) >= p).astype(np.uint8)
        keep = cv2.resize(keep, (w, h), interpolation=cv2.INTER_NEAREST)
        keep = keep.reshape(h, w, -1)
        return img * keep, bboxes

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(prob_range={self.prob_range}, '
            f'size_percent={self.size_percent}, '
            f'per_channel_prob={self.per_channel_prob}, roles={self.roles})'
        )


@TRANSFORMS.register_module()
class USOTSaltPepper(BaseUSOTFrameTransform):
    """Salt-and-pepper noise (imgaug ``SaltAndPepper(0.05,
    per_channel=True)``): each pixel channel becomes 0 or 255 (equally
    likely) with probability ``prob``.

    Required Keys:

    - img (per-frame list), aug_seed (optional)

    Modified Keys:

    - img

    Args:
        prob (float): replacement probability. Defaults to 0.05.
        roles (Sequence[str]): Defaults to ('template',).
    """

    def __init__(
        self,
        prob: float = SALT_PEPPER_PROB,
        roles: Sequence[str] = ('template',),
    ) -> None:
        super().__init__(roles)
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1]: {prob}')
        self.prob = prob

    def transform_frame(self, img, bboxes, role, rng):
        replace = rng.random(img.shape) < self.prob
        salt = rng.random(img.shape) < SALT_FRACTION
        out = img.copy()
        out[replace] = np.where(salt[replace], 255, 0).astype(img.dtype)
        return out, bboxes

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, roles={self.roles})'


@TRANSFORMS.register_module()
class USOTHueSaturation(BaseUSOTFrameTransform):
    """Multiply hue and saturation by independent factors (imgaug
    ``MultiplyHueAndSaturation((0.5, 1.5), per_channel=True)``).

    In OpenCV's 8-bit HSV: ``H <- (H * m_h) mod 180``, ``S <- clip(S *
    m_s)``, with ``m_h, m_s = U(lo, hi)`` drawn independently.

    Required Keys:

    - img (per-frame list), aug_seed (optional)

    Modified Keys:

    - img

    Args:
        hue_range (tuple[float, float]): Defaults to (0.5, 1.5).
        saturation_range (tuple[float, float]): Defaults to (0.5, 1.5).
        roles (Sequence[str]): Defaults to ('search', 'memory').
    """

    def __init__(
        self,
        hue_range: Tuple[float, float] = MULTIPLY_RANGE,
        saturation_range: Tuple[float, float] = MULTIPLY_RANGE,
        roles: Sequence[str] = ('search', 'memory'),
    ) -> None:
        super().__init__(roles)
        self.hue_range = _check_range('hue_range', hue_range)
        self.saturation_range = _check_range(
            'saturation_range', saturation_range
        )

    def transform_frame(self, img, bboxes, role, rng):
        m_h = rng.uniform(*self.hue_range)
        m_s = rng.uniform(*self.saturation_range)
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = np.mod(np.rint(hsv[..., 0] * m_h), HUE_PERIOD)
        hsv[..., 1] = hsv[..., 1] * m_s
        return cv2.cvtColor(_to_uint8(hsv), cv2.COLOR_HSV2BGR), bboxes

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(hue_range={self.hue_range}, '
            f'saturation_range={self.saturation_range}, roles={self.roles})'
        )


@TRANSFORMS.register_module()
class USOTBrightness(BaseUSOTFrameTransform):
    """Multiply the brightness (imgaug ``MultiplyBrightness((0.5, 1.5))``).

    The luma channel of YCrCb is multiplied by ``U(lo, hi)`` and clipped.

    Required Keys:

    - img (per-frame list), aug_seed (optional)

    Modified Keys:

    - img

    Args:
        factor_range (tuple[float, float]): Defaults to (0.5, 1.5).
        roles (Sequence[str]): Defaults to ('search', 'memory').
    """

    def __init__(
        self,
        factor_range: Tuple[float, float] = MULTIPLY_RANGE,
        roles: Sequence[str] = ('search', 'memory'),
    ) -> None:
        super().__init__(roles)
        self.factor_range = _check_range('factor_range', factor_range)

    def transform_frame(self, img, bboxes, role, rng):
        factor = rng.uniform(*self.factor_range)
        ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb).astype(np.float32)
        ycc[..., 0] *= factor
        return cv2.cvtColor(_to_uint8(ycc), cv2.COLOR_YCrCb2BGR), bboxes

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(factor_range={self.factor_range}, '
            f'roles={self.roles})'
        )


def motion_blur_kernel(
    size: int, angle: float, direction: float
) -> np.ndarray:
    """A normalised line kernel (imgaug ``MotionBlur``).

    A vertical line through the centre weighted linearly from ``d`` to
    ``1 - d`` (``d = (direction + 1) / 2``, so -1 and 1 put all the weight
    at one end, 0 weights it evenly), rotated by ``angle`` degrees.

    Args:
        size (int): odd kernel side.
        angle (float): rotation in degrees.
        direction (float): in [-1, 1].

    Returns:
        np.ndarray: (size, size) float32 kernel summing to 1.
    """
    d = (float(direction) + 1.0) / 2.0
    kernel = np.zeros((size, size), np.float32)
    kernel[:, size // 2] = np.linspace(d, 1.0 - d, size)
    centre = ((size - 1) / 2.0, (size - 1) / 2.0)
    rot = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (size, size), flags=cv2.INTER_LINEAR)
    total = kernel.sum()
    if total <= 0:  # all weight rotated out: fall back to the identity
        kernel = np.zeros((size, size), np.float32)
        kernel[size // 2, size // 2] = 1.0
        return kernel
    return kernel / total


@TRANSFORMS.register_module()
class USOTMotionBlur(BaseUSOTFrameTransform):
    """Motion blur (imgaug ``MotionBlur(k=(3, 9), angle=[-60, 60],
    direction=(-1, 1))``).

    Kernel side ``k = randint[3, 9]`` (an even k becomes k + 1), angle drawn
    from ``angles`` (imgaug reads a list as a choice), direction
    ``U(-1, 1)``; see :func:`motion_blur_kernel`.

    Required Keys:

    - img (per-frame list), aug_seed (optional)

    Modified Keys:

    - img

    Args:
        kernel_range (tuple[int, int]): inclusive range of k. Defaults to
            (3, 9).
        angles (Sequence[float]): angles in degrees to choose from.
            Defaults to (-60, 60).
        direction_range (tuple[float, float]): Defaults to (-1, 1).
        roles (Sequence[str]): Defaults to ('search', 'memory').
    """

    def __init__(
        self,
        kernel_range: Tuple[int, int] = BLUR_KERNEL_RANGE,
        angles: Sequence[float] = BLUR_ANGLES,
        direction_range: Tuple[float, float] = BLUR_DIRECTION_RANGE,
        roles: Sequence[str] = ('search', 'memory'),
    ) -> None:
        super().__init__(roles)
        lo, hi = (int(v) for v in kernel_range)
        if not 1 <= lo <= hi:
            raise ValueError(f'kernel_range must be 1 <= lo <= hi: {lo, hi}')
        self.kernel_range = (lo, hi)
        self.angles = tuple(float(a) for a in angles)
        if not self.angles:
            raise ValueError('angles must not be empty')
        self.direction_range = _check_range('direction_range', direction_range)

    def transform_frame(self, img, bboxes, role, rng):
        k = int(rng.integers(self.kernel_range[0], self.kernel_range[1] + 1))
        if k % 2 == 0:
            k += 1
        angle = self.angles[int(rng.integers(len(self.angles)))]
        direction = rng.uniform(*self.direction_range)
        kernel = motion_blur_kernel(k, angle, direction)
        out = cv2.filter2D(img.astype(np.float32), -1, kernel)
        return _to_uint8(out), bboxes

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(kernel_range={self.kernel_range}, '
            f'angles={self.angles}, direction_range={self.direction_range}, '
            f'roles={self.roles})'
        )
