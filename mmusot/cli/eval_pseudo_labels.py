# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Score pseudo boxes against ground truth (the paper's Table 5).

Template and memory frames are drawn by the training sampler's own object
(:class:`mmusot.datasets.samplers.PseudoLabelSampler`) in the cycle-memory
stage (Sec. 3.3; official ``lib/dataset_loader/datasets_usot.py``): per
sample a kept track, ``int(3 / Q_v)`` candidate frames (Q_v of Eq. (4);
every frame when Q_v <= 0) of which the best by
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

(``python data_converters/eval_pseudo_labels.py`` is the same command; the
library is :mod:`mmusot.datasets.pseudo_label_eval`.)
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np

from mmusot.datasets.pseudo_label_eval import (  # noqa: F401 (re-exported)
    GT_NAMES,
    IOU_THRESHOLDS,
    draw_template_memory,
    evaluate,
    find_gt,
    find_infos,
    load_tracks,
    rates,
    sample_template_memory,
    usot_sampler_rates,
)
from mmusot.pseudo_labels import iter_frames, load_records
from mmusot.pseudo_labels.video_io import VideoSource, list_images
from mmusot.pseudo_labels.writer import AnnotationError
from mmusot.visualization import (
    draw_label_check,
    film_strip,
    open_video_writer,
)


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
            img = draw_label_check(
                frame,
                f'{j + 1} IoU {tr["iou"][j]:.2f}',
                tr['gt'][j] if tr['valid'][j] else None,
                tr['pseudo'][j],  # not drawn when not finite (--fix)
            )
            if mp4:
                if writer is None:
                    h, w = img.shape[:2]
                    writer = open_video_writer(
                        str(dest / f'{name}.mp4'), 10, (w, h)
                    )
                writer.write(img)
            if j in pick:
                tiles.append(img)
        if writer is not None:
            writer.release()
        if tiles:
            cv2.imwrite(str(dest / f'{name}.png'), film_strip(tiles))


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


def _print_gate(usot: dict) -> None:
    print(
        f'  re-sampled by the θ1 gate: '
        f'{100 * usot["naive"]["resampled"]:.1f}% (naive), '
        f'{100 * usot["cycle"]["resampled"]:.1f}% (cycle); mean '
        f'template-memory interval {usot["cycle"]["mean_interval"]:.1f} '
        'frames (paper: 41.1 GOT-10k, 64.6 VID)'
    )


def _print_table(res: dict) -> None:
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


def _print_usot(usot: dict) -> None:
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
    _print_gate(usot)
    if usot['cycle']['without_gt']:
        print(
            f'  {usot["cycle"]["without_gt"]} cycle-stage draw(s) hit '
            'videos without ground truth (not scored)'
        )


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
    _print_gate(usot)
    if args.json:
        Path(args.json).write_text(
            json.dumps(dict(usot_sampler=usot), indent=1)
        )
    return 0


def _evaluate(args) -> int:
    out = Path(args.out)
    if args.gt_root is None:
        return _sampler_statistics(args, out)
    res, tracks, missing = evaluate(
        out,
        Path(args.gt_root),
        args.samples,
        args.seed,
        args.include_filtered,
        args.fix,
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
    print(
        f'{len(tracks)} track(s) scored '
        f'({"all" if args.include_filtered else "kept"} tracks)'
    )
    _print_table(res)
    if args.sampler == 'usot':
        usot = usot_sampler_rates(
            out,
            find_infos(out, args.ann_file),
            tracks,
            args.samples,
            args.seed,
        )
        res['usot_sampler'] = usot
        _print_usot(usot)
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
