# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Frame roles and per-frame randomness shared by the USOT transforms.

USOT samples are per-frame lists in the order [template, search,
memory_1 .. memory_M] (:class:`~mmusot.datasets.PseudoLabelSOTDataset`);
the transforms act on frames by role, as the official loader augments the
template, the search area and the memory search areas differently
(paper Sec. 4.1; official ``lib/dataset_loader/datasets_usot.py``).
"""

import zlib
from typing import Iterable, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

FRAME_ROLES = ('template', 'search', 'memory')
_SEED_HIGH = 2**31 - 1


def frame_role(position: int) -> str:
    """The role of the frame at ``position`` of a USOT sample.

    Args:
        position (int): index in the per-frame lists.

    Returns:
        str: 'template' (0), 'search' (1) or 'memory' (2 and more).
    """
    if position < 0:
        raise ValueError(f'frame position must be >= 0, got {position}')
    return FRAME_ROLES[min(position, 2)]


def check_roles(roles: Iterable[str], owner: str) -> Tuple[str, ...]:
    """Validate a ``roles`` argument; returns it as a tuple."""
    if isinstance(roles, str):
        roles = (roles,)
    roles = tuple(roles)
    unknown = [r for r in roles if r not in FRAME_ROLES]
    if unknown or not roles:
        raise ValueError(
            f'{owner}: roles must be a non-empty subset of {FRAME_ROLES}, '
            f'got {roles}'
        )
    return roles


def frame_rng(results: dict, position: int, salt: int) -> np.random.Generator:
    """The generator of one transform on one frame.

    Seeded from the frame's ``aug_seed`` (written by the dataset, which
    follows mmengine's seed and the epoch) and the transform's ``salt``, so
    transforms draw independently of each other and a sample is
    reproducible. Without ``aug_seed`` the seed comes from numpy's global
    generator (which mmengine seeds per worker).

    Args:
        results (dict): the sample.
        position (int): the frame's index.
        salt (int): a per-transform constant.

    Returns:
        np.random.Generator: a fresh generator.
    """
    seeds = results.get('aug_seed')
    if seeds is None:
        base = int(np.random.randint(0, _SEED_HIGH))
    else:
        base = int(seeds[position])
    return np.random.default_rng([base, salt])


def transform_salt(name: str) -> int:
    """A stable per-transform salt (CRC-32 of its name)."""
    return zlib.crc32(name.encode())


class BaseUSOTFrameTransform(BaseTransform):
    """Apply :meth:`transform_frame` to the frames whose role is selected.

    Required Keys:

    - img (list[np.ndarray]): per-frame (H, W, 3) images.
    - gt_bboxes (list[np.ndarray], optional): per-frame (1, 4) xyxy boxes
      in image pixels.
    - aug_seed (list[int], optional): per-frame seeds.

    Modified Keys:

    - img
    - gt_bboxes (geometric transforms)

    Args:
        roles (Sequence[str]): roles to transform, among 'template',
            'search' and 'memory'.
    """

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = check_roles(roles, type(self).__name__)
        self.salt = transform_salt(type(self).__name__)

    def transform_frame(
        self,
        img: np.ndarray,
        bboxes: Optional[np.ndarray],
        role: str,
        rng: np.random.Generator,
    ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Transform one frame.

        Args:
            img (np.ndarray): (H, W, 3) uint8 BGR image.
            bboxes (np.ndarray, optional): (K, 4) float32 xyxy, pixels.
            role (str): the frame's role.
            rng (np.random.Generator): the frame's generator.

        Returns:
            tuple: the image and the boxes.
        """
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        imgs = results.get('img')
        if not isinstance(imgs, list):
            raise TypeError(
                f'{type(self).__name__} works on per-frame lists (a USOT '
                f'sample); results["img"] is {type(imgs).__name__}'
            )
        boxes = results.get('gt_bboxes')
        new_imgs, new_boxes = (
            list(imgs),
            None if boxes is None else list(boxes),
        )
        for i, img in enumerate(imgs):
            role = frame_role(i)
            if role not in self.roles:
                continue
            rng = frame_rng(results, i, self.salt)
            box = None if boxes is None else boxes[i]
            img, box = self.transform_frame(img, box, role, rng)
            new_imgs[i] = img
            if new_boxes is not None:
                new_boxes[i] = box
        results['img'] = new_imgs
        if new_boxes is not None:
            results['gt_bboxes'] = new_boxes
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(roles={self.roles})'
