# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""OTB-style folders laid out for the field's evaluation clients.

* :func:`otb_to_vot` writes the sequence folder of a VOT toolkit
  workspace (``<workspace>/sequences``), so that ``vot evaluate`` runs on
  local data without downloading a stack's dataset: ``list.txt``, and per
  sequence a ``sequence`` metadata file, ``color/%08d.<ext>`` frames and
  ``groundtruth.txt`` (VOT region format, one region per line).
* :func:`otb_to_got10k` writes a GOT-10k subset (``<root>/val`` or
  ``<root>/test``) as the ``got10k`` toolkit's ``GOT10k`` dataset reads
  it: ``list.txt``, and per sequence ``%08d.jpg`` frames,
  ``groundtruth.txt`` (every frame for ``val``, the first only for
  ``test``), ``meta_info.ini`` (with the ``resolution``) and the
  per-frame ``absence`` / ``cover`` / ``cut_by_image`` labels.

Sequences are read with :func:`mmusot.evaluation.load_sequences` (the
:class:`~mmusot.datasets.OTBFolderDataset` rules: ``<Seq>/img/*`` in
lexicographic order, ``<Seq>/groundtruth_rect.txt`` one ``x,y,w,h`` per
frame). Coordinates are written as they are in the source files (OTB
files are 1-based), as mmtrack's ``SOTMetric`` reads them, so the
toolkits' scores compare with it on the same boxes. Frames are linked
(symbolic links to the absolute source paths) unless ``copy=True``.
"""

import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

#: VOT toolkit files (``vot/dataset/common.py`` reads them).
VOT_LIST_NAME = 'list.txt'
VOT_METADATA_NAME = 'sequence'
VOT_GROUNDTRUTH_NAME = 'groundtruth.txt'
VOT_CHANNEL = 'color'
#: VOT frame names: 8-digit 1-based indices (the toolkit's default).
VOT_FRAME_PATTERN = '%08d'
#: sot_eval keeps the original VOT polygons of its VOT sequences here.
OTB_POLYGON_NAME = 'groundtruth_polygon.txt'
#: Frame rate written to the metadata (the sources do not record one;
#: the toolkit only uses it for its real-time experiments).
DEFAULT_FPS = 30

#: GOT-10k toolkit files (``got10k/datasets/got10k.py``).
GOT10K_SUBSETS = ('val', 'test')
GOT10K_LIST_NAME = 'list.txt'
GOT10K_GROUNDTRUTH_NAME = 'groundtruth.txt'
GOT10K_META_NAME = 'meta_info.ini'
GOT10K_FRAME_PATTERN = '%08d.jpg'
#: ``cover.label`` is the visible fraction in eighths; 8 = fully visible.
GOT10K_FULL_COVER = 8
#: Re-encoding quality for frames that are not JPEG files already (the
#: toolkit reads ``*.jpg`` only).
GOT10K_JPEG_QUALITY = 100
JPEG_SUFFIXES = ('.jpg', '.jpeg')

#: Decimals of the written coordinates.
COORD_DECIMALS = 4


def _format_values(values: Sequence[float]) -> str:
    return ','.join(f'{float(v):.{COORD_DECIMALS}f}' for v in values)


def _place_frame(src: str, dst: str, copy: bool) -> None:
    """Link (absolute) or copy ``src`` to ``dst``, replacing ``dst``."""
    if osp.lexists(dst):
        os.remove(dst)
    if copy:
        shutil.copyfile(src, dst)
    else:
        os.symlink(osp.abspath(src), dst)


def _image_size(path: str, sequence: str) -> tuple:
    """(width, height) of a frame file."""
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f'Sequence {sequence!r}: cannot read frame {path}')
    return int(image.shape[1]), int(image.shape[0])


def read_polygons(path: str, sequence: str) -> List[List[float]]:
    """Read a VOT polygon file: 8 comma-separated values per line.

    Args:
        path (str): e.g. ``<Seq>/groundtruth_polygon.txt``.
        sequence (str): sequence name, for error messages.

    Returns:
        list[list[float]]: one ``[x1, y1, ..., x4, y4]`` per frame.

    Raises:
        ValueError: a line without an even number (>= 6) of numbers.
    """
    polygons = []
    with open(path, encoding='utf-8') as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                values = [float(v) for v in line.strip().split(',')]
            except ValueError:
                raise ValueError(
                    f'Sequence {sequence!r}: {path} line {line_no} is not '
                    f'numeric: {line.strip()!r}'
                ) from None
            if len(values) < 6 or len(values) % 2:
                raise ValueError(
                    f'Sequence {sequence!r}: {path} line {line_no} has '
                    f'{len(values)} values; a polygon needs x,y pairs (>= 3)'
                )
            polygons.append(values)
    return polygons


def _load(
    src_root: str,
    sequences: Optional[Sequence[str]],
    max_frames: Optional[int],
):
    from mmusot.evaluation import load_sequences

    return load_sequences(src_root, sequences, max_frames)


# ------------------------------------------------------------------ VOT
def otb_to_vot(
    src_root: str,
    dst: str,
    sequences: Optional[Sequence[str]] = None,
    max_frames: Optional[int] = None,
    polygons: bool = True,
    copy: bool = False,
    fps: int = DEFAULT_FPS,
) -> List[str]:
    """Write OTB-style sequences as a VOT toolkit sequence folder.

    ``dst`` is the workspace's ``sequences`` folder: once it holds
    ``list.txt``, ``vot initialize <stack> --workspace <ws>`` keeps it
    and downloads nothing.

    Args:
        src_root (str): folder of ``<Seq>/img/*`` +
            ``<Seq>/groundtruth_rect.txt`` sequences.
        dst (str): the output folder (created; existing sequence folders
            are refreshed).
        sequences (Sequence[str], optional): names to convert, in order.
            Defaults to all (sorted).
        max_frames (int, optional): first frames only. Defaults to all.
        polygons (bool): write a sequence's ``groundtruth_polygon.txt``
            (the original VOT rotated boxes, where the source keeps them)
            instead of its axis-aligned boxes. Defaults to True.
        copy (bool): copy the frames instead of linking them. Defaults to
            False.
        fps (int): frame rate written to the metadata. Defaults to 30.

    Returns:
        list[str]: the sequence names written, as in ``list.txt``.

    Raises:
        FileNotFoundError / ValueError: from the source folder, naming the
            sequence and the problem (also for a polygon file whose length
            differs from the frame count).
    """
    infos = _load(src_root, sequences, max_frames)
    os.makedirs(dst, exist_ok=True)
    names = []
    for info in infos:
        seq_dst = osp.join(dst, info.name)
        channel_dir = osp.join(seq_dst, VOT_CHANNEL)
        if osp.isdir(channel_dir):
            shutil.rmtree(channel_dir)
        os.makedirs(channel_dir)
        suffix = osp.splitext(info.img_paths[0])[1].lower()
        mixed = {osp.splitext(p)[1].lower() for p in info.img_paths}
        if len(mixed) != 1:
            raise ValueError(
                f'Sequence {info.name!r}: frames of several types '
                f'{sorted(mixed)}; the VOT channel pattern needs one'
            )
        for index, path in enumerate(info.img_paths, start=1):
            name = (VOT_FRAME_PATTERN % index) + suffix
            _place_frame(path, osp.join(channel_dir, name), copy)

        regions = [_format_values(box) for box in info.gt_xywh]
        poly_path = osp.join(src_root, info.name, OTB_POLYGON_NAME)
        if polygons and osp.isfile(poly_path):
            polys = read_polygons(poly_path, info.name)
            if len(polys) < len(info):
                raise ValueError(
                    f'Sequence {info.name!r}: {poly_path} has {len(polys)} '
                    f'polygons for {len(info)} frames'
                )
            regions = [_format_values(p) for p in polys[: len(info)]]
        with open(
            osp.join(seq_dst, VOT_GROUNDTRUTH_NAME), 'w', encoding='utf-8'
        ) as handle:
            handle.write('\n'.join(regions) + '\n')

        width, height = _image_size(info.img_paths[0], info.name)
        metadata = {
            f'channels.{VOT_CHANNEL}': (
                f'{VOT_CHANNEL}/{VOT_FRAME_PATTERN}{suffix}'
            ),
            'fps': str(int(fps)),
            'format': 'default',
            'name': info.name,
            'width': str(width),
            'height': str(height),
            'length': str(len(info)),
        }
        with open(
            osp.join(seq_dst, VOT_METADATA_NAME), 'w', encoding='utf-8'
        ) as handle:
            for key in sorted(metadata):
                handle.write(f'{key}={metadata[key]}\n')
        names.append(info.name)

    _merge_list(osp.join(dst, VOT_LIST_NAME), names)
    return names


def _merge_list(path: str, names: Sequence[str]) -> None:
    """Add ``names`` to a ``list.txt`` (kept in its order, no repeats)."""
    existing: List[str] = []
    if osp.isfile(path):
        with open(path, encoding='utf-8') as handle:
            existing = [line.strip() for line in handle if line.strip()]
    merged = existing + [n for n in names if n not in existing]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(merged) + '\n')


# -------------------------------------------------------------- GOT-10k
def got10k_labels(boxes: np.ndarray, width: int, height: int) -> Dict:
    """Per-frame GOT-10k labels of OTB boxes.

    Args:
        boxes (np.ndarray): of shape (N, 4), ``[x, y, w, h]`` (invalid
            boxes as zeros, as :func:`~mmusot.evaluation.load_sequences`
            gives them).
        width (int): frame width, pixels.
        height (int): frame height, pixels.

    Returns:
        dict: ``absence`` (1 where the box is invalid), ``cover`` (8 where
        valid, 0 where absent: the toolkit scores only ``cover > 0``
        frames) and ``cut_by_image`` (1 where the box leaves the frame),
        each an int array of shape (N,).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    valid = (
        np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    )
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    cut = valid & ((x1 < 0) | (y1 < 0) | (x2 > width) | (y2 > height))
    return dict(
        absence=(~valid).astype(int),
        cover=np.where(valid, GOT10K_FULL_COVER, 0).astype(int),
        cut_by_image=cut.astype(int),
    )


def otb_to_got10k(
    src_root: str,
    dst_root: str,
    subset: str = 'val',
    sequences: Optional[Sequence[str]] = None,
    max_frames: Optional[int] = None,
    copy: bool = False,
) -> List[str]:
    """Write OTB-style sequences as a GOT-10k subset.

    ``ExperimentGOT10k(dst_root, subset=...)`` then runs on it without
    downloading anything (the toolkit downloads only a root without
    ``<subset>/list.txt``).

    Args:
        src_root (str): folder of OTB-style sequences.
        dst_root (str): the GOT-10k root; ``<dst_root>/<subset>`` is
            written.
        subset (str): ``'val'`` (full ground truth, scored locally by the
            toolkit's ``report``) or ``'test'`` (first box only, as the
            server's test set). Defaults to 'val'.
        sequences (Sequence[str], optional): names to convert, in order.
            Defaults to all.
        max_frames (int, optional): first frames only.
        copy (bool): copy JPEG frames instead of linking them. Defaults to
            False. Other formats are always re-encoded as JPEG (quality
            100), since the toolkit lists ``*.jpg`` only.

    Returns:
        list[str]: the sequence names written, as in ``list.txt``.

    Raises:
        ValueError: an unknown subset, or a problem with a source
            sequence (naming it).
    """
    if subset not in GOT10K_SUBSETS:
        raise ValueError(
            f'subset must be one of {GOT10K_SUBSETS}, got {subset!r}'
        )
    infos = _load(src_root, sequences, max_frames)
    subset_dir = osp.join(dst_root, subset)
    os.makedirs(subset_dir, exist_ok=True)
    names = []
    for info in infos:
        seq_dst = osp.join(subset_dir, info.name)
        if osp.isdir(seq_dst):
            shutil.rmtree(seq_dst)
        os.makedirs(seq_dst)
        for index, path in enumerate(info.img_paths, start=1):
            target = osp.join(seq_dst, GOT10K_FRAME_PATTERN % index)
            if osp.splitext(path)[1].lower() in JPEG_SUFFIXES:
                _place_frame(path, target, copy)
            else:
                image = cv2.imread(path, cv2.IMREAD_COLOR)
                if image is None:
                    raise ValueError(
                        f'Sequence {info.name!r}: cannot read frame {path}'
                    )
                cv2.imwrite(
                    target,
                    image,
                    [cv2.IMWRITE_JPEG_QUALITY, GOT10K_JPEG_QUALITY],
                )
        boxes = info.gt_xywh if subset == 'val' else info.gt_xywh[:1]
        with open(
            osp.join(seq_dst, GOT10K_GROUNDTRUTH_NAME), 'w', encoding='utf-8'
        ) as handle:
            handle.write('\n'.join(_format_values(b) for b in boxes) + '\n')
        width, height = _image_size(info.img_paths[0], info.name)
        if subset == 'val':
            labels = got10k_labels(info.gt_xywh, width, height)
            for key, values in labels.items():
                np.savetxt(osp.join(seq_dst, f'{key}.label'), values, fmt='%d')
        # The toolkit reads `key: value` lines after the first one and
        # literal_eval's the resolution as (width, height).
        meta = [
            '[METAINFO]',
            f'source: {osp.abspath(osp.join(src_root, info.name))}',
            'object_class: unknown',
            'motion_class: unknown',
            'major_class: unknown',
            'root_class: unknown',
            'motion_adverb: unknown',
            f'resolution: ({width}, {height})',
        ]
        with open(
            osp.join(seq_dst, GOT10K_META_NAME), 'w', encoding='utf-8'
        ) as handle:
            handle.write('\n'.join(meta) + '\n')
        names.append(info.name)
    _merge_list(osp.join(subset_dir, GOT10K_LIST_NAME), names)
    return names
