# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Pseudo boxes against ground truth, on the training draws (Table 5).

"Learning to Track Objects from Unlabeled Videos", ICCV 2021,
https://arxiv.org/abs/2108.12711, Table 5: the IoU of the pseudo boxes of
the template and memory frames that USOT's training sampler draws.

The draws go through :class:`~mmusot.datasets.samplers.PseudoLabelSampler`,
the object :class:`~mmusot.datasets.PseudoLabelSOTDataset` trains with:
:func:`sample_template_memory` draws a track uniformly, then the
sampler's cycle-stage template and memory frames
(:meth:`~PseudoLabelSampler.draw_frames`); :func:`usot_sampler_rates` draws
whole training instances through the dataset (θ1 gate, both stages).
``mmusot-eval-pseudo-labels`` is the command line over these functions.
"""

import json
import os
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from ..pseudo_labels import (
    box_iou,
    load_records,
    read_boxes_xywh,
    xywh_to_xyxy,
)
from ..pseudo_labels.writer import annotation_error, read_annotation
from .samplers.pseudo_label_sampler import PseudoLabelSampler

GT_NAMES = ('groundtruth_rect.txt', 'groundtruth.txt')
# Table 5 reports the fraction of boxes with IoU above these.
IOU_THRESHOLDS = (0.3, 0.5)
# The sidecar fields the sampler reads, with the dtypes training loads.
_SAMPLING_DTYPES = dict(
    frame_quality_short=np.float32,
    corner=np.float32,
    t_l=np.int32,
    t_u=np.int32,
)


def find_gt(gt_root: Path, video: str) -> Optional[Path]:
    """The GT file of a video: <root>/<video>/ or its parent (for .../img).

    Args:
        gt_root (Path): the ground-truth folder.
        video (str): the video name.

    Returns:
        Path, optional: the file, or None.
    """
    for folder in (gt_root / video, (gt_root / video).parent):
        for n in GT_NAMES:
            if (folder / n).is_file():
                return folder / n
    return None


def sampling_info(track: dict) -> Optional[dict]:
    """The sampler's fields of a sidecar track, as training loads them.

    Args:
        track (dict): a sidecar track.

    Returns:
        dict, optional: ``q_v`` and the per-frame arrays
        ``frame_quality_short``, ``corner`` (float32), ``t_l``, ``t_u``
        (int32); None when a field is missing (a filtered track).
    """
    if track.get('q_v') is None:
        return None
    info = dict(q_v=float(track['q_v']))
    for key, dtype in _SAMPLING_DTYPES.items():
        if track.get(key) is None:
            return None
        info[key] = np.asarray(track[key], dtype)
    return info


def load_tracks(
    out: Path,
    gt_root: Optional[Path],
    include_filtered: bool,
    fix: bool = False,
) -> Tuple[List[dict], List[str]]:
    """The scored tracks of a pseudo-label folder, and videos without GT.

    A pseudo box that is not usable raises an
    :class:`~mmusot.pseudo_labels.writer.AnnotationError` naming the file
    and line; with ``fix`` its frame is left out of the scores (``valid``
    False) and counted in ``bad_boxes``.

    Args:
        out (Path): the pseudo-label folder.
        gt_root (Path, optional): the ground-truth folder.
        include_filtered (bool): also the tracks the quality filter
            dropped.
        fix (bool): leave bad pseudo boxes out instead of raising.
            Defaults to False.

    Returns:
        tuple[list[dict], list[str]]: per track ``video``, ``track`` (the
        sidecar track), ``sampling`` (:func:`sampling_info`), ``pseudo``
        and ``gt`` (n, 4) xyxy, ``valid`` (n,) bool, ``iou`` (n,) and
        ``bad_boxes``; and the videos without ground truth.
    """
    tracks, missing = [], []
    for rec in load_records(str(out)):
        if rec['status'] == 'failed':
            continue
        gt_file = find_gt(gt_root, rec['video']) if gt_root else None
        if gt_file is None:
            missing.append(rec['video'])
            continue
        gt_all = xywh_to_xyxy(read_boxes_xywh(str(gt_file)))
        with open(out / rec['quality_path']) as f:
            quality = json.load(f)
        for t in quality['tracks']:
            if not t.get('ann_path') or not (t['kept'] or include_filtered):
                continue
            ann = str(out / t['ann_path'])
            pseudo, problems = read_annotation(ann, rec.get('frame_size'))
            if problems and not fix:
                raise annotation_error(
                    ann,
                    problems,
                    'fix the file or re-run the converter for this video, '
                    'or pass --fix to leave such frames out of the scores',
                )
            good = np.ones(len(pseudo), bool)
            good[[row for row, _, _ in problems]] = False
            pseudo = xywh_to_xyxy(pseudo)
            s = t['start_frame_id'] - 1
            gt = gt_all[s : s + len(pseudo)]
            n = min(len(gt), len(pseudo))
            gt, pseudo = gt[:n], pseudo[:n]
            valid = (
                np.isfinite(gt).all(1)
                & (gt[:, 2] > gt[:, 0])
                & (gt[:, 3] > gt[:, 1])
                & good[:n]
            )
            tracks.append(
                dict(
                    video=rec['video'],
                    track=t,
                    sampling=sampling_info(t),
                    pseudo=pseudo,
                    gt=gt,
                    valid=valid,
                    iou=box_iou(pseudo, gt),
                    bad_boxes=len(problems),
                )
            )
    return tracks, missing


def draw_template_memory(
    tracks: List[dict],
    samples: int,
    seed: int,
    sampler: Optional[PseudoLabelSampler] = None,
) -> List[Tuple[int, int, List[int]]]:
    """Training's cycle-stage template and memory draws on scored tracks.

    Per sample a track drawn uniformly among those with valid ground
    truth, then :meth:`PseudoLabelSampler.draw_frames` (Eq. 5, 7) with the
    same generator.

    Args:
        tracks (list[dict]): from :func:`load_tracks`.
        samples (int): template draws.
        seed (int): the random seed.
        sampler (PseudoLabelSampler, optional): the sampler. Defaults to
            None (the official settings, as training's default).

    Returns:
        list[tuple[int, int, list[int]]]: per draw the index into
        ``tracks``, the template position and the memory positions.
    """
    sampler = PseudoLabelSampler() if sampler is None else sampler
    rng = np.random.default_rng(seed)
    usable = [
        k
        for k, t in enumerate(tracks)
        if t['valid'].any() and t['sampling'] is not None
    ]
    draws = []
    if not usable:
        return draws
    for _ in range(samples):
        k = usable[rng.integers(len(usable))]
        template, memory, _ = sampler.draw_frames(
            tracks[k]['sampling'], rng, 'cycle'
        )
        draws.append((k, template, memory))
    return draws


def sample_template_memory(
    tracks: List[dict], samples: int, seed: int
) -> Tuple[np.ndarray, np.ndarray]:
    """IoUs of training-style template and memory draws.

    Args:
        tracks (list[dict]): from :func:`load_tracks`.
        samples (int): template draws (each also draws the memory frames).
        seed (int): the random seed.

    Returns:
        tuple[np.ndarray, np.ndarray]: the IoU of every template and of
        every memory frame drawn (frames without valid ground truth are
        left out).
    """
    tmpl, mem = [], []
    for k, template, memory in draw_template_memory(tracks, samples, seed):
        valid, iou = tracks[k]['valid'], tracks[k]['iou']
        for p, out in [(template, tmpl)] + [(m, mem) for m in memory]:
            if p < len(valid) and valid[p]:
                out.append(iou[p])
    return np.asarray(tmpl), np.asarray(mem)


def rates(iou: np.ndarray) -> dict:
    """Table 5's success rates of a list of IoUs.

    Args:
        iou (np.ndarray): of shape (N,).

    Returns:
        dict: ``n``, ``iou03`` and ``iou05`` (fractions above the
        :data:`IOU_THRESHOLDS`) and ``mean_iou``; NaN when N is 0.
    """
    low, high = IOU_THRESHOLDS
    if len(iou) == 0:
        return dict(
            n=0, iou03=float('nan'), iou05=float('nan'), mean_iou=float('nan')
        )
    return dict(
        n=int(len(iou)),
        iou03=float((iou > low).mean()),
        iou05=float((iou > high).mean()),
        mean_iou=float(iou.mean()),
    )


def find_infos(out: Path, ann_file: Optional[str] = None) -> str:
    """The infos file of a converted folder.

    Args:
        out (Path): the pseudo-label folder.
        ann_file (str, optional): the infos file, relative to ``out``
            unless absolute. Defaults to None (the only ``*_infos.txt``).

    Returns:
        str: the path.
    """
    if ann_file:
        path = Path(ann_file)
        path = path if path.is_absolute() else out / path
        if not path.is_file():
            raise FileNotFoundError(f'infos file {path} not found')
        return str(path)
    found = sorted(out.glob('*_infos.txt'))
    if len(found) != 1:
        raise FileNotFoundError(
            f'{out}: expected one *_infos.txt, found '
            f'{[p.name for p in found]}; pass --ann-file'
        )
    return str(found[0])


def training_dataset(out: Path, ann_file: str):
    """The training dataset of a pseudo-label folder, without a pipeline.

    Args:
        out (Path): the pseudo-label folder.
        ann_file (str): its infos file.

    Returns:
        PseudoLabelSOTDataset: with USOT sampling.
    """
    from .pseudo_label_sot_dataset import PseudoLabelSOTDataset

    return PseudoLabelSOTDataset(
        data_root=str(out),
        ann_file=os.path.relpath(ann_file, str(out)),
        data_prefix=dict(img_path=''),
        usot_sampling=True,
        serialize_data=False,
        pipeline=[],
    )


def usot_sampler_rates(
    out: Path,
    ann_file: str,
    tracks: List[dict],
    samples: int,
    seed: int,
    statistics_only: bool = False,
) -> dict:
    """Table 5 through the training dataset's own draws, both stages.

    Draws ``samples`` instances per stage with
    :meth:`PseudoLabelSOTDataset.sample_instance` (video indices as one
    epoch of ``USOTQuotaSampler`` visits them: permuted, tiled) and scores
    the template and memory pseudo boxes against the ground truth of the
    track drawn. ``statistics_only`` (no ground truth at all): the mean
    interval counts every draw.

    Args:
        out (Path): the pseudo-label folder.
        ann_file (str): its infos file.
        tracks (list[dict]): from :func:`load_tracks`.
        samples (int): draws per stage.
        seed (int): the random seed.
        statistics_only (bool): no ground truth. Defaults to False.

    Returns:
        dict: per stage ``template`` (and ``memory`` in the cycle stage)
        rates, ``resampled`` (fraction of draws the θ1 gate re-sampled),
        ``without_gt`` (draws whose video has no ground truth), and
        ``mean_interval`` (mean |memory - template| frame distance).
    """
    dataset = training_dataset(out, ann_file)
    by_track = {(t['video'], t['track']['start_frame_id']): t for t in tracks}
    rng = np.random.default_rng(seed)
    num = len(dataset)
    res = {}
    for stage in ('naive', 'cycle'):
        reps = -(-samples // num)
        order = np.concatenate([rng.permutation(num) for _ in range(reps)])
        tmpl, mem, gaps = [], [], []
        resampled = without_gt = 0
        for index in order[:samples]:
            draw = dataset.sample_instance(int(index), rng, stage=stage)
            resampled += draw['resampled']
            info = dataset.get_data_info(draw['track_index'])
            tr = by_track.get((draw['video'], info['start_frame_id']))
            p = draw['template_position']
            if tr is None:
                without_gt += 1
                if statistics_only:  # no ground truth at all
                    gaps += [abs(m - p) for m in draw['memory_positions']]
                continue
            n = len(tr['iou'])
            if p < n and tr['valid'][p]:
                tmpl.append(tr['iou'][p])
            for m in draw['memory_positions']:
                gaps.append(abs(m - p))
                if m < n and tr['valid'][m]:
                    mem.append(tr['iou'][m])
        res[stage] = dict(
            template=rates(np.asarray(tmpl)),
            resampled=resampled / max(1, samples),
            without_gt=without_gt,
        )
        if stage == 'cycle':
            res[stage]['memory'] = rates(np.asarray(mem))
            res[stage]['mean_interval'] = (
                float(np.mean(gaps)) if gaps else float('nan')
            )
    return res


def evaluate(
    out: Path,
    gt_root: Path,
    samples: int,
    seed: int,
    include_filtered: bool = False,
    fix: bool = False,
) -> Tuple[dict, List[dict], List[str]]:
    """Table 5 on the simple training-style draws, plus every frame.

    Args:
        out (Path): the pseudo-label folder.
        gt_root (Path): the ground-truth folder.
        samples (int): template draws.
        seed (int): the random seed.
        include_filtered (bool): also the filtered tracks. Defaults to
            False.
        fix (bool): leave bad pseudo boxes out. Defaults to False.

    Returns:
        tuple[dict, list[dict], list[str]]: the results (``template``,
        ``memory``, ``all_frames`` rates, ``tracks``, ``per_video`` mean
        IoU), the tracks of :func:`load_tracks` and the videos without
        ground truth.
    """
    tracks, missing = load_tracks(out, gt_root, include_filtered, fix)
    tmpl, mem = sample_template_memory(tracks, samples, seed)
    every = (
        np.concatenate([t['iou'][t['valid']] for t in tracks])
        if tracks
        else np.zeros(0)
    )
    per_video = {}
    for t in tracks:
        key = t['video']
        if t['track']['track_id']:
            key += f'#{t["track"]["track_id"]}'
        per_video[key] = (
            float(t['iou'][t['valid']].mean()) if t['valid'].any() else None
        )
    res = dict(
        template=rates(tmpl),
        memory=rates(mem),
        all_frames=rates(every),
        tracks=len(tracks),
        per_video=per_video,
    )
    return res, tracks, missing
