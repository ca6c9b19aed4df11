# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A plain folder of OTB-style sequences as an mmtrack SOT dataset."""

import math
import os
import os.path as osp
import re
from typing import List, Optional, Sequence

import numpy as np
from mmtrack.datasets import BaseSOTDataset
from mmtrack.registry import DATASETS

_SEPARATORS = re.compile(r'[,\s]+')


def parse_groundtruth(path: str, sequence: str) -> np.ndarray:
    """Read an OTB ``groundtruth_rect.txt``: one ``x,y,w,h`` per line.

    Values may be separated by commas, spaces or tabs (OTB mixes them).
    Trailing empty lines are ignored; ``nan`` values are kept (the frame
    is marked invalid by :class:`OTBFolderDataset`).

    Args:
        path (str): the file.
        sequence (str): sequence name, for error messages.

    Returns:
        np.ndarray: of shape (N, 4), float64, in ``[x, y, w, h]`` format
        (top-left corner and size, pixels).

    Raises:
        ValueError: if the file is empty, a line does not hold exactly 4
            numbers, or a value is not a number.
    """
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(
            f'Sequence {sequence!r}: ground-truth file {path} is empty'
        )
    boxes = []
    for line_no, line in enumerate(lines, start=1):
        fields = [v for v in _SEPARATORS.split(line.strip()) if v]
        if len(fields) != 4:
            raise ValueError(
                f'Sequence {sequence!r}: {path} line {line_no} has '
                f'{len(fields)} values, expected 4 (x,y,w,h): {line!r}'
            )
        try:
            boxes.append([float(v) for v in fields])
        except ValueError:
            raise ValueError(
                f'Sequence {sequence!r}: {path} line {line_no} is not '
                f'numeric: {line!r}'
            ) from None
    return np.asarray(boxes, dtype=np.float64)


@DATASETS.register_module()
class OTBFolderDataset(BaseSOTDataset):
    """A folder of OTB-layout sequences, for evaluating on your own clips.

    Layout (also that of ``shared/data/sot_eval``)::

        <data_root>/<data_prefix.img_path>/
            <Seq>/img/*.jpg            frames in lexicographic order
            <Seq>/groundtruth_rect.txt one x,y,w,h line per frame

    No infos file is needed: every sub-folder that holds an image folder or
    a ground-truth file is a sequence (sorted by name), or only those named
    in ``sequences``. Frame names are free (``0001.jpg``, ``00000001.jpg``,
    ``frame_a.png`` ...) as long as their sorted order is the frame order.

    Ground truth: the file must have one box per frame. Boxes with zero or
    negative width/height, or ``nan`` values, are kept in the data but
    marked invalid the mmtrack way (``bboxes_isvalid`` and ``visible``
    False; ``nan`` boxes become zeros). ``SOTMetric`` then counts such
    frames as misses for success (IoU -1) and, following mmtrack/pysot, as
    hits for precision. The first frame's box must be valid, since the
    tracker starts from it.

    Coordinates: boxes are handed to the tracker and to the metric as they
    are written, like mmtrack's ``OTB100Dataset``. OTB-style files are
    1-based (MATLAB) pixel coordinates; the official USOT evaluation
    starts the tracker from ``box - (1, 1)`` and reports ``box + (1, 1)``
    (official test script). That is the tracker's ``test_cfg.one_based_gt``
    (see ``configs/usot/usot_r50-official_test-otb-folder.py``), so the
    metric still compares in the file's coordinates.

    Args:
        sequences (Sequence[str], optional): names of the sequences to use,
            in this order. Defaults to None (all, sorted).
        max_frames (int, optional): use only the first ``max_frames`` frames
            of each sequence (quick checks; results are then not comparable
            with full-sequence numbers). Defaults to None (all frames).
        img_dir (str): name of the frame folder inside a sequence. Defaults
            to ``'img'``.
        ann_name (str): ground-truth file name inside a sequence. Defaults
            to ``'groundtruth_rect.txt'``.
        img_suffixes (Sequence[str]): frame file extensions (case
            insensitive). Defaults to ``('.jpg', '.jpeg', '.png', '.bmp')``.
        **kwargs: :class:`BaseSOTDataset` / ``mmengine`` ``BaseDataset``
            arguments (``data_root``, ``data_prefix=dict(img_path=...)``,
            ``pipeline``, ``test_mode``, ``bbox_min_size``...). ``ann_file``
            is not used.

    Raises:
        FileNotFoundError: if the root or a requested sequence is missing.
        ValueError: naming the sequence, for a missing or empty frame
            folder, a missing, empty, malformed or short ground-truth file,
            or an invalid first-frame box.
    """

    def __init__(
        self,
        sequences: Optional[Sequence[str]] = None,
        max_frames: Optional[int] = None,
        img_dir: str = 'img',
        ann_name: str = 'groundtruth_rect.txt',
        img_suffixes: Sequence[str] = ('.jpg', '.jpeg', '.png', '.bmp'),
        **kwargs,
    ) -> None:
        if isinstance(sequences, str):
            sequences = [sequences]
        self.sequences = None if sequences is None else list(sequences)
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        self.max_frames = max_frames
        self.img_dir = img_dir
        self.ann_name = ann_name
        self.img_suffixes = tuple(s.lower() for s in img_suffixes)
        super().__init__(**kwargs)

    # ------------------------------------------------------------ loading
    def _sequence_names(self, root: str) -> List[str]:
        """Sequence folders under ``root`` (requested or discovered)."""
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'OTBFolderDataset: root folder {root!r} does not exist'
            )
        if self.sequences is not None:
            missing = [
                s for s in self.sequences if not osp.isdir(osp.join(root, s))
            ]
            if missing:
                raise FileNotFoundError(
                    f'OTBFolderDataset: sequence(s) {missing} not found in '
                    f'{root!r}'
                )
            return list(self.sequences)
        names = []
        for name in sorted(os.listdir(root)):
            seq_dir = osp.join(root, name)
            if osp.isdir(seq_dir) and (
                osp.isdir(osp.join(seq_dir, self.img_dir))
                or osp.isfile(osp.join(seq_dir, self.ann_name))
            ):
                names.append(name)
        if not names:
            raise ValueError(
                f'OTBFolderDataset: no sequence found in {root!r} (expected '
                f'<seq>/{self.img_dir}/ and <seq>/{self.ann_name})'
            )
        return names

    def _load_sequence(self, root: str, name: str) -> dict:
        """Validate one sequence and describe it as a data-list entry."""
        img_dir = osp.join(root, name, self.img_dir)
        ann_path = osp.join(root, name, self.ann_name)
        if not osp.isdir(img_dir):
            raise ValueError(
                f'Sequence {name!r}: frame folder {img_dir} is missing'
            )
        frames = sorted(
            f
            for f in os.listdir(img_dir)
            if f.lower().endswith(self.img_suffixes)
            and osp.isfile(osp.join(img_dir, f))
        )
        if not frames:
            raise ValueError(
                f'Sequence {name!r}: frame folder {img_dir} has no image '
                f'({"/".join(self.img_suffixes)})'
            )
        if not osp.isfile(ann_path):
            raise ValueError(
                f'Sequence {name!r}: ground-truth file {ann_path} is missing'
            )
        boxes = parse_groundtruth(ann_path, name)
        if len(boxes) != len(frames):
            kind = 'short' if len(boxes) < len(frames) else 'long'
            raise ValueError(
                f'Sequence {name!r}: ground truth is {kind}: {ann_path} has '
                f'{len(boxes)} boxes for {len(frames)} frames in {img_dir}'
            )
        if self.max_frames is not None:
            frames = frames[: self.max_frames]
            boxes = boxes[: self.max_frames]
        x, y, w, h = boxes[0]
        if not (
            all(math.isfinite(v) for v in (x, y, w, h)) and w > 0 and h > 0
        ):
            raise ValueError(
                f'Sequence {name!r}: the first-frame box {boxes[0].tolist()}'
                f' in {ann_path} is not a valid x,y,w,h box; the tracker '
                'starts from it'
            )
        return dict(
            video_path=osp.join(name, self.img_dir),
            ann_path=osp.join(name, self.ann_name),
            start_frame_id=1,
            end_frame_id=len(frames),
            framename_template='%s',
            frame_names=frames,
            bboxes=boxes,
        )

    def load_data_list(self) -> List[dict]:
        """One entry per sequence, validated eagerly.

        Returns:
            list[dict]: ``video_path``, ``ann_path`` (relative to
            ``data_prefix.img_path``), ``start_frame_id`` (1),
            ``end_frame_id`` (the frame count), ``frame_names`` and the
            parsed ``bboxes`` (N, 4) xywh.
        """
        root = self.data_prefix['img_path']
        return [
            self._load_sequence(root, name)
            for name in self._sequence_names(root)
        ]

    # ---------------------------------------------------------- per video
    def get_bboxes_from_video(self, video_idx: int) -> np.ndarray:
        """Boxes of a sequence in ``[x, y, w, h]`` format.

        ``nan`` boxes are returned as zeros so that they are invalid
        (w, h <= ``bbox_min_size``) rather than poisoning the metric.

        Args:
            video_idx (int): the sequence index.

        Returns:
            np.ndarray: of shape (N, 4), float64, a fresh copy.
        """
        boxes = np.array(
            self.get_data_info(video_idx)['bboxes'], dtype=np.float64
        )
        boxes[~np.isfinite(boxes).all(axis=1)] = 0.0
        return boxes

    def get_img_infos_from_video(self, video_idx: int) -> dict:
        """Frame paths in lexicographic order.

        Args:
            video_idx (int): the sequence index.

        Returns:
            dict: ``video_id``, ``frame_ids`` (0..N-1), ``img_paths`` and
            ``video_length``.
        """
        info = self.get_data_info(video_idx)
        folder = osp.join(self.data_prefix['img_path'], info['video_path'])
        img_paths = [osp.join(folder, name) for name in info['frame_names']]
        return dict(
            video_id=video_idx,
            frame_ids=np.arange(len(img_paths)),
            img_paths=img_paths,
            video_length=len(img_paths),
        )
