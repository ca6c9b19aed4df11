# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Frame roles and per-frame randomness shared by the USOT transforms.

USOT samples are per-frame lists in the order [template, search,
memory_1 .. memory_M] (:class:`~mmusot.datasets.PseudoLabelSOTDataset`);
the transforms act on frames by role, as the official loader augments the
template, the search area and the memory search areas differently
(paper Sec. 4.1; official ``lib/dataset_loader/datasets_usot.py``).

Frame files: :func:`frame_file_size` reads a frame's size from its header
and :class:`FrameCheckingCompose` turns a pipeline failure caused by an
unreadable frame (corrupt, truncated to nothing, missing) into an error
that names the frame file.
"""

import os.path as osp
import zlib
from typing import Any, Iterable, List, Optional, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose

from ...pseudo_labels.video_io import VideoReadError

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


def frame_file_size(path: str) -> Optional[Tuple[int, int]]:
    """(W, H) of an image file from its header (no full decode).

    Args:
        path (str): the image file.

    Returns:
        tuple[int, int], optional: the size, or None when the file is
        missing or its header cannot be read.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with mmcv
        img = cv2.imread(path)
        return None if img is None else (img.shape[1], img.shape[0])
    try:
        with Image.open(path) as img:
            return int(img.size[0]), int(img.size[1])
    except (OSError, ValueError, SyntaxError):
        return None


def frame_file_problem(path: str) -> Optional[str]:
    """Why a local frame file cannot be loaded, or None when it decodes.

    Args:
        path (str): the frame file.

    Returns:
        str, optional: 'file not found', 'empty file (0 bytes)' or 'not
        a decodable image (...)'; None for a good image or a non-local
        path (``scheme://...``), which is not checked here.
    """
    if '://' in path:
        return None
    if not osp.isfile(path):
        return 'file not found'
    size = osp.getsize(path)
    if size == 0:
        return 'empty file (0 bytes)'
    data = np.fromfile(path, np.uint8)
    if cv2.imdecode(data, cv2.IMREAD_COLOR) is None:
        return f'not a decodable image ({size} bytes: corrupt or truncated)'
    return None


def frame_paths(data: Any) -> List[str]:
    """The frame files named by a pipeline input, in order.

    Args:
        data: a dataset sample (dict with ``img_path`` (str or list) or
            ``img_paths`` (list)), or a list of them (mmtrack's pairs).

    Returns:
        list[str]: the paths, without repeats.
    """
    found: List[str] = []
    items = data if isinstance(data, (list, tuple)) else [data]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in ('img_path', 'img_paths'):
            value = item.get(key)
            if isinstance(value, str):
                value = [value]
            if isinstance(value, (list, tuple)):
                found += [v for v in value if isinstance(v, str)]
    return list(dict.fromkeys(found))


class FrameCheckingCompose(Compose):
    """mmengine's ``Compose`` that names the frame file behind a failure.

    A corrupt or empty frame makes ``LoadImageFromFile`` fail deep in the
    pipeline (``'NoneType' object has no attribute 'shape'``, or OpenCV's
    ``!buf.empty()``). When any transform raises, the frames named by the
    input (:func:`frame_paths`) are checked (only then, so a good sample
    costs nothing) and the first unreadable one is reported as a
    :class:`~mmusot.pseudo_labels.VideoReadError` chained to the original
    error; when all frames decode, the original error propagates.
    """

    def __call__(self, data: Any) -> Any:
        paths = frame_paths(data)
        try:
            return super().__call__(data)
        except Exception as err:
            for path in paths:
                problem = frame_file_problem(path)
                if problem is not None:
                    raise VideoReadError(
                        f'{path}: training frame cannot be loaded: '
                        f"{problem}. Re-create it (delete the video's "
                        'status/<video>.json in the data root and run the '
                        'converter again) or remove its track from the '
                        'infos file'
                    ) from err
            raise
