# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Pseudo-labelled videos as an mmtrack SOT dataset, with USOT's sampler."""

import json
import logging
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmtrack.datasets import BaseSOTDataset
from mmtrack.registry import DATASETS

from ..pseudo_labels.writer import (
    FRAME_TEMPLATE,
    annotation_error,
    read_annotation,
)
from .transforms.usot_frames import FrameCheckingCompose, frame_file_size

STAGES = ('naive', 'cycle')
BOX_SOURCES = ('pseudo', 'random')

# Official sampler constants (``lib/dataset_loader/datasets_usot.py``,
# ``experiments/train/USOT.yaml``; paper Sec. 3.2-3.3 and 4.1).
VIDEO_QUALITY_THRESHOLD = 0.40  # θ1 on Q = Q_v - corner_freq / 3
MAX_CORNER_FREQ = 0.25  # branch-1 gate on the corner frequency
CORNER_FREQ_WEIGHT = 1.0 / 3.0  # Q = Q_v - CORNER_FREQ_WEIGHT * corner_freq
RESAMPLE_BEFORE = 30  # nearby videos: [i - 30, ...
RESAMPLE_AFTER = 31  # ... min(N - 1, i + 31))
RESAMPLE_TRIES = 20
RESAMPLE_DRAWS = 3
CANDIDATE_FACTOR = 3.0  # n_cand = int(3 / Q_v)
NAIVE_CORNER_WEIGHT = 2.0 / 3.0  # naive score: Q_f + 2/3 corner
CYCLE_CORNER_WEIGHT = 0.5  # cycle score: Q_f + 0.5 corner + ...
FRAGMENT_WEIGHT = 0.5  # ... + 0.5 (T_u - T_l) / n_frames
NUM_MEMORY_FRAMES = 4  # MEMORY_NUM
FAR_MEMORY_DRAWS = 3  # FAR_SAMPLE: 4 + 3 draws, the 4 farthest kept
# Random boxes (Table 4 "random boxes" control): side fractions of the
# frame side and the largest aspect ratio.
RANDOM_BOX_SIDE_RANGE = (0.1, 0.5)
RANDOM_BOX_MAX_ASPECT = 3.0

# Sidecar fields the sampler reads, per track.
_SCALAR_FIELDS = ('q_v', 'corner_freq')
_FRAME_FIELDS = ('frame_quality_short', 'corner', 't_l', 't_u')
_UINT32 = 2**32
_SEED_HIGH = 2**31 - 1  # exclusive bound of the drawn seeds
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


@DATASETS.register_module()
class PseudoLabelSOTDataset(BaseSOTDataset):
    """Videos pseudo-labelled by ``mmusot.pseudo_labels``, for training.

    "Learning to Track Objects from Unlabeled Videos", ICCV 2021,
    https://arxiv.org/abs/2108.12711, Sec. 3.1-3.3.

    Reads the converter's ``<name>_infos.txt`` (``ann_file``, mmtrack's SOT
    infos format: ``frames/<video>,annotations/<video>.txt,start,end``, one
    line per kept track, frames named ``%08d.jpg``; ``data_prefix=
    dict(img_path='')``) and, when present, the quality sidecars
    ``<quality_prefix>/<video>.json`` (per track ``q_v``, ``corner_freq`` and
    the per-frame ``frame_quality_short``, ``corner``, ``t_l``, ``t_u``;
    see ``mmusot/pseudo_labels/pipeline.py``). ``<video>`` is ``video_path``
    without its leading ``frames_prefix`` folder.

    **Without sidecars** (``quality_prefix=None``, no such folder, or
    ``usot_sampling=False``) this is a plain mmtrack SOT dataset: training
    feeds two random videos to the pipeline (mmtrack's ``PairSampling``
    pipelines, e.g. SiamRPN++, train on it unchanged) and ``test_mode``
    iterates ``(video, frame)`` pairs as every SOT dataset does.

    **With sidecars** (``usot_sampling``, the default when they exist) it
    is USOT's training sampler (official
    ``lib/dataset_loader/datasets_usot.py``):

    * the index selects a *video* (all infos lines sharing a sidecar, e.g.
      the windows of a LaSOT video), ``len(dataset)`` is the number of
      videos, and a track is drawn uniformly among its listed tracks;
    * θ1 gate (paper Sec. 3.3, Eq. 4): with ``Q = Q_v - corner_freq / 3``
      the track is kept when ``Q >= 0.40`` and ``corner_freq < 0.25``;
      otherwise up to 20 times 3 videos are drawn with replacement from
      ``[max(0, i - 30), min(N - 1, i + 31))`` (each with a random track)
      and the best by ``Q`` is accepted once ``Q > 0.40``; after 20 failed
      tries the last try's best is used (no corner test in this branch);
    * ``int(3 / Q_v)`` candidate frames are drawn uniformly with
      replacement and the best by the stage's frame score is the template
      (paper Eq. 5): naive ``Q_f + 2/3 corner``; cycle ``Q_f + 0.5 corner
      + (T_u - T_l) / (2 n_frames)``. Template and search are the **same
      frame** (paper Sec. 3.2);
    * cycle stage (paper Sec. 3.3, Eq. 7): 4 + 3 = 7 positions are drawn
      uniformly with replacement from the template's fragment
      ``[T_l, T_u]`` and the 4 farthest from the template are the memory
      frames.

    ``prepare_train_data`` emits per-frame lists (mmtrack convention, all
    the same length) in the order ``[template, search, memory_1 ..
    memory_M]``: ``img_path``, ``frame_id`` (0-based position in the
    track), ``video_id`` (data-list index of the track), ``video_length``,
    ``instances`` (``[dict(bbox=(4,) float32 xyxy in original-frame pixels,
    bbox_label=np.array(1, int32))]``) and ``aug_seed`` (one int per frame,
    read by the USOT transforms so that augmentation follows the same
    seeding). So ``TransformBroadcaster([LoadImageFromFile,
    LoadTrackAnnotations, CropLikeSiamFC(crop_size=511)])`` loads and crops
    them as the official 511 crops (the official ``par_crop.py``).

    Randomness: draws use a ``numpy.random.Generator`` per worker process
    and epoch, seeded from ``seed`` (or the seed of
    :class:`~mmusot.datasets.samplers.USOTQuotaSampler`, which calls
    :meth:`set_epoch`), the epoch, the rank, the worker id and the
    labels' names (:meth:`stream_key`, not their folder), so a run is
    reproducible given mmengine's seed and the number of workers, the same
    wherever the labels are copied, and differs across epochs. Use
    ``persistent_workers=False``: workers then see :meth:`set_epoch` and
    :meth:`set_stage` calls made between epochs. Without any seed the
    stream comes from torch's per-epoch worker seed (or numpy's global
    generator in the main process).

    Args:
        quality_prefix (str, optional): sidecar folder, relative to
            ``data_root`` unless absolute. None: no sidecars. Defaults to
            'quality'.
        usot_sampling (bool, optional): use USOT's sampler. None: when the
            sidecar folder exists (and not ``test_mode``). True with no
            sidecar folder raises. Defaults to None.
        frames_prefix (str): first folder of ``video_path`` that is not
            part of the video name. Defaults to 'frames'.
        stage (str): 'naive' or 'cycle' (see :meth:`set_stage`). Defaults
            to 'naive'.
        num_memory_frames (int): memory frames per sample in the cycle
            stage (MEMORY_NUM). Defaults to 4.
        box_source (str): 'pseudo' (the pseudo boxes) or 'random': the
            paper's Table 4 control, the same video and frame sampling but
            every sampled frame's box replaced by a random box (see
            :meth:`random_boxes`). Needs the sidecars. Defaults to
            'pseudo'.
        samples_per_epoch (int, optional): per-epoch sample count of this
            source, read by :class:`USOTQuotaSampler` (official: VID 14000,
            GOT-10k 19000, LaSOT 13000, YT-VOS 4000). None: one pass over
            the videos. Defaults to None.
        seed (int, optional): base seed of the sampler's generator. None:
            the sampler's seed (see above). Defaults to None.
        video_quality_threshold (float): θ1. Defaults to 0.40.
        max_corner_freq (float): branch-1 corner-frequency bound. Defaults
            to 0.25.
        corner_freq_weight (float): weight of the corner frequency in
            ``Q``. Defaults to 1/3.
        resample_before (int): nearby range start offset. Defaults to 30.
        resample_after (int): nearby range end offset (exclusive).
            Defaults to 31.
        resample_tries (int): re-sampling tries. Defaults to 20.
        resample_draws (int): videos per try. Defaults to 3.
        candidate_factor (float): ``n_cand = int(candidate_factor / Q_v)``.
            Defaults to 3.
        naive_corner_weight (float): corner weight of the naive frame
            score. Defaults to 2/3.
        cycle_corner_weight (float): corner weight of the cycle frame
            score. Defaults to 0.5.
        fragment_weight (float): weight of ``(T_u - T_l) / n_frames`` in
            the cycle frame score. Defaults to 0.5.
        far_memory_draws (int): extra memory draws (FAR_SAMPLE). Defaults
            to 3.
        random_box_side_range (tuple[float, float]): random-box side as a
            fraction of the frame side. Defaults to (0.1, 0.5).
        random_box_max_aspect (float): largest random-box aspect ratio.
            Defaults to 3.
        strict (bool): every annotation line must be 4 numbers ``x,y,w,h``
            with finite values, positive width and height and a box that
            overlaps the frame (frame size from the sidecar, else from the
            header of the track's first frame); a bad line raises an
            :class:`~mmusot.pseudo_labels.writer.AnnotationError` naming the
            file and line. False: a frame with a bad box is left out of
            sampling (USOT sampler: never a template, search or memory
            frame; plain mode: marked not visible, which mmtrack's frame
            samplers skip), a track with no good frame, a missing
            annotation file or a line count that disagrees with the infos
            line is dropped, and the counts are logged. Defaults to True.
        **kwargs: :class:`BaseSOTDataset` / mmengine ``BaseDataset``
            arguments (``ann_file``, ``data_root``, ``data_prefix``,
            ``pipeline``, ``test_mode`` ...).

    Raises:
        FileNotFoundError: a ``data_root`` without pseudo labels (the
            message says how to make them), a missing infos file,
            annotation or sidecar.
        ValueError: naming the file: an empty or malformed infos file, a
            malformed sidecar (missing or non-numeric fields, bad fragment
            bounds), a sidecar without the listed track or whose lengths
            disagree with the infos line or the annotation file; with
            ``strict``, an annotation line that is not a usable box
            (:class:`~mmusot.pseudo_labels.writer.AnnotationError`, with
            the line number).
        VideoReadError: when a sample is loaded, a frame file that is
            missing, empty or not a decodable image (named).
    """

    def __init__(
        self,
        quality_prefix: Optional[str] = 'quality',
        usot_sampling: Optional[bool] = None,
        frames_prefix: str = 'frames',
        stage: str = 'naive',
        num_memory_frames: int = NUM_MEMORY_FRAMES,
        box_source: str = 'pseudo',
        samples_per_epoch: Optional[int] = None,
        seed: Optional[int] = None,
        video_quality_threshold: float = VIDEO_QUALITY_THRESHOLD,
        max_corner_freq: float = MAX_CORNER_FREQ,
        corner_freq_weight: float = CORNER_FREQ_WEIGHT,
        resample_before: int = RESAMPLE_BEFORE,
        resample_after: int = RESAMPLE_AFTER,
        resample_tries: int = RESAMPLE_TRIES,
        resample_draws: int = RESAMPLE_DRAWS,
        candidate_factor: float = CANDIDATE_FACTOR,
        naive_corner_weight: float = NAIVE_CORNER_WEIGHT,
        cycle_corner_weight: float = CYCLE_CORNER_WEIGHT,
        fragment_weight: float = FRAGMENT_WEIGHT,
        far_memory_draws: int = FAR_MEMORY_DRAWS,
        random_box_side_range: Tuple[float, float] = RANDOM_BOX_SIDE_RANGE,
        random_box_max_aspect: float = RANDOM_BOX_MAX_ASPECT,
        strict: bool = True,
        **kwargs,
    ) -> None:
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        if box_source not in BOX_SOURCES:
            raise ValueError(
                f'box_source must be one of {BOX_SOURCES}, got {box_source!r}'
            )
        if num_memory_frames < 1:
            raise ValueError(
                f'num_memory_frames must be >= 1, got {num_memory_frames}'
            )
        if samples_per_epoch is not None and samples_per_epoch < 0:
            raise ValueError(
                f'samples_per_epoch must be >= 0, got {samples_per_epoch}'
            )
        lo, hi = random_box_side_range
        if not 0 < lo <= hi <= 1 or random_box_max_aspect < 1:
            raise ValueError(
                'random boxes need 0 < side fractions <= 1 and an aspect '
                f'bound >= 1, got {random_box_side_range}, '
                f'{random_box_max_aspect}'
            )
        self.stage = stage
        self.num_memory_frames = int(num_memory_frames)
        self.box_source = box_source
        self.samples_per_epoch = samples_per_epoch
        self.seed = seed
        self.frames_prefix = frames_prefix.strip('/')
        self.video_quality_threshold = video_quality_threshold
        self.max_corner_freq = max_corner_freq
        self.corner_freq_weight = corner_freq_weight
        self.resample_before = int(resample_before)
        self.resample_after = int(resample_after)
        self.resample_tries = int(resample_tries)
        self.resample_draws = int(resample_draws)
        self.candidate_factor = candidate_factor
        self.naive_corner_weight = naive_corner_weight
        self.cycle_corner_weight = cycle_corner_weight
        self.fragment_weight = fragment_weight
        self.far_memory_draws = int(far_memory_draws)
        self.random_box_side_range = (float(lo), float(hi))
        self.random_box_max_aspect = float(random_box_max_aspect)
        self.strict = bool(strict)

        data_root = kwargs.get('data_root') or ''
        if quality_prefix is None:
            self.quality_root = None
        else:
            self.quality_root = osp.join(data_root, quality_prefix)
        has_sidecars = self.quality_root is not None and osp.isdir(
            self.quality_root
        )
        _check_data_root(data_root, kwargs.get('ann_file') or '', has_sidecars)
        if usot_sampling is None:
            usot_sampling = has_sidecars and not kwargs.get('test_mode')
        elif usot_sampling and not has_sidecars:
            raise FileNotFoundError(
                'PseudoLabelSOTDataset: usot_sampling=True needs the quality '
                f'sidecar folder, but {self.quality_root!r} does not exist '
                '(mmusot-videos-to-pseudo writes it; labels made by another '
                'tool train with usot_sampling=False)'
            )
        self.usot_sampling = bool(usot_sampling)
        if box_source == 'random' and not self.usot_sampling:
            raise ValueError(
                "box_source='random' needs USOT sampling (quality sidecars "
                'give the frame size and the sampling)'
            )
        # Built by full_init (after the data list, honouring `indices`).
        self._video_groups: Optional[List[np.ndarray]] = None
        self._track_q_v: Optional[np.ndarray] = None
        self._track_corner_freq: Optional[np.ndarray] = None
        self._epoch = 0
        self._shared_seed: Optional[int] = None
        self._rng: Optional[np.random.Generator] = None
        self._rng_key: Optional[tuple] = None
        self._stream_key: Optional[int] = None
        # What strict=False left out (filled by load_data_list).
        self._label_drops: List[str] = []
        self._label_bad_frames = [0, 0]  # frames, tracks
        super().__init__(**kwargs)
        # A corrupt frame then fails with its file name, not deep inside
        # LoadImageFromFile; a good sample runs the same transforms.
        self.pipeline = FrameCheckingCompose(self.pipeline.transforms)

    # ------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        """Parse the infos file (and the sidecars in USOT mode).

        Returns:
            list[dict]: one dict per infos line (track) with mmtrack's keys
            ``video_path``, ``ann_path``, ``start_frame_id``,
            ``end_frame_id``, ``framename_template``; in USOT mode also
            ``video_name``, ``quality_path``, ``track_id``, ``q_v``,
            ``corner_freq``, ``frame_size`` (W, H), the per-frame arrays
            ``frame_quality_short``, ``corner``, ``t_l``, ``t_u`` (n,) and
            ``bboxes`` (n, 4) float32 xyxy in original-frame pixels.
        """
        ann_file = self.ann_file
        if not osp.isfile(ann_file):
            raise FileNotFoundError(
                f'PseudoLabelSOTDataset: infos file {ann_file!r} not found '
                '(a converter run with --shard or --no-merge writes it when '
                'run again with --merge-only)'
            )
        text = self._loadtxt(ann_file, return_ndarray=False)
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
        self._label_drops: List[str] = []
        self._label_bad_frames = [0, 0]  # frames, tracks
        if self.usot_sampling:
            data_list = self._attach_quality(data_list)
        else:
            data_list = self._check_plain_labels(data_list)
        self._log_label_drops(len(data_list))
        return data_list

    def video_name(self, video_path: str) -> str:
        """The video name of a ``video_path`` (its sidecar's name).

        Args:
            video_path (str): e.g. ``frames/train/GOT-10k_Train_000001``.

        Returns:
            str: the path without the leading ``frames_prefix`` folder, with
            '/' separators (``train/GOT-10k_Train_000001``).
        """
        parts = video_path.replace(os.sep, '/').strip('/').split('/')
        if self.frames_prefix and parts[0] == self.frames_prefix:
            parts = parts[1:]
        return '/'.join(parts)

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
        ann = osp.join(self.data_prefix['img_path'], info['ann_path'])
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
                self.data_prefix['img_path'],
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

    def get_bboxes_from_video(self, video_idx: int) -> np.ndarray:
        """(N, 4) xywh boxes of a track (plain mode; mmtrack's reader,
        or, for a track with bad lines under ``strict=False``, NaN rows
        for the lines that are not four numbers)."""
        info = self.get_data_info(video_idx)
        if 'frame_valid' not in info:
            return super().get_bboxes_from_video(video_idx)
        ann = osp.join(self.data_prefix['img_path'], info['ann_path'])
        return read_annotation(ann)[0]

    def get_ann_infos_from_video(self, video_idx: int) -> dict:
        """mmtrack's annotation infos; frames with a bad box (kept under
        ``strict=False``) are not visible and not valid."""
        infos = super().get_ann_infos_from_video(video_idx)
        valid = self.get_data_info(video_idx).get('frame_valid')
        if valid is not None:
            infos['visible'] = infos['visible'] & valid
            infos['bboxes_isvalid'] = infos['bboxes_isvalid'] & valid
        return infos

    def full_init(self) -> None:
        """Load the data list, then build the per-video sampling index."""
        super().full_init()
        if self.usot_sampling and self._video_groups is None:
            groups: Dict[str, List[int]] = {}
            q_v = np.zeros(self.num_videos, np.float64)
            corner = np.zeros(self.num_videos, np.float64)
            for idx in range(self.num_videos):
                info = self.get_data_info(idx)
                groups.setdefault(info['quality_path'], []).append(idx)
                q_v[idx] = info['q_v']
                corner[idx] = info['corner_freq']
            self._video_groups = [
                np.asarray(v, np.int64) for v in groups.values()
            ]
            self._track_q_v = q_v
            self._track_corner_freq = corner

    def __len__(self) -> int:
        """Videos (USOT training), tracks (plain training) or frames (test)."""
        if not self._fully_initialized:
            self.full_init()
        if self.usot_sampling and not self.test_mode:
            return len(self._video_groups)
        return super().__len__()

    # ------------------------------------------------------------ control
    def set_stage(self, stage: str) -> None:
        """Switch the sampling stage (called by the stage-switch hook).

        Args:
            stage (str): 'naive' (template + search) or 'cycle' (also
                ``num_memory_frames`` memory frames).
        """
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        self.stage = stage

    def set_epoch(self, epoch: int, seed: Optional[int] = None) -> None:
        """Set the epoch (and the sampler's seed) of the sampling generator.

        Args:
            epoch (int): the epoch, mixed into the generator's seed.
            seed (int, optional): a shared seed (the sampler's), used when
                the dataset has no ``seed`` of its own. Defaults to None.
        """
        self._epoch = int(epoch)
        if seed is not None:
            self._shared_seed = int(seed)

    @property
    def num_sampling_videos(self) -> int:
        """int: videos the USOT sampler indexes (sidecar groups)."""
        if not self._fully_initialized:
            self.full_init()
        if not self.usot_sampling:
            return self.num_videos
        return len(self._video_groups)

    def stream_key(self) -> int:
        """A CRC of the labels' *names*, mixed into the sampling seed.

        The annotation file's base name and the tracks' ``video_path``
        entries (relative to ``data_root``), not the folder they are in:
        the same labels copied elsewhere (another checkout, another
        ``--out``) give the same draws, while two sources of a
        ``ConcatDataset`` get different streams.

        Returns:
            int: a 32-bit key.
        """
        if self._stream_key is None:
            if not self._fully_initialized:
                self.full_init()
            names = [osp.basename(str(self.ann_file))]
            names += [
                str(self.get_data_info(i)['video_path']).replace(os.sep, '/')
                for i in range(self.num_videos)
            ]
            self._stream_key = zlib.crc32('\n'.join(names).encode())
        return self._stream_key

    def _train_rng(self) -> np.random.Generator:
        """The generator of this process and epoch (see class docstring)."""
        info = torch.utils.data.get_worker_info()
        key = (os.getpid(), self._epoch)
        if self._rng is None or self._rng_key != key:
            seed = self.seed if self.seed is not None else self._shared_seed
            if seed is not None:
                entropy = [
                    seed % _UINT32,
                    self._epoch,
                    get_rank(),
                    0 if info is None else info.id + 1,
                    self.stream_key(),
                ]
            elif info is not None:
                entropy = [info.seed % _UINT32]
            else:
                entropy = [int(np.random.randint(0, _SEED_HIGH))]
            self._rng = np.random.default_rng(entropy)
            self._rng_key = key
        return self._rng

    # ------------------------------------------------------------ sampling
    def video_score(self, track_index: int) -> Tuple[float, float]:
        """``(Q, corner_freq)`` of a track, ``Q = Q_v - corner_freq / 3``.

        Args:
            track_index (int): data-list index of the track.

        Returns:
            tuple[float, float]: the θ1 score and the corner frequency.
        """
        corner = float(self._track_corner_freq[track_index])
        q = float(self._track_q_v[track_index]) - (
            self.corner_freq_weight * corner
        )
        return q, corner

    def _pick_track(self, video_index: int, rng: np.random.Generator) -> int:
        group = self._video_groups[video_index]
        return int(group[rng.integers(len(group))])

    def select_video(
        self, index: int, rng: np.random.Generator
    ) -> Tuple[int, int, bool]:
        """The θ1 gate and the nearby re-sampling (paper Sec. 4.1).

        Official ``lib/dataset_loader/datasets_usot.py``: a video whose
        ``Q_v - corner_freq / 3`` (Q_v of Eq. (4)) is below θ1 is replaced
        by a nearby one.

        Args:
            index (int): the video index given by the sampler.
            rng (np.random.Generator): the generator.

        Returns:
            tuple[int, int, bool]: the video index, the data-list index of
            its track, and whether the video was re-sampled.
        """
        num = len(self._video_groups)
        if not 0 <= index < num:
            raise IndexError(f'video index {index} out of range [0, {num})')
        track = self._pick_track(index, rng)
        q, corner = self.video_score(track)
        if q >= self.video_quality_threshold and corner < self.max_corner_freq:
            return index, track, False
        lo = max(0, index - self.resample_before)
        # The official end bound is min(N - 1, i + 31), exclusive, so the
        # last video is never a re-sampling candidate; with a single video
        # the range would be empty, and the video itself is used.
        hi = max(min(num - 1, index + self.resample_after), lo + 1)
        best = (index, track)
        for _ in range(self.resample_tries):
            videos = rng.integers(lo, hi, self.resample_draws)
            tracks = [self._pick_track(int(v), rng) for v in videos]
            scores = [self.video_score(t)[0] for t in tracks]
            k = int(np.argmax(scores))
            best = (int(videos[k]), tracks[k])
            if scores[k] > self.video_quality_threshold:
                break
        return best[0], best[1], True

    def num_candidates(self, q_v: float, num_frames: int) -> int:
        """``n_cand = int(3 / Q_v)`` (at least 1; ``num_frames`` if Q_v=0)."""
        if q_v <= 0:
            return num_frames
        return max(1, int(self.candidate_factor / q_v))

    def frame_scores(
        self, info: dict, positions: np.ndarray, stage: str
    ) -> np.ndarray:
        """Template frame scores of the stage (Q_f of Eq. (5), T_l / T_u of
        Eq. (7); official ``lib/dataset_loader/datasets_usot.py``).

        naive: ``Q_f + 2/3 corner``; cycle: ``Q_f + 0.5 corner + 0.5 (T_u -
        T_l) / n_frames``.

        Args:
            info (dict): the track's data info (USOT mode).
            positions (np.ndarray): 0-based frame positions in the track.
            stage (str): 'naive' or 'cycle'.

        Returns:
            np.ndarray: float64 scores, one per position.
        """
        qf = info['frame_quality_short'][positions].astype(np.float64)
        corner = info['corner'][positions].astype(np.float64)
        if stage == 'naive':
            return qf + self.naive_corner_weight * corner
        span = (info['t_u'][positions] - info['t_l'][positions]).astype(
            np.float64
        )
        n = len(info['frame_quality_short'])
        return (
            qf
            + self.cycle_corner_weight * corner
            + self.fragment_weight * span / n
        )

    def memory_positions(
        self, info: dict, template: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Memory frames: the farthest of M + 3 draws in ``[T_l, T_u]``.

        Args:
            info (dict): the track's data info (USOT mode).
            template (int): the template position.
            rng (np.random.Generator): the generator.

        Returns:
            np.ndarray: int64 positions (M,), farthest first.
        """
        t_l, t_u = int(info['t_l'][template]), int(info['t_u'][template])
        num = self.num_memory_frames + self.far_memory_draws
        valid = info.get('frame_valid')
        if valid is None:
            draws = rng.integers(t_l, t_u + 1, num)
        else:  # strict=False: only frames with a good box
            usable = t_l + np.flatnonzero(valid[t_l : t_u + 1])
            draws = usable[rng.integers(0, len(usable), num)]
        order = np.argsort(-np.abs(draws - template), kind='stable')
        return draws[order[: self.num_memory_frames]]

    def random_boxes(
        self, frame_size: Sequence[int], num: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Random boxes for the Table 4 control (``box_source='random'``).

        Each side is ``U(lo, hi)`` times the frame side (``lo, hi =
        random_box_side_range``); the longer side is then shrunk so that the
        aspect ratio is at most ``random_box_max_aspect``; the centre is
        uniform over the positions that keep the box inside the frame.

        Args:
            frame_size (Sequence[int]): (W, H) of the original frame.
            num (int): number of boxes.
            rng (np.random.Generator): the generator.

        Returns:
            np.ndarray: of shape (num, 4), float32 xyxy in frame pixels.
        """
        width, height = float(frame_size[0]), float(frame_size[1])
        lo, hi = self.random_box_side_range
        w = rng.uniform(lo, hi, num) * width
        h = rng.uniform(lo, hi, num) * height
        aspect = self.random_box_max_aspect
        w = np.minimum(w, aspect * h)
        h = np.minimum(h, aspect * w)
        cx = rng.uniform(w / 2, width - w / 2)
        cy = rng.uniform(h / 2, height - h / 2)
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        return boxes.astype(np.float32)

    def sample_instance(
        self,
        index: int,
        rng: np.random.Generator,
        stage: Optional[str] = None,
    ) -> dict:
        """Draw one training instance without loading images.

        Args:
            index (int): video index (``0 <= index < len(self)``).
            rng (np.random.Generator): the generator.
            stage (str, optional): 'naive' or 'cycle'. Defaults to None
                (the dataset's :attr:`stage`).

        Returns:
            dict: ``requested_index`` (int), ``video_index`` (int, after the
            θ1 gate), ``resampled`` (bool), ``track_index`` (int, data-list
            index), ``video`` (str), ``track_id`` (int), ``video_score``
            (float, Q), ``num_candidates`` (int), ``stage`` (str),
            ``template_position`` (int), ``memory_positions`` (list[int],
            empty in the naive stage), ``positions`` (list[int], [template,
            search, memory...], template == search), ``frame_ids``
            (list[int], file frame ids), ``img_paths`` (list[str]),
            ``video_length`` (int) and ``bboxes`` (np.ndarray (K, 4)
            float32 xyxy in original-frame pixels, pseudo or random).
        """
        if not self.usot_sampling:
            raise RuntimeError(
                'sample_instance needs USOT sampling (quality sidecars); '
                f'{self.ann_file} was loaded without them'
            )
        stage = self.stage if stage is None else stage
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        video, track, resampled = self.select_video(int(index), rng)
        info = self.get_data_info(track)
        n = len(info['frame_quality_short'])
        n_cand = self.num_candidates(info['q_v'], n)
        valid = info.get('frame_valid')
        if valid is None:
            cands = rng.integers(0, n, n_cand)
        else:  # strict=False: only frames with a good box
            usable = np.flatnonzero(valid)
            cands = usable[rng.integers(0, len(usable), n_cand)]
        scores = self.frame_scores(info, cands, stage)
        template = int(cands[int(np.argmax(scores))])
        memory = (
            self.memory_positions(info, template, rng).tolist()
            if stage == 'cycle'
            else []
        )
        positions = [template, template] + [int(m) for m in memory]
        if self.box_source == 'pseudo':
            bboxes = info['bboxes'][positions].astype(np.float32)
        else:
            drawn = self.random_boxes(
                info['frame_size'], len(positions) - 1, rng
            )
            bboxes = np.concatenate([drawn[:1], drawn], axis=0)
        frame_ids = [info['start_frame_id'] + p for p in positions]
        img_paths = [
            osp.join(
                self.data_prefix['img_path'],
                info['video_path'],
                info['framename_template'] % f,
            )
            for f in frame_ids
        ]
        return dict(
            requested_index=int(index),
            video_index=video,
            resampled=resampled,
            track_index=track,
            video=info['video_name'],
            track_id=info['track_id'],
            video_score=self.video_score(track)[0],
            num_candidates=n_cand,
            stage=stage,
            template_position=template,
            memory_positions=[int(m) for m in memory],
            positions=positions,
            frame_ids=frame_ids,
            img_paths=img_paths,
            video_length=n,
            bboxes=bboxes,
        )

    def instance_to_results(
        self, instance: dict, rng: np.random.Generator
    ) -> Dict[str, list]:
        """Per-frame lists of a :meth:`sample_instance` draw (pipeline input).

        Args:
            instance (dict): a draw of :meth:`sample_instance`.
            rng (np.random.Generator): draws the per-frame ``aug_seed``.

        Returns:
            dict[str, list]: ``img_path``, ``frame_id``, ``video_id``,
            ``video_length``, ``instances`` and ``aug_seed``, each with one
            entry per frame in the order [template, search, memory...].
        """
        num = len(instance['positions'])
        seeds = rng.integers(0, _SEED_HIGH, num)
        return dict(
            img_path=list(instance['img_paths']),
            frame_id=list(instance['positions']),
            video_id=[instance['track_index']] * num,
            video_length=[instance['video_length']] * num,
            instances=[
                [dict(bbox=box, bbox_label=np.array(1, dtype=np.int32))]
                for box in instance['bboxes']
            ],
            aug_seed=[int(s) for s in seeds],
        )

    def prepare_train_data(self, video_idx: int) -> Optional[dict]:
        """One training sample.

        USOT mode: :meth:`sample_instance` for the video ``video_idx``,
        then the pipeline on :meth:`instance_to_results`. Plain mode:
        :class:`BaseSOTDataset`'s two random videos.

        Args:
            video_idx (int): video index (USOT mode) or ignored (plain).

        Returns:
            dict, optional: the pipeline output.
        """
        if not self.usot_sampling:
            return super().prepare_train_data(video_idx)
        rng = self._train_rng()
        instance = self.sample_instance(video_idx, rng)
        return self.pipeline(self.instance_to_results(instance, rng))


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


def _check_data_root(data_root: str, ann_file: str, has_sidecars: bool):
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
