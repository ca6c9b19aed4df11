# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's 511 SiamFC crops and their shift/scale crops (paper Sec. 4.1)."""

from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmtrack.datasets.transforms import CropLikeSiamFC
from mmtrack.registry import TRANSFORMS
from mmtrack.utils import crop_image

from .usot_frames import FRAME_ROLES, frame_rng, frame_role, transform_salt

# Official patch sizes and jitter (``lib/dataset_loader/datasets_usot.py``,
# ``experiments/train/USOT.yaml``): side in pixels, SHIFT in pixels of the
# 511 crop, SCALE as a relative jitter.
TEMPLATE_CROP = dict(size=127, shift=4, scale=0.05)
SEARCH_CROP = dict(size=255, shift=64, scale=0.18)
MEMORY_CROP = dict(size=255, shift=64, scale=0.18)
#: Keys of a role's crop settings (``zoom`` and ``label_shift``: opt-in).
CROP_KEYS = ('size', 'shift', 'scale', 'zoom', 'label_shift')
#: ``label_shift``: the official source-pixel shift, or the exact one.
LABEL_SHIFT_MODES = ('official', 'exact')


def mean_colour(image: np.ndarray) -> list:
    """Per-channel mean of an image, as ``np.mean(image, axis=(0, 1))``.

    For integer images the channel sums are exact in float64 whatever the
    summation order (below 2**53), so OpenCV's ``sumElems`` divided by the
    pixel count gives the very same float64 as numpy's mean, about 100x
    faster on a 1280x720 frame (numpy reduces over the non-contiguous
    axes). Other dtypes, or more than 4 channels, use numpy.

    Args:
        image (np.ndarray): (H, W, C) image.

    Returns:
        list[float]: C channel means.
    """
    height, width = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    if image.dtype not in (np.uint8, np.uint16) or channels > 4:
        return np.mean(image, axis=(0, 1)).tolist()
    sums = cv2.sumElems(image)
    return [sums[c] / (height * width) for c in range(channels)]


@TRANSFORMS.register_module()
class USOTCropLikeSiamFC(CropLikeSiamFC):
    """mmtrack's ``CropLikeSiamFC`` with a fast mean-colour padding.

    The same 511 crop, byte for byte (the window of SiamFC: context
    ``context_amount * (w + h)``, side ``sqrt(w_z h_z) + 2 (crop_size -
    exemplar_size) / 2 / (exemplar_size / sqrt(w_z h_z))``, padded with
    the image's mean colour); only the mean is computed with
    :func:`mean_colour`. numpy's mean over a full-size frame was two thirds
    of the data loading of a USOT sample (official ``par_crop.py``
    crops every frame so). Arguments as ``CropLikeSiamFC``.
    """

    def crop_like_SiamFC(
        self,
        image: np.ndarray,
        bbox: Sequence[float],
        context_amount: float = 0.5,
        exemplar_size: int = 127,
        crop_size: int = 511,
    ) -> np.ndarray:
        """The ``crop_size`` SiamFC crop around an xyxy box."""
        cx, cy = 0.5 * (bbox[2] + bbox[0]), 0.5 * (bbox[3] + bbox[1])
        w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
        context = context_amount * (w + h)
        z_size = np.sqrt((w + context) * (h + context))
        pad = ((crop_size - exemplar_size) / 2.0) / (exemplar_size / z_size)
        half = 0.5 * (z_size + 2 * pad)
        window = np.array([cx - half, cy - half, cx + half, cy + half])
        return crop_image(image, window, crop_size, mean_colour(image))


@TRANSFORMS.register_module()
class USOTShiftScaleCrop(BaseTransform):
    """Random shift/scale crop of each frame to its role's patch size.

    USOT crops the template (127), the search area (255) and the memory
    search areas (255) out of the 511 SiamFC crops (official
    ``lib/dataset_loader/datasets_usot.py``), per frame:

    * window: centred at ``(W // 2, H // 2)`` (255, 255); its side is
      ``(size - 1) * s`` per axis so that the warp below maps the window's
      first and last pixel onto the patch's (x1 → 0, x2 → size - 1);
    * scale: ``s_x, s_y = 1 + U(-1, 1) * scale``, drawn independently per
      axis and capped at ``W / (size - 1)``, ``H / (size - 1)``;
    * shift: ``t_x, t_y = U(-1, 1) * shift``, clamped so that the window
      stays inside ``[0, W - 1] x [0, H - 1]``;
    * the window is warped affinely to ``size x size`` (bilinear,
      constant border 0: the 511 crop already holds the mean padding);
    * the box is mapped as ``(box - window top-left) / (s_x, s_y)``, so
      with the warp above it lands exactly where the image content does.

    The applied shift ``(t_x, t_y)`` (after clamping; with the default
    settings clamping never happens for the search and memory areas) is
    recorded per frame in ``crop_shift``; :class:`PackUSOTInputs` writes
    the search frame's as ``search_shift``, which the model uses for the
    classification label centre ``12 + trunc(-t / 8)``.

    Two opt-in keys per role go beyond the official recipe (both off by
    default, and then the draws are the official ones, number for number):

    * ``zoom`` (float >= 1): a common zoom ``z = exp(U(-1, 1) ln zoom)``
      multiplies ``(s_x, s_y)`` (before the cap), so the target's size in
      the patch varies over ``[1 / zoom, zoom]`` times its usual size, not
      only the official ``± scale``. With the official range the
      regression can predict the usual size and be at most ~18 % off; a
      tracker trained so does not learn to measure size and its box drifts
      (``tools/analysis/size_response.py`` measures this). Drawn after the
      official numbers, only when ``zoom > 1``.
    * ``label_shift``: ``'official'`` records the shift in source pixels,
      as the official code (the label centre then ignores the scale: up to
      1.8 cells off with the official ranges, more with a zoom);
      ``'exact'`` records ``t / s``, the target centre's displacement in
      patch pixels, so the label centre follows the target.

    Required Keys:

    - img (list[np.ndarray]): per-frame (511, 511, 3) crops.
    - gt_bboxes (list[np.ndarray]): per-frame (1, 4) float32 xyxy, crop
      pixels.
    - aug_seed (list[int], optional): per-frame seeds.

    Modified Keys:

    - img: (size, size, 3) uint8 patches.
    - gt_bboxes: in patch pixels (not clipped).
    - img_shape (optional): (size, size).

    Added Keys:

    - crop_shift (list[np.ndarray]): (2,) float32 ``(t_x, t_y)``, crop
      pixels.
    - crop_scale (list[np.ndarray]): (2,) float32 ``(s_x, s_y)``.

    Args:
        template (dict, optional): ``size``, ``shift``, ``scale`` of the
            template (frame 0). Defaults to ``dict(size=127, shift=4,
            scale=0.05)``.
        search (dict, optional): of the search area (frame 1). Defaults to
            ``dict(size=255, shift=64, scale=0.18)``.
        memory (dict, optional): of the memory search areas (frames 2..).
            Defaults to ``dict(size=255, shift=64, scale=0.18)``.

        Each dict may also set ``zoom`` (default 1.0, off) and
        ``label_shift`` (default ``'official'``), see above.
    """

    def __init__(
        self,
        template: Optional[dict] = None,
        search: Optional[dict] = None,
        memory: Optional[dict] = None,
    ) -> None:
        given = dict(template=template, search=search, memory=memory)
        defaults = dict(
            template=TEMPLATE_CROP, search=SEARCH_CROP, memory=MEMORY_CROP
        )
        self.crops: Dict[str, dict] = {}
        for role in FRAME_ROLES:
            cfg = dict(defaults[role])
            cfg.update(given[role] or {})
            cfg.setdefault('zoom', 1.0)
            cfg.setdefault('label_shift', 'official')
            unknown = set(cfg) - set(CROP_KEYS)
            if unknown:
                raise ValueError(
                    f'USOTShiftScaleCrop {role}: unknown key(s) '
                    f'{sorted(unknown)}; use {", ".join(CROP_KEYS)}'
                )
            if (
                int(cfg['size']) < 2
                or cfg['shift'] < 0
                or cfg['scale'] < 0
                or not cfg['zoom'] >= 1
            ):
                raise ValueError(
                    f'USOTShiftScaleCrop {role}: need size >= 2, shift >= '
                    f'0, scale >= 0 and zoom >= 1, got {cfg}'
                )
            if cfg['label_shift'] not in LABEL_SHIFT_MODES:
                raise ValueError(
                    f'USOTShiftScaleCrop {role}: label_shift must be one '
                    f'of {LABEL_SHIFT_MODES}, got {cfg["label_shift"]!r}'
                )
            self.crops[role] = dict(
                size=int(cfg['size']),
                shift=float(cfg['shift']),
                scale=float(cfg['scale']),
                zoom=float(cfg['zoom']),
                label_shift=cfg['label_shift'],
            )
        self.salt = transform_salt(type(self).__name__)

    @staticmethod
    def crop_window(
        img_hw: Tuple[int, int],
        size: int,
        shift: float,
        scale: float,
        rng: np.random.Generator,
        zoom: float = 1.0,
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw one crop window (see the class docstring).

        Args:
            img_hw (tuple[int, int]): (H, W) of the source crop.
            size (int): patch side in pixels.
            shift (float): largest shift in pixels.
            scale (float): largest relative scale change.
            rng (np.random.Generator): the generator.
            zoom (float): largest common zoom factor (1: none, official).

        Returns:
            tuple[np.ndarray, np.ndarray, np.ndarray]: the window (4,) xyxy
            in source pixels, the scale (2,) ``(s_x, s_y)`` and the applied
            shift (2,) ``(t_x, t_y)``, float64.
        """
        im_h, im_w = img_hw
        side = size - 1
        s = 1.0 + rng.uniform(-1.0, 1.0, 2) * scale
        t = rng.uniform(-1.0, 1.0, 2) * shift
        if zoom > 1.0:
            s = s * np.exp(rng.uniform(-1.0, 1.0) * np.log(zoom))
        s = np.minimum(s, [im_w / side, im_h / side])
        w, h = side * s
        x1 = im_w // 2 - w / 2
        y1 = im_h // 2 - h / 2
        t[0] = max(-x1, min(im_w - 1 - (x1 + w), t[0]))
        t[1] = max(-y1, min(im_h - 1 - (y1 + h), t[1]))
        x1, y1 = x1 + t[0], y1 + t[1]
        window = np.array([x1, y1, x1 + w, y1 + h])
        return window, s, t

    @staticmethod
    def apply_window(
        img: np.ndarray,
        bboxes: np.ndarray,
        window: np.ndarray,
        scale: np.ndarray,
        size: int,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Warp ``window`` to ``size x size`` and map the boxes.

        Args:
            img (np.ndarray): (H, W, 3) source image.
            bboxes (np.ndarray): (K, 4) xyxy in source pixels.
            window (np.ndarray): (4,) xyxy window in source pixels.
            scale (np.ndarray): (2,) ``(s_x, s_y)``.
            size (int): patch side.

        Returns:
            tuple[np.ndarray, np.ndarray]: the (size, size, 3) patch and the
            (K, 4) float32 boxes in patch pixels.
        """
        a, b = 1.0 / scale[0], 1.0 / scale[1]
        mapping = np.array(
            [[a, 0.0, -a * window[0]], [0.0, b, -b * window[1]]], np.float64
        )
        patch = cv2.warpAffine(
            img,
            mapping,
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )
        boxes = np.asarray(bboxes, np.float64).reshape(-1, 4)
        offset = np.array([window[0], window[1], window[0], window[1]])
        div = np.array([scale[0], scale[1], scale[0], scale[1]])
        return patch, ((boxes - offset) / div).astype(np.float32)

    def transform(self, results: dict) -> dict:
        imgs = results.get('img')
        boxes = results.get('gt_bboxes')
        if not isinstance(imgs, list) or not isinstance(boxes, list):
            raise TypeError(
                'USOTShiftScaleCrop works on per-frame lists of img and '
                'gt_bboxes (a USOT sample)'
            )
        out_imgs, out_boxes, shifts, scales = [], [], [], []
        for i, (img, box) in enumerate(zip(imgs, boxes)):
            cfg = self.crops[frame_role(i)]
            rng = frame_rng(results, i, self.salt)
            window, s, t = self.crop_window(
                img.shape[:2],
                cfg['size'],
                cfg['shift'],
                cfg['scale'],
                rng,
                cfg['zoom'],
            )
            patch, box = self.apply_window(img, box, window, s, cfg['size'])
            out_imgs.append(patch)
            out_boxes.append(box)
            if cfg['label_shift'] == 'exact':
                t = t / s
            shifts.append(t.astype(np.float32))
            scales.append(s.astype(np.float32))
        results['img'] = out_imgs
        results['gt_bboxes'] = out_boxes
        if 'img_shape' in results:
            results['img_shape'] = [im.shape[:2] for im in out_imgs]
        results['crop_shift'] = shifts
        results['crop_scale'] = scales
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.crops})'
