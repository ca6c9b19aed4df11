# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""How well a tracker follows labelled tracks, and whether its box size holds.

A check that needs no ground truth: run it on the pseudo labels of
training clips (the converter's output) to choose a recipe, a checkpoint
or test-time settings; an evaluation set (``--otb``) may be measured to
report, never to choose. Two measurements per track:

* **follow** (free running): the tracker starts from the track's first
  picked box and runs to the end of the track (at most ``--max-frames``);
  on the frames the dynamic programming picked (not the interpolated
  ones) it reports the mean IoU with the labels and the median size ratio
  ``r = sqrt(w h / (w_label h_label))`` (``log r`` < 0: the box shrank),
  and the share of frames where the box is under half or over twice the
  label's size.
* **forced** (``--forced``, USOT models only): teacher forcing. For a few
  picked frames t, the tracker's state is set to the label box of frame t
  with its sides scaled by ``f`` (``--scales``), frame t is tracked, and
  the box the model picks (before the tracker's size smoothing) is
  compared with the label. With ``f = 1`` the median ``log r`` is the
  model's size bias per step; ``gain`` = 1 - the slope of ``log r`` over
  ``log f``: 1 finds the true size from a wrong one in one step, 0 keeps
  the size the search crop assumed (the size then drifts as a random
  walk).

Examples::

    python tools/analysis/follow_pseudo_labels.py data/unlabeled_pseudo \\
        --config configs/usot/usot_mobilenetv2_test-otb-folder.py \\
        --checkpoint work_dirs/run/epoch_30.pth --forced
    python tools/analysis/follow_pseudo_labels.py data/unlabeled_pseudo \\
        --opencv MIL
"""

import argparse
import json
import math
import os.path as osp
import sys
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

#: Side factors of the forced state around the label box.
DEFAULT_SCALES = (0.67, 1.0, 1.5)
#: Sizes under 1 / RATIO_FAIL or over RATIO_FAIL times the label's count
#: as lost scale.
RATIO_FAIL = 2.0

Track = Tuple[str, List[str], Dict[int, List[float]]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Follow pseudo-label (or OTB) tracks with a tracker: '
        'mean IoU, size drift and, for USOT, the teacher-forced size '
        'response.'
    )
    parser.add_argument(
        'labels', help='pseudo-label folder (converter output)'
    )
    parser.add_argument(
        '--otb',
        action='store_true',
        help='LABELS is an OTB-style folder (<seq>/img, groundtruth_rect.txt)',
    )
    parser.add_argument('--config', help='USOT (or any mmtrack SOT) config')
    parser.add_argument('--checkpoint', help='its weights')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='config overrides, e.g. model.test_cfg.penalty_k=0.05',
    )
    parser.add_argument(
        '--opencv', help='an OpenCV tracker instead (MIL, KCF, CSRT)'
    )
    parser.add_argument(
        '--max-frames',
        type=int,
        default=150,
        help='frames followed per track (default: 150)',
    )
    parser.add_argument(
        '--tracks', nargs='+', help='only these tracks (names)'
    )
    parser.add_argument(
        '--forced',
        action='store_true',
        help='also the teacher-forced size response (USOT)',
    )
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        default=list(DEFAULT_SCALES),
        help='side factors of the forced state (default: 0.67 1 1.5)',
    )
    parser.add_argument(
        '--forced-frames',
        type=int,
        default=8,
        help='frames measured per track with --forced (default: 8)',
    )
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write per-track figures (JSON)')
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.opencv):
        parser.error('give --config (and --checkpoint) or --opencv')
    if args.forced and args.opencv:
        parser.error('--forced measures a USOT model, not --opencv')
    return args


# ------------------------------------------------------------- the tracks
def pseudo_label_tracks(root: str) -> Iterator[Track]:
    """Kept tracks of a pseudo-label folder.

    Yields:
        tuple: the track's name, its frame files (one per annotation line)
        and ``{index in the track: [x, y, w, h]}`` for the frames the
        dynamic programming picked.
    """
    infos = osp.join(root, 'pseudo_infos.txt')
    if not osp.isfile(infos):
        raise FileNotFoundError(
            f'{infos} not found: {root} is not a pseudo-label folder'
        )
    with open(infos) as f:
        lines = [line.strip() for line in f][1:]
    sidecars: Dict[str, dict] = {}
    for line in filter(None, lines):
        video_path, ann_path, start, end = line.split(',')
        start, end = int(start), int(end)
        video = osp.basename(video_path)
        if video not in sidecars:
            with open(osp.join(root, 'quality', video + '.json')) as f:
                sidecars[video] = json.load(f)
        sidecar = sidecars[video]
        track = next(
            t
            for t in sidecar['tracks']
            if osp.basename(t['ann_path']) == osp.basename(ann_path)
        )
        boxes = np.loadtxt(osp.join(root, ann_path), delimiter=',', ndmin=2)
        files = [
            osp.join(root, video_path, sidecar['frame_template'] % frame_id)
            for frame_id in range(start, end + 1)
        ]
        picked = {
            int(p) - start: boxes[int(p) - start].tolist()
            for p in track['picked_frames']
            if start <= int(p) <= end
        }
        yield osp.splitext(osp.basename(ann_path))[0], files, picked


def otb_tracks(root: str) -> Iterator[Track]:
    """Sequences of an OTB-style folder, every frame labelled."""
    from mmusot.evaluation.ope import load_sequences

    for seq in load_sequences(root):
        boxes = {i: [float(v) for v in b] for i, b in enumerate(seq.gt)}
        yield seq.name, list(seq.frames), boxes


def usable(box: List[float]) -> bool:
    """A label box to measure against: finite, at least 2 px a side."""
    return all(math.isfinite(v) for v in box) and min(box[2:]) >= 2


# ------------------------------------------------------------- following
def iou_xywh(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``[x, y, w, h]`` boxes."""
    from mmusot.pseudo_labels.boxes import box_iou

    return float(
        box_iou(np.r_[a[:2], a[:2] + a[2:]], np.r_[b[:2], b[:2] + b[2:]])
    )


def follow_track(
    make_tracker: Callable, track: Track, max_frames: int
) -> Optional[dict]:
    """Free-running figures of one track (see the module doc)."""
    import cv2

    name, files, labels = track
    picked = sorted(i for i, b in labels.items() if usable(b))
    if len(picked) < 2:
        return None
    first = picked[0]
    last = min(len(files) - 1, first + max_frames)
    measured = [i for i in picked if first < i <= last]
    if not measured:
        return None
    tracker = make_tracker()
    tracker.init(cv2.imread(files[first]), labels[first])
    ious, logs = [], []
    for index in range(first + 1, last + 1):
        box, _ = tracker.track(cv2.imread(files[index]))
        if index in labels and index in measured:
            label = np.asarray(labels[index], float)
            box = np.asarray(box, float)
            ious.append(iou_xywh(box, label))
            area = max(box[2] * box[3], 1e-6)
            logs.append(0.5 * math.log(area / (label[2] * label[3])))
    logs = np.asarray(logs)
    return dict(
        track=name,
        frames=last - first,
        measured=len(ious),
        iou=float(np.mean(ious)),
        log_r=float(np.median(logs)),
        lost_scale=float(np.mean(np.abs(logs) > math.log(RATIO_FAIL))),
    )


# ---------------------------------------------------------------- forced
def forced_track(
    engine, track: Track, scales: List[float], num_frames: int
) -> List[dict]:
    """Teacher-forced size ratios of one track (see the module doc)."""
    import cv2
    import torch

    _, files, labels = track
    picked = sorted(i for i, b in labels.items() if usable(b))
    if len(picked) < 2:
        return []
    later = picked[1:]
    step = max(1, len(later) // num_frames)
    chosen = later[::step][:num_frames]
    first = picked[0]
    state, _ = engine.init_target(
        cv2.imread(files[first]), np.asarray(labels[first], dtype=np.float64)
    )
    captured = {}
    select = state.select

    def capture(*args, **kwargs):
        best = select(*args, **kwargs)
        captured['box'] = best.bboxes[0].detach().cpu().double().numpy()
        return best

    state.select = capture  # this state's raw box, before the update
    cfg = state.cfg
    records = []
    for index in chosen:
        frame = cv2.imread(files[index])
        x, y, w, h = labels[index]
        center = torch.tensor([x + w / 2, y + h / 2])
        for f in scales:
            state.center = center.clone().to(state.size)
            state.size = torch.tensor([w * f, h * f]).to(state.size)
            engine.track_targets(frame, [state])
            pad = cfg.context_amount * (w + h) * f
            s_z = math.sqrt((w * f + pad) * (h * f + pad))
            box = captured['box'] * s_z / cfg.exemplar_size
            area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-6)
            records.append(
                dict(
                    frame=index,
                    scale=f,
                    log_r=0.5 * math.log(area / (w * h)),
                )
            )
    return records


def summarise_forced(records: List[dict], scales: List[float]) -> dict:
    """Median ``log r`` per scale and the gain."""
    per_scale = {}
    for f in scales:
        logs = [r['log_r'] for r in records if r['scale'] == f]
        per_scale[f] = float(np.median(logs)) if logs else float('nan')
    xs = [math.log(r['scale']) for r in records]
    gain = float('nan')
    if len(set(xs)) > 1:
        ys = [r['log_r'] for r in records]
        gain = 1.0 - float(np.polyfit(xs, ys, 1)[0])
    return dict(per_scale=per_scale, gain=gain, n=len(records))


# ------------------------------------------------------------------ main
def parse_cfg_options(items: List[str]) -> Optional[dict]:
    """``KEY=VALUE`` strings as mmengine's ``DictAction`` reads them."""
    if not items:
        return None
    from mmengine.config import DictAction

    namespace = argparse.Namespace()
    DictAction(option_strings=[], dest='opts')(None, namespace, items)
    return namespace.opts


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    engine = None
    if args.opencv:
        from mmusot.apis import OpenCVTracker

        def make_tracker():
            return OpenCVTracker(args.opencv)

    else:
        from mmusot.apis import InferenceEngine, Tracker, build_tracker

        model = build_tracker(
            args.config,
            args.checkpoint,
            args.device,
            parse_cfg_options(args.cfg_options),
        )
        engine = InferenceEngine(model)

        def make_tracker():
            return Tracker(model)

    reader = otb_tracks if args.otb else pseudo_label_tracks
    rows, forced = [], []
    header = f'{"track":<28} {"frames":>6} {"IoU":>6} {"log r":>7} {"lost":>5}'
    if args.forced:
        header += ' ' + ' '.join(
            f'{"f=" + format(f, "g"):>7}' for f in args.scales
        )
        header += f' {"gain":>6}'
    print(header)
    for track in reader(args.labels):
        if args.tracks and track[0] not in args.tracks:
            continue
        row = follow_track(make_tracker, track, args.max_frames)
        if row is None:
            continue
        if args.forced:
            records = forced_track(
                engine, track, args.scales, args.forced_frames
            )
            for r in records:
                r['track'] = track[0]
            forced += records
            row['forced'] = summarise_forced(records, args.scales)
        rows.append(row)
        print(format_row(row, args.scales), flush=True)
    if not rows:
        print('no track with two usable labelled frames')
        return 1
    total = dict(
        track=f'MEAN of {len(rows)}',
        frames=int(sum(r['frames'] for r in rows)),
        iou=float(np.mean([r['iou'] for r in rows])),
        log_r=float(np.median([r['log_r'] for r in rows])),
        lost_scale=float(np.mean([r['lost_scale'] for r in rows])),
    )
    if args.forced:
        total['forced'] = summarise_forced(forced, args.scales)
    print(format_row(total, args.scales))
    print(
        'IoU: mean over tracks of the mean IoU on picked frames; log r: '
        'median log size ratio (< 0: smaller than the label); lost: share '
        f'of frames under 1/{RATIO_FAIL:g} or over {RATIO_FAIL:g}x the '
        'label size'
        + (
            '; f=: forced-state median log r; gain: share of a size error '
            'recovered in one step'
            if args.forced
            else ''
        )
    )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(mean=total, tracks=rows), f, indent=1)
    return 0


def format_row(row: dict, scales: List[float]) -> str:
    text = (
        f'{row["track"][:28]:<28} {row["frames"]:>6} {row["iou"]:>6.3f} '
        f'{row["log_r"]:>+7.3f} {row["lost_scale"]:>5.2f}'
    )
    if 'forced' in row:
        forced = row['forced']
        text += ' ' + ' '.join(
            f'{forced["per_scale"][f]:>+7.3f}' for f in scales
        )
        text += f' {forced["gain"]:>6.2f}'
    return text


if __name__ == '__main__':
    sys.exit(main())
