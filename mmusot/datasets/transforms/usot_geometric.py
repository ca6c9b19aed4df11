# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's geometric augmentations (paper Sec. 4.1, data augmentation).

OpenCV/numpy equivalents of the official imgaug operations (official
``lib/dataset_loader/datasets_usot.py``); boxes follow the image.
"""

from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmtrack.registry import TRANSFORMS

from .usot_frames import BaseUSOTFrameTransform

# Official probabilities and ranges (``lib/dataset_loader/datasets_usot.py``).
HFLIP_PROB = 0.4
VFLIP_PROB = 0.2
TEMPLATE_PERSPECTIVE = (0.01, 0.07)
MEMORY_PERSPECTIVE = (0.01, 0.15)
# A corner never moves past this fraction of the side (keeps the
# quadrilateral convex; imgaug wraps offsets at 1).
MAX_CORNER_OFFSET = 0.45


def _as_boxes(bboxes: Optional[np.ndarray]) -> Optional[np.ndarray]:
    if bboxes is None:
        return None
    return np.asarray(bboxes, np.float32).reshape(-1, 4)


@TRANSFORMS.register_module()
class USOTRandomFlip(BaseUSOTFrameTransform):
    """Independent horizontal and vertical flips per frame.

    The official template and memory augmentations start with ``Fliplr(0.4)``
    and ``Flipud(0.2)``; the search area is never flipped, and the template
    is flipped independently of the memory frames (reference quirk 9).
    Boxes: ``x -> W - x`` (resp. ``y -> H - y``), corners swapped.

    Required Keys:

    - img, gt_bboxes (per-frame lists), aug_seed (optional)

    Modified Keys:

    - img, gt_bboxes

    Args:
        hflip_prob (float): horizontal flip probability. Defaults to 0.4.
        vflip_prob (float): vertical flip probability. Defaults to 0.2.
        roles (Sequence[str]): frames to flip. Defaults to ('template',
            'memory').
    """

    def __init__(
        self,
        hflip_prob: float = HFLIP_PROB,
        vflip_prob: float = VFLIP_PROB,
        roles: Sequence[str] = ('template', 'memory'),
    ) -> None:
        super().__init__(roles)
        for p in (hflip_prob, vflip_prob):
            if not 0 <= p <= 1:
                raise ValueError(f'flip probabilities must be in [0, 1]: {p}')
        self.hflip_prob = hflip_prob
        self.vflip_prob = vflip_prob

    def transform_frame(self, img, bboxes, role, rng):
        h, w = img.shape[:2]
        boxes = _as_boxes(bboxes)
        hflip = rng.random() < self.hflip_prob
        vflip = rng.random() < self.vflip_prob
        if hflip:
            img = np.ascontiguousarray(img[:, ::-1])
            if boxes is not None:
                boxes = boxes.copy()
                boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
        if vflip:
            img = np.ascontiguousarray(img[::-1])
            if boxes is not None:
                boxes = boxes.copy()
                boxes[:, [1, 3]] = h - boxes[:, [3, 1]]
        return img, boxes

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(hflip_prob={self.hflip_prob}, '
            f'vflip_prob={self.vflip_prob}, roles={self.roles})'
        )


@TRANSFORMS.register_module()
class USOTPerspective(BaseUSOTFrameTransform):
    """Random 4-point perspective warp (imgaug ``PerspectiveTransform``).

    Per frame, ``sigma = U(lo, hi)`` of the role; each corner of the frame
    moves inward by ``|N(0, sigma)|`` times the side, per axis (at most
    0.45), and the quadrilateral they span is warped onto the whole patch
    (bilinear, border 0), as imgaug's ``keep_size=True`` does. Boxes become
    the bounds of their warped corners.

    Required Keys:

    - img, gt_bboxes (per-frame lists), aug_seed (optional)

    Modified Keys:

    - img, gt_bboxes

    Args:
        scale (dict, optional): role -> ``(lo, hi)`` range of sigma, as a
            fraction of the side; its keys are the roles transformed.
            Defaults to ``dict(template=(0.01, 0.07), memory=(0.01,
            0.15))``.
    """

    def __init__(self, scale: Optional[Dict[str, Tuple]] = None) -> None:
        if scale is None:
            scale = dict(
                template=TEMPLATE_PERSPECTIVE, memory=MEMORY_PERSPECTIVE
            )
        super().__init__(tuple(scale))
        self.scale = {}
        for role, rng_range in scale.items():
            lo, hi = (float(v) for v in rng_range)
            if not 0 <= lo <= hi:
                raise ValueError(
                    f'USOTPerspective {role}: need 0 <= lo <= hi, got '
                    f'{rng_range}'
                )
            self.scale[role] = (lo, hi)

    @staticmethod
    def homography(
        img_hw: Tuple[int, int], sigma: float, rng: np.random.Generator
    ) -> np.ndarray:
        """The 3x3 map from the jittered quadrilateral to the full patch."""
        h, w = img_hw
        off = np.minimum(
            np.abs(rng.normal(0.0, sigma, (4, 2))), MAX_CORNER_OFFSET
        )
        off = off * [w, h]
        src = np.array(
            [
                [off[0, 0], off[0, 1]],
                [w - off[1, 0], off[1, 1]],
                [w - off[2, 0], h - off[2, 1]],
                [off[3, 0], h - off[3, 1]],
            ],
            np.float32,
        )
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        return cv2.getPerspectiveTransform(src, dst)

    def transform_frame(self, img, bboxes, role, rng):
        lo, hi = self.scale[role]
        h, w = img.shape[:2]
        matrix = self.homography((h, w), rng.uniform(lo, hi), rng)
        img = cv2.warpPerspective(
            img,
            matrix,
            (w, h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        boxes = _as_boxes(bboxes)
        if boxes is not None and len(boxes):
            x1, y1, x2, y2 = boxes.T
            corners = np.stack(
                [
                    np.stack([x1, y1], 1),
                    np.stack([x2, y1], 1),
                    np.stack([x2, y2], 1),
                    np.stack([x1, y2], 1),
                ],
                1,
            ).astype(np.float64)  # (K, 4, 2)
            warped = cv2.perspectiveTransform(
                corners.reshape(-1, 1, 2), matrix
            ).reshape(-1, 4, 2)
            boxes = np.concatenate(
                [warped.min(1), warped.max(1)], axis=1
            ).astype(np.float32)
        return img, boxes

    def __repr__(self) -> str:
        return f'{type(self).__name__}(scale={self.scale})'
