# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Loading of pseudo labels: infos file, annotations and quality sidecars.

:class:`PseudoLabelLoader` turns the converter's ``<name>_infos.txt``
(mmtrack's SOT infos format), the annotation files and the quality
sidecars ``<quality_root>/<video>.json`` (``mmusot/pseudo_labels/
pipeline.py``) into checked data infos, one per track; it draws nothing
(:class:`~mmusot.datasets.samplers.PseudoLabelSampler` does).
"""

import json
import logging
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from ..pseudo_labels.writer import (
    FRAME_TEMPLATE,
    annotation_error,
    read_annotation,
)
from .transforms.usot_frames import frame_file_size

# Sidecar fields the sampler reads, per track.
_SCALAR_FIELDS = ('q_v', 'corner_freq')
_FRAME_FIELDS = ('frame_quality_short', 'corner', 't_l', 't_u')
# How to make a data_root, for the errors about a missing one.
_MAKE_LABELS = (
    'make pseudo labels with `mmusot-videos-to-pseudo VIDEO_FOLDER {root}` '
    '(`mmusot-datasets-to-pseudo` for GOT-10k / LaSOT / VID / YouTube-VOS), '
    'or point data_root at a converted folder (--cfg-options '
    'train_dataloader.dataset.data_root=DIR)'
)
_STRICT_HINT = (
    'fix the line (the file holds one x,y,w,h line per frame), re-run the '
    'converter for this video, or set strict=False in the dataset config '
    '(--cfg-options train_dataloader.dataset.strict=False) to leave such '
    'frames out of sampling'
)


def video_name(video_path: str, frames_prefix: str = 'frames') -> str:
    """The video name of a ``video_path`` (its sidecar's name).

    Args:
        video_path (str): e.g. ``frames/train/GOT-10k_Train_000001``.
        frames_prefix (str): the leading folder that is not part of the
            name. Defaults to 'frames'.

    Returns:
        str: the path without the leading ``frames_prefix`` folder, with
        '/' separators (``train/GOT-10k_Train_000001``).
    """
    parts = video_path.replace(os.sep, '/').strip('/').split('/')
    frames_prefix = frames_prefix.strip('/')
    if frames_prefix and parts[0] == frames_prefix:
        parts = parts[1:]
    return '/'.join(parts)


class PseudoLabelLoader:
    """Checked data infos of a pseudo-label folder (one per infos line).

    See :class:`~mmusot.datasets.PseudoLabelSOTDataset` for the layout and
    for what ``strict`` checks and drops.

    Args:
        ann_file (str): the infos file (full path).
        img_prefix (str): folder that ``video_path`` and ``ann_path`` are
            relative to.
        quality_root (str, optional): the sidecar folder; read when
            ``usot_sampling``.
        usot_sampling (bool): attach the sidecars' sampler fields.
        frames_prefix (str): first folder of ``video_path`` that is not
            part of the video name. Defaults to 'frames'.
        strict (bool): raise on a bad annotation line or track (else drop
            it and log). Defaults to True.
        test_mode (bool): mmtrack's test mode (fewer boxes than frames are
            allowed). Defaults to False.
    """

    def __init__(
        self,
        ann_file: str,
        img_prefix: str,
        quality_root: Optional[str],
        usot_sampling: bool,
        frames_prefix: str = 'frames',
        strict: bool = True,
        test_mode: bool = False,
    ) -> None:
        self.ann_file = ann_file
        self.img_prefix = img_prefix
        self.quality_root = quality_root
        self.usot_sampling = bool(usot_sampling)
        self.frames_prefix = frames_prefix.strip('/')
        self.strict = bool(strict)
        self.test_mode = bool(test_mode)
        # What strict=False left out (filled by load).
        self._label_drops: List[str] = []
        self._label_bad_frames = [0, 0]  # frames, tracks

    def load(self, text: str) -> List[dict]:
        """Parse the infos file's text (and the sidecars in USOT mode).

        Args:
            text (str): the infos file's content.

        Returns:
            list[dict]: one dict per infos line (track) with mmtrack's keys
            ``video_path``, ``ann_path``, ``start_frame_id``,
            ``end_frame_id``, ``framename_template``; in USOT mode also
            ``video_name``, ``quality_path``, ``track_id``, ``q_v``,
            ``corner_freq``, ``frame_size`` (W, H), the per-frame arrays
            ``frame_quality_short``, ``corner``, ``t_l``, ``t_u`` (n,) and
            ``bboxes`` (n, 4) float32 xyxy in original-frame pixels; with
            ``strict=False``, ``frame_valid`` (n,) bool where a frame's box
            is bad.
        """
        ann_file = self.ann_file
        lines = text.split('\n')[1:]  # the first line is mmtrack's header
        data_list = []
        for line_no, line in enumerate(lines, start=2):
            line = line.strip()
            if not line:
                continue
            fields = line.split(',')
            if len(fields) != 4:
                raise ValueError(
                    f'{ann_file} line {line_no}: expected '
                    f'video_path,ann_path,start_frame_id,end_frame_id, got '
                    f'{line!r}'
                )
            try:
                start, end = int(fields[2]), int(fields[3])
            except ValueError:
                raise ValueError(
                    f'{ann_file} line {line_no}: frame ids are not '
                    f'integers: {line!r}'
                ) from None
            if end < start:
                raise ValueError(
                    f'{ann_file} line {line_no}: end frame {end} < start '
                    f'frame {start}'
                )
            data_list.append(
                dict(
                    video_path=fields[0].replace('/', os.sep),
                    ann_path=fields[1].replace('/', os.sep),
                    start_frame_id=start,
                    end_frame_id=end,
                    framename_template=FRAME_TEMPLATE,
                )
            )
        if not data_list:
            raise ValueError(
                f'PseudoLabelSOTDataset: infos file {ann_file!r} lists no '
                'track (only a header or empty)'
            )
        self._label_drops = []
        self._label_bad_frames = [0, 0]
        if self.usot_sampling:
            data_list = self._attach_quality(data_list)
        else:
            data_list = self._check_plain_labels(data_list)
        self._log_label_drops(len(data_list))
        return data_list

    def video_name(self, video_path: str) -> str:
        """See :func:`video_name`."""
        return video_name(video_path, self.frames_prefix)

    def _attach_quality(self, data_list: List[dict]) -> List[dict]:
        sidecars: Dict[str, dict] = {}
        used: Dict[str, set] = {}
        kept = []
        for info in data_list:
            name = self.video_name(info['video_path'])
            path = osp.join(self.quality_root, name + '.json')
            if path not in sidecars:
                sidecars[path] = _read_sidecar(path)
                used[path] = set()
            track = _find_track(sidecars[path], info, path)
            if id(track) in used[path]:
                raise ValueError(
                    f'{path}: track {track.get("track_id")} is listed twice '
                    f'in {self.ann_file}'
                )
            used[path].add(id(track))
            info.update(
                _track_arrays(track, info, path, sidecars[path]['frame_size'])
            )
            info['video_name'] = name
            info['quality_path'] = path
            boxes = self._checked_boxes(
                info, sidecars[path]['frame_size'], check_count=True
            )
            if boxes is None:
                continue
            boxes[:, 2:] += boxes[:, :2]
            info['bboxes'] = boxes.astype(np.float32)
            kept.append(info)
        for path, sidecar in sidecars.items():
            extra = [
                t.get('track_id')
                for t in sidecar['tracks']
                if t.get('kept') and id(t) not in used[path]
            ]
            if extra:
                print_log(
                    f'{path}: kept track(s) {extra} are not listed in '
                    f'{self.ann_file}; they are not sampled',
                    logger='current',
                )
        return kept

    def _checked_boxes(
        self,
        info: dict,
        frame_size: Optional[Sequence[float]],
        check_count: bool,
    ) -> Optional[np.ndarray]:
        """The checked (n, 4) xywh boxes of a track, or None if dropped.

        Strict: any problem raises. Otherwise a track that cannot be used
        is dropped (None) and a frame with a bad box gets False in
        ``info['frame_valid']`` (only added when some frame is bad).
        """
        ann = osp.join(self.img_prefix, info['ann_path'])
        if not osp.isfile(ann):
            return self._drop_track(
                FileNotFoundError(
                    f'{ann}: annotation file of '
                    f'{info.get("video_name", info["video_path"])!r} not '
                    f'found (listed in {self.ann_file})'
                )
            )
        boxes, problems = read_annotation(ann, frame_size)
        n = info['end_frame_id'] - info['start_frame_id'] + 1
        if check_count and len(boxes) != n:
            return self._drop_track(
                ValueError(
                    f'{ann}: {len(boxes)} box line(s), but the infos file '
                    f'lists frames {info["start_frame_id"]}-'
                    f'{info["end_frame_id"]} ({n} frames)'
                )
            )
        if not problems:
            return boxes
        err = annotation_error(ann, problems, _STRICT_HINT)
        if self.strict:
            raise err
        if len(problems) >= len(boxes):
            _, line_no, why = problems[0]
            return self._drop_track(
                ValueError(
                    f'{ann}: no line holds a usable box (line {line_no}: '
                    f'{why})'
                )
            )
        valid = np.ones(len(boxes), bool)
        valid[[row for row, _, _ in problems]] = False
        info['frame_valid'] = valid
        self._label_bad_frames[0] += len(problems)
        self._label_bad_frames[1] += 1
        return boxes

    def _drop_track(self, err: Exception) -> None:
        """Raise ``err`` (strict) or record the track as dropped."""
        if self.strict:
            raise err
        self._label_drops.append(str(err))
        return None

    def _check_plain_labels(self, data_list: List[dict]) -> List[dict]:
        """Check the annotation files of a dataset without sidecars.

        The frame size comes from the header of each track's first frame;
        a track whose first frame cannot be read is checked without the
        overlap test (and counted in the log).
        """
        kept, unsized = [], 0
        for info in data_list:
            first = osp.join(
                self.img_prefix,
                info['video_path'],
                info['framename_template'] % info['start_frame_id'],
            )
            size = frame_file_size(first)
            unsized += size is None
            # mmtrack's test mode allows fewer boxes than frames
            check_count = not self.test_mode
            if self._checked_boxes(info, size, check_count) is not None:
                kept.append(info)
        if unsized:
            print_log(
                f'{self.ann_file}: the first frame of {unsized} track(s) '
                'could not be read, so their boxes were not checked against '
                'the frame size',
                logger='current',
                level=logging.WARNING,
            )
        return kept

    def _log_label_drops(self, num_kept: int) -> None:
        """Log what ``strict=False`` left out; fail when nothing is left."""
        drops = self._label_drops
        frames, tracks = self._label_bad_frames
        if drops:
            print_log(
                f'{self.ann_file} (strict=False): dropped {len(drops)} '
                f'track(s), {num_kept} left; first: {drops[0]}',
                logger='current',
                level=logging.WARNING,
            )
        if frames:
            print_log(
                f'{self.ann_file} (strict=False): {frames} frame(s) with a '
                f'bad box in {tracks} track(s) are left out of sampling',
                logger='current',
                level=logging.WARNING,
            )
        if drops and not num_kept:
            raise ValueError(
                f'{self.ann_file}: no usable track is left after dropping '
                f'the bad ones (strict=False); first: {drops[0]}'
            )


def _read_sidecar(path: str) -> dict:
    """Load and check the top level of a quality sidecar."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: quality sidecar not found (run the converter, or set '
            'quality_prefix=None / usot_sampling=False to train without it)'
        )
    try:
        with open(path, encoding='utf-8') as f:
            sidecar = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(
            f'{path}: unreadable quality sidecar: {err}'
        ) from None
    if not isinstance(sidecar, dict) or not isinstance(
        sidecar.get('tracks'), list
    ):
        raise ValueError(f'{path}: quality sidecar has no "tracks" list')
    size = sidecar.get('frame_size')
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, (int, float)) and v > 0 for v in size)
    ):
        raise ValueError(
            f'{path}: "frame_size" must be [W, H] > 0, got {size!r}'
        )
    for k, t in enumerate(sidecar['tracks']):
        if not isinstance(t, dict):
            raise ValueError(f'{path}: track {k} is not an object')
    return sidecar


def _find_track(sidecar: dict, info: dict, path: str) -> dict:
    """The sidecar track of an infos line: the one with its annotation
    path, else (a track without ``ann_path``) the one with its frame ids."""
    ann = info['ann_path'].replace(os.sep, '/')
    start, end = info['start_frame_id'], info['end_frame_id']
    for t in sidecar['tracks']:
        if t.get('ann_path') == ann:
            return t
    for t in sidecar['tracks']:
        if (
            not t.get('ann_path')
            and t.get('start_frame_id') == start
            and t.get('end_frame_id') == end
        ):
            return t
    raise ValueError(
        f'{path}: no track for annotation {ann!r} (frames {start}-{end}); '
        f'the sidecar has {len(sidecar["tracks"])} track(s) with '
        'annotations '
        f'{[t.get("ann_path") for t in sidecar["tracks"]]}'
    )


def _track_arrays(
    track: dict, info: dict, path: str, frame_size: Sequence[float]
) -> dict:
    """Checked sampler fields of one sidecar track."""
    tid = track.get('track_id')
    where = f'{path} track {tid}'
    missing = [
        k for k in _SCALAR_FIELDS + _FRAME_FIELDS if track.get(k) is None
    ]
    if missing:
        raise ValueError(
            f'{where}: missing field(s) {missing} (a filtered track, or a '
            'sidecar from another tool)'
        )
    out = {}
    for k in _SCALAR_FIELDS:
        v = track[k]
        if not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f'{where}: {k} must be a number, got {v!r}')
        out[k] = float(v)
    n = info['end_frame_id'] - info['start_frame_id'] + 1
    declared = track.get('num_frames', n)
    if declared != n:
        raise ValueError(
            f'{where}: {declared} frames, but the infos line lists '
            f'{info["start_frame_id"]}-{info["end_frame_id"]} ({n} frames)'
        )
    for k in _FRAME_FIELDS:
        v = track[k]
        try:
            arr = np.asarray(v, np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f'{where}: {k} is not a list of numbers'
            ) from None
        if arr.ndim != 1 or len(arr) != n or not np.isfinite(arr).all():
            raise ValueError(
                f'{where}: {k} must hold {n} finite numbers (one per '
                f'frame), got {arr.shape[0] if arr.ndim else "a scalar"}'
            )
        out[k] = arr
    t_l, t_u = out['t_l'], out['t_u']
    pos = np.arange(n)
    bad = (t_l != np.round(t_l)) | (t_u != np.round(t_u))
    bad |= (t_l < 0) | (t_l > pos) | (t_u < pos) | (t_u > n - 1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f'{where}: fragment bounds must satisfy 0 <= t_l <= position <= '
            f't_u < {n}; position {k} has t_l={t_l[k]}, t_u={t_u[k]}'
        )
    out['frame_quality_short'] = out['frame_quality_short'].astype(np.float32)
    out['corner'] = out['corner'].astype(np.float32)
    out['t_l'] = t_l.astype(np.int32)
    out['t_u'] = t_u.astype(np.int32)
    out['track_id'] = int(tid) if isinstance(tid, (int, float)) else -1
    out['frame_size'] = (float(frame_size[0]), float(frame_size[1]))
    if not track.get('kept', True):
        print_log(
            f'{where}: listed in the infos file but marked not kept by the '
            f'quality filter ({track.get("reason")!r}); sampled anyway',
            logger='current',
        )
    return out


def check_data_root(data_root: str, ann_file: str, has_sidecars: bool):
    """Say plainly when ``data_root`` holds no pseudo labels at all."""
    if not data_root:
        return
    if not osp.isdir(data_root):
        raise FileNotFoundError(
            f'PseudoLabelSOTDataset: data_root {data_root!r} does not '
            'exist; ' + _MAKE_LABELS.format(root=data_root)
        )
    infos = ann_file
    if ann_file and not osp.isabs(ann_file):
        infos = osp.join(data_root, ann_file)
    if not has_sidecars and not (infos and osp.isfile(infos)):
        raise FileNotFoundError(
            f'PseudoLabelSOTDataset: data_root {data_root!r} holds no '
            f'pseudo labels (no {ann_file or "infos file"}, no quality '
            'sidecars); ' + _MAKE_LABELS.format(root=data_root)
        )
