# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Score pseudo boxes against ground truth (the paper's Table 5).

Template and memory frames are drawn the way USOT's training sampler draws
them in the cycle-memory stage (Sec. 3.3; official
``lib/dataset_loader/datasets_usot.py``): per sample a kept track,
``int(3 / Q_v)`` candidate frames (Q_v of Eq. (4)) of which the best by
``Q_f + 0.5 * corner + (T_u - T_l) / (2 n)`` (Q_f of Eq. (5), T_l / T_u of
Eq. (7)) is the template, and the 4 farthest of 7 draws from its fragment
[T_l, T_u] are the memory frames. The IoU > 0.3 / > 0.5 success rates and
the mean IoU are reported, plus the same over every frame. ``--render``
writes overlay PNG strips (and mp4s) with pseudo boxes in green and ground
truth in red.

``--sampler usot`` draws the instances through the training dataset's own
sampler instead (:class:`mmusot.datasets.PseudoLabelSOTDataset`, needs the
OpenMMLab stack): video selection with the θ1 gate and nearby
re-sampling, the stage's template score, memory frames (Sec. 3.2-3.3,
``lib/dataset_loader/datasets_usot.py``), in both stages, so the paper's
Table 5 is measured on exactly what training sees. Without ``--gt-root``
it reports the sampler's statistics only (θ1 re-sampling rate, template to
memory frame distance), which need no ground truth.

The pseudo boxes are checked as training checks them (four finite numbers
per line, positive size, overlapping the frame): a bad line stops the tool,
naming the file and line; ``--fix`` leaves such frames out of the scores.

Example::

    mmusot-eval-pseudo-labels data/sot_eval_pseudo \\
        --gt-root ../shared/data/sot_eval --render work_dirs/render
    mmusot-eval-pseudo-labels data/sot_eval_pseudo \\
        --gt-root ../shared/data/sot_eval --sampler usot --samples 10000
    mmusot-eval-pseudo-labels data/my_pseudo --sampler usot  # statistics

(``python data_converters/eval_pseudo_labels.py`` is the same command.)
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from mmusot.pseudo_labels import (
    box_iou,
    iter_frames,
    load_records,
    read_boxes_xywh,
    xywh_to_xyxy,
)
from mmusot.pseudo_labels.video_io import VideoSource, list_images
from mmusot.pseudo_labels.writer import (
    AnnotationError,
    annotation_error,
    read_annotation,
)

GT_NAMES = ('groundtruth_rect.txt', 'groundtruth.txt')

# The official cycle-stage draw (``lib/dataset_loader/datasets_usot.py``,
# the same constants as :mod:`mmusot.datasets.pseudo_label_sot_dataset`).
CANDIDATE_FACTOR = 3.0  # n_cand = int(3 / Q_v)
MIN_VIDEO_QUALITY = 1e-6  # Q_v floor, so a zero Q_v gives many candidates
CYCLE_CORNER_WEIGHT = 0.5  # score: Q_f + 0.5 corner + ...
FRAGMENT_WEIGHT = 0.5  # ... + 0.5 (T_u - T_l) / n_frames
NUM_MEMORY_FRAMES = 4  # N_mem (Sec. 3.3)
FAR_MEMORY_DRAWS = 3  # 4 + 3 draws, the 4 farthest kept
# Table 5 reports the fraction of boxes with IoU above these.
IOU_THRESHOLDS = (0.3, 0.5)


def find_gt(gt_root: Path, video: str):
    """The GT file of a video: <root>/<video>/ or its parent (for .../img)."""
    for folder in (gt_root / video, (gt_root / video).parent):
        for n in GT_NAMES:
            if (folder / n).is_file():
                return folder / n
    return None


def load_tracks(
    out: Path, gt_root: Path, include_filtered: bool, fix: bool = False
):
    """(video, track, pseudo xyxy, gt xyxy, valid mask, quality) tuples.

    A pseudo box that is not usable raises an :class:`AnnotationError`
    naming the file and line; with ``fix`` its frame is left out of the
    scores (``valid`` False) and counted in ``bad_boxes``.
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
                    pseudo=pseudo,
                    gt=gt,
                    valid=valid,
                    iou=box_iou(pseudo, gt),
                    bad_boxes=len(problems),
                )
            )
    return tracks, missing


def sample_template_memory(tracks: List[dict], samples: int, seed: int):
    """Training-style template / memory draws; IoU lists of both.

    Args:
        tracks (list[dict]): from :func:`load_tracks`.
        samples (int): template draws (each also draws the memory frames).
        seed (int): the random seed.

    Returns:
        tuple[np.ndarray, np.ndarray]: the IoU of every template and of
        every memory frame drawn (frames without valid ground truth are
        left out).
    """
    rng = np.random.default_rng(seed)
    usable = [t for t in tracks if t['valid'].any()]
    tmpl, mem = [], []
    if not usable:
        return np.zeros(0), np.zeros(0)
    for _ in range(samples):
        tr = usable[rng.integers(len(usable))]
        q = tr['track']
        n = len(tr['pseudo'])
        n_cand = max(
            1, int(CANDIDATE_FACTOR / max(q['q_v'], MIN_VIDEO_QUALITY))
        )
        pos = rng.integers(0, n, n_cand)
        t_l = np.asarray(q['t_l'][:n])
        t_u = np.asarray(q['t_u'][:n])
        score = (
            np.asarray(q['frame_quality_short'][:n])[pos]
            + CYCLE_CORNER_WEIGHT * np.asarray(q['corner'][:n])[pos]
            + FRAGMENT_WEIGHT * (t_u[pos] - t_l[pos]) / n
        )
        p = int(pos[int(np.argmax(score))])
        if tr['valid'][p]:
            tmpl.append(tr['iou'][p])
        draws = rng.integers(
            t_l[p], t_u[p] + 1, NUM_MEMORY_FRAMES + FAR_MEMORY_DRAWS
        )
        order = np.argsort(-np.abs(draws - p), kind='stable')
        far = draws[order][:NUM_MEMORY_FRAMES]
        mem.extend(tr['iou'][m] for m in far if tr['valid'][m])
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


def find_infos(out: Path, ann_file=None) -> str:
    """The infos file of a converted folder (``--ann-file`` or the only
    ``*_infos.txt`` in it)."""
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


def usot_sampler_rates(
    out: Path,
    ann_file: str,
    tracks,
    samples: int,
    seed: int,
    statistics_only: bool = False,
) -> dict:
    """Table 5 through the training dataset's own sampler, both stages.

    Draws ``samples`` instances per stage with
    :meth:`PseudoLabelSOTDataset.sample_instance` (video indices as one
    epoch of ``USOTQuotaSampler`` visits them: permuted, tiled) and scores
    the template and memory pseudo boxes against the ground truth of the
    track drawn. ``statistics_only`` (no ground truth at all): the mean
    interval counts every draw.

    Returns:
        dict: per stage ``template`` (and ``memory`` in the cycle stage)
        rates, ``resampled`` (fraction of draws the θ1 gate re-sampled),
        ``without_gt`` (draws whose video has no ground truth), and
        ``mean_interval`` (mean |memory - template| frame distance).
    """
    from mmusot.datasets import PseudoLabelSOTDataset

    dataset = PseudoLabelSOTDataset(
        data_root=str(out),
        ann_file=os.path.relpath(ann_file, str(out)),
        data_prefix=dict(img_path=''),
        usot_sampling=True,
        serialize_data=False,
        pipeline=[],
    )
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
            if tr is None:
                without_gt += 1
                if statistics_only:  # no ground truth at all
                    p = draw['template_position']
                    gaps += [abs(m - p) for m in draw['memory_positions']]
                continue
            n = len(tr['iou'])
            p = draw['template_position']
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


def frames_of(out: Path, rec_video: str, record: dict):
    folder = out / 'frames' / rec_video
    if folder.is_dir():
        files = sorted(str(p) for p in folder.glob('*.jpg'))
        return iter_frames(VideoSource(rec_video, str(folder), tuple(files)))
    src = record['source']
    files = tuple(list_images(Path(src))) if os.path.isdir(src) else None
    return iter_frames(VideoSource(rec_video, src, files))


def render(out: Path, tracks, dest: Path, strip: int, mp4: bool) -> None:
    """Overlay pseudo (green) and GT (red) boxes; PNG strip and mp4."""
    recs = {r['video']: r for r in load_records(str(out))}
    dest.mkdir(parents=True, exist_ok=True)
    for tr in tracks:
        name = tr['video'].replace('/', '__')
        if tr['track']['track_id']:
            name += f'__w{tr["track"]["track_id"]:03d}'
        start = tr['track']['start_frame_id'] - 1
        n = len(tr['pseudo'])
        pick = set(np.linspace(0, n - 1, strip).round().astype(int))
        tiles, writer = [], None
        for k, frame in enumerate(
            frames_of(out, tr['video'], recs[tr['video']])
        ):
            j = k - start
            if j < 0:
                continue
            if j >= n:
                break
            img = frame.copy()
            if tr['valid'][j]:
                g = tr['gt'][j].astype(int)
                cv2.rectangle(img, tuple(g[:2]), tuple(g[2:]), (0, 0, 255), 2)
            if np.isfinite(tr['pseudo'][j]).all():  # --fix: bad boxes
                p = tr['pseudo'][j].astype(int)
                cv2.rectangle(img, tuple(p[:2]), tuple(p[2:]), (0, 255, 0), 2)
            cv2.putText(
                img,
                f'{j + 1} IoU {tr["iou"][j]:.2f}',
                (5, 20),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.6,
                (255, 255, 255),
                2,
            )
            if mp4:
                if writer is None:
                    h, w = img.shape[:2]
                    writer = cv2.VideoWriter(
                        str(dest / f'{name}.mp4'),
                        cv2.VideoWriter_fourcc(*'mp4v'),
                        10,
                        (w, h),
                    )
                writer.write(img)
            if j in pick:
                scale = 240 / img.shape[0]
                tiles.append(cv2.resize(img, None, fx=scale, fy=scale))
        if writer is not None:
            writer.release()
        if tiles:
            cv2.imwrite(str(dest / f'{name}.png'), np.concatenate(tiles, 1))


def main(argv: Optional[List[str]] = None) -> int:
    """Score the pseudo labels (``sys.argv[1:]`` when ``argv`` is None).

    Returns:
        int: the exit status (0; 1 on a bad pseudo-label line without
        ``--fix``; 2 on bad arguments).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='pseudo-labelled dataset root')
    parser.add_argument(
        '--gt-root',
        default=None,
        help='folder with <video>/groundtruth_rect.txt; needed to score the '
        'boxes (without it, --sampler usot reports the sampler statistics '
        'only)',
    )
    parser.add_argument('--samples', type=int, default=10000)
    parser.add_argument(
        '--sampler',
        choices=('simple', 'usot'),
        default='simple',
        help='simple: the quick training-style draw (default); usot: the '
        "training dataset's own sampler (θ1 gate, both stages)",
    )
    parser.add_argument(
        '--ann-file',
        default=None,
        help='with --sampler usot: the infos file, relative to the folder '
        '(default: the only '
        '*_infos.txt in the folder)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--include-filtered',
        action='store_true',
        help='also score tracks the quality filter dropped',
    )
    parser.add_argument('--render', default=None, help='overlay folder')
    parser.add_argument(
        '--strip', type=int, default=8, help='frames per PNG strip'
    )
    parser.add_argument(
        '--mp4',
        action='store_true',
        help='with --render, also write an mp4 per video',
    )
    parser.add_argument('--json', default=None, help='write results here')
    parser.add_argument(
        '--fix',
        action='store_true',
        help='leave frames whose pseudo box is unusable out of the scores '
        '(counted) instead of stopping at the first one',
    )
    args = parser.parse_args(argv)
    if args.gt_root is None and (args.sampler != 'usot' or args.render):
        parser.error(
            '--gt-root is required to score the pseudo boxes'
            + (' and to --render them' if args.render else '')
            + ' (a folder with <video>/groundtruth_rect.txt); without it, '
            '--sampler usot reports the sampler statistics only'
        )
    try:
        return _evaluate(args)
    except AnnotationError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1


def _sampler_statistics(args, out: Path) -> int:
    """``--sampler usot`` without ground truth: the sampler's statistics."""
    usot = usot_sampler_rates(
        out,
        find_infos(out, args.ann_file),
        [],
        args.samples,
        args.seed,
        statistics_only=True,
    )
    for stage in usot.values():
        stage.pop('template')
        stage.pop('memory', None)
        stage.pop('without_gt')
    print(
        'USOT training sampler (PseudoLabelSOTDataset.sample_instance), '
        f'{args.samples} draws per stage; no --gt-root, so the boxes are '
        'not scored:'
    )
    print(
        f'  re-sampled by the θ1 gate: '
        f'{100 * usot["naive"]["resampled"]:.1f}% (naive), '
        f'{100 * usot["cycle"]["resampled"]:.1f}% (cycle); mean '
        f'template-memory interval {usot["cycle"]["mean_interval"]:.1f} '
        'frames (paper: 41.1 GOT-10k, 64.6 VID)'
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(dict(usot_sampler=usot), indent=1)
        )
    return 0


def _evaluate(args) -> int:
    out = Path(args.out)
    if args.gt_root is None:
        return _sampler_statistics(args, out)
    gt_root = Path(args.gt_root)
    tracks, missing = load_tracks(
        out, gt_root, args.include_filtered, args.fix
    )
    bad = sum(t['bad_boxes'] for t in tracks)
    if bad:
        print(
            f'warning: {bad} frame(s) with an unusable pseudo box left out '
            'of the scores (--fix)',
            file=sys.stderr,
        )
    for v in missing:
        print(f'warning: no ground truth for {v}', file=sys.stderr)
    tmpl, mem = sample_template_memory(tracks, args.samples, args.seed)
    every = (
        np.concatenate([t['iou'][t['valid']] for t in tracks])
        if tracks
        else np.zeros(0)
    )
    res = dict(
        template=rates(tmpl),
        memory=rates(mem),
        all_frames=rates(every),
        tracks=len(tracks),
        per_video={
            t['video']
            + (
                f'#{t["track"]["track_id"]}' if t['track']['track_id'] else ''
            ): float(t['iou'][t['valid']].mean()) if t['valid'].any() else None
            for t in tracks
        },
    )
    print(
        f'{len(tracks)} track(s) scored '
        f'({"all" if args.include_filtered else "kept"} tracks)'
    )
    print(f'{"":12s}{"IoU>0.3":>9s}{"IoU>0.5":>9s}{"mean IoU":>10s}{"n":>8s}')
    for key, paper in (
        ('template', '63.2% / 45.5%'),
        ('memory', '62.0% / 43.8%'),
        ('all_frames', ''),
    ):
        r = res[key]
        print(
            f'{key:12s}{100 * r["iou03"]:8.1f}%{100 * r["iou05"]:8.1f}%'
            f'{r["mean_iou"]:10.3f}{r["n"]:8d}   '
            + (f'(paper, GOT-10k: {paper})' if paper else '')
        )
    if args.sampler == 'usot':
        usot = usot_sampler_rates(
            out,
            find_infos(out, args.ann_file),
            tracks,
            args.samples,
            args.seed,
        )
        res['usot_sampler'] = usot
        print('USOT training sampler (PseudoLabelSOTDataset.sample_instance):')
        for stage, key in (
            ('naive', 'template'),
            ('cycle', 'template'),
            ('cycle', 'memory'),
        ):
            r = usot[stage][key]
            print(
                f'{stage + " " + key:17s}{100 * r["iou03"]:8.1f}%'
                f'{100 * r["iou05"]:8.1f}%{r["mean_iou"]:10.3f}{r["n"]:8d}'
            )
        print(
            f'  re-sampled by the θ1 gate: '
            f'{100 * usot["naive"]["resampled"]:.1f}% (naive), '
            f'{100 * usot["cycle"]["resampled"]:.1f}% (cycle); mean '
            f'template-memory interval {usot["cycle"]["mean_interval"]:.1f} '
            'frames (paper: 41.1 GOT-10k, 64.6 VID)'
        )
        if usot['cycle']['without_gt']:
            print(
                f'  {usot["cycle"]["without_gt"]} cycle-stage draw(s) hit '
                'videos without ground truth (not scored)'
            )
    for v, m in res['per_video'].items():
        print(f'  {v}: mean IoU ' + ('n/a' if m is None else f'{m:.3f}'))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    if args.render:
        render(out, tracks, Path(args.render), args.strip, args.mp4)
        print(f'overlays in {args.render}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
