# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track one object in a video, a frame folder or a webcam stream.

Writes an annotated mp4 (the box, its score, the frame number and, when
ground truth is given, the ground-truth box and the live IoU) and a text
file with one ``x,y,w,h`` box per frame; prints the speed and the mean IoU.
Runs headless (nothing is shown on screen).

The first box comes from ``--init-box x,y,w,h``, else from the first line
of ``--gt FILE``, else, for an OTB-style sequence folder
(``<seq>/img/*.jpg`` + ``<seq>/groundtruth_rect.txt``), from its
ground-truth file, which also gives the live IoU.

Examples::

    python tools/track_video.py clip.mp4 --init-box 120,80,60,90 \\
        --config configs/usot/usot_r50_test-otb-folder.py \\
        --checkpoint usot.pth
    python tools/track_video.py ../shared/data/sot_eval/Crossing \\
        --config CONFIG --checkpoint CKPT        # OTB folder: box + IoU
    python tools/track_video.py frames/ --gt frames_gt.txt --config ... \\
        --out a.mp4
    python tools/track_video.py --webcam 0 --init-box 200,150,80,80 \\
        --max-frames 300 --config ... --checkpoint ...

Any mmtrack SOT config works (``mmtrack::sot/...`` names too); without
``--checkpoint`` the model has the config's initial weights (only useful
to check the plumbing).

An exported USOT (``mmusot-export CONFIG CHECKPOINT DIR``) runs on the
torch-free runtime (:mod:`mmusot.runtime`) with ``--onnx DIR``: ONNX
Runtime by default, OpenVINO with ``--backend openvino``; no
``--config`` or ``--checkpoint`` then (the folder holds both), and
``--cfg-options`` may only override ``model.test_cfg.KEY=VALUE``::

    mmusot-track ../shared/data/sot_eval/Crossing \\
        --onnx work_dirs/deploy/usot_mnv2 --threads 2
    mmusot-track clip.mp4 --init-box 120,80,60,90 --backend openvino \\
        --onnx work_dirs/deploy/usot_mnv2 \\
        --cfg-options model.test_cfg.crop_mode=official

Checks, so that nothing comes out silently wrong:

* the ground truth must have one box per frame: a folder whose frame
  count differs from its ground-truth lines is refused before tracking
  (as ``tools/test.py`` refuses it), a video whose frames turn out to
  outnumber, or to fall short of, the ``--gt`` lines is an error once
  that is known (the boxes tracked are still written);
* the output files are checked before the model is built (a folder where
  a file is expected, a folder that cannot be created or written);
* a frame that cannot be read (a damaged or empty image file) or that has
  another size than the first frame stops the run with an error naming
  the frame; the boxes and the video up to it are written first.
  ``--resize-frames`` resizes frames of another size to the first
  frame's size instead (boxes are then in the first frame's pixels);
* the first box must lie in the first frame: its centre inside, and not
  larger than the frame (:func:`mmusot.apis.check_box`; a box may stick
  out on one side, for a target partly out of view).
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmusot.apis.video import (
    FrameError,
    FrameSource,
    TrackingError,
    format_summary,
    load_tracker,
    open_source,
    track_video,
)
from mmusot.cli.tracker_args import (
    add_allow_partial_arg,
    add_backend_args,
    build_runtime,
    check_backend_args,
)
from mmusot.config import CONFIG_DIR

#: USOT-MobileNetV2, the model `make demo` and the CPU configs train.
DEFAULT_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_test-otb-folder.py'
)
#: The error of this tool, :class:`mmusot.apis.video.TrackingError` (its
#: former name, kept for callers).
DemoError = TrackingError

__all__ = [
    'DemoError',
    'FrameError',
    'FrameSource',
    'TrackingError',
    'cli_main',
    'main',
    'parse_args',
    'run',
]


EPILOG = """examples:
  mmusot-track clip.mp4 --init-box 120,80,60,90 --config CONFIG \\
      --checkpoint usot.pth
  mmusot-track SEQ_FOLDER --onnx DIR              # exported, onnxruntime
  mmusot-track SEQ_FOLDER --backend openvino --onnx DIR --threads 2
  (DIR: written by mmusot-export CONFIG CHECKPOINT DIR)"""


# -------------------------------------------------------------------- CLI
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Track one object in a video, a frame folder or a '
        'webcam; write an annotated mp4 and the boxes.',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        'input',
        nargs='?',
        help='video file, image folder or OTB-style sequence folder',
    )
    parser.add_argument(
        '--webcam', type=int, help='webcam index (instead of an input)'
    )
    parser.add_argument('--init-box', help='first box: x,y,w,h in pixels')
    parser.add_argument(
        '--gt', help='ground truth: one x,y,w,h line per frame'
    )
    parser.add_argument(
        '--config',
        help='tracker config (default: USOT-MobileNetV2 test config); '
        '--backend pytorch only',
    )
    parser.add_argument(
        '--checkpoint', help='tracker weights (--backend pytorch only)'
    )
    add_allow_partial_arg(parser)
    parser.add_argument(
        '--device',
        default='cpu',
        help='cpu, cuda:0, ... (the runtime backends: cpu or cuda)',
    )
    add_backend_args(parser)
    parser.add_argument(
        '--threads',
        type=int,
        help="CPU threads: torch's (default: torch's own) or the "
        "runtime's (default: all CPUs this process may use)",
    )
    parser.add_argument(
        '--out',
        help='annotated video (default: work_dirs/demo/<input name>.mp4)',
    )
    parser.add_argument(
        '--out-txt',
        help='boxes, x,y,w,h per line (default: the video name with .txt)',
    )
    parser.add_argument('--max-frames', type=int, help='stop after N frames')
    parser.add_argument(
        '--fps', type=float, help='output video frame rate (default: input)'
    )
    parser.add_argument(
        '--resize-frames',
        action='store_true',
        help='resize frames whose size differs from the first frame to its '
        'size (boxes are then in pixels of the first frame); by default '
        'such a frame stops the run with an error (the boxes so far are '
        'written)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides key=value (as tools/test.py; with --onnx '
        'only model.test_cfg.KEY=VALUE)',
    )
    args = parser.parse_args(argv)
    if (args.input is None) == (args.webcam is None):
        parser.error('give either an input (video/folder) or --webcam N')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error('--max-frames must be >= 1')
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    check_backend_args(parser, args)
    if args.backend == 'pytorch' and args.config is None:
        args.config = DEFAULT_CONFIG
    return args


def run(args: argparse.Namespace) -> dict:
    """Track as ``args`` say (:func:`mmusot.apis.video.track_video`),
    print the summary; raises :class:`TrackingError` on bad input."""
    source = open_source(args.input, args.webcam)
    backend = getattr(args, 'backend', 'pytorch')

    def build():
        if backend != 'pytorch':
            from mmusot.runtime import DeployError

            try:
                return build_runtime(args)
            except DeployError as err:
                raise TrackingError(str(err)) from None
        if getattr(args, 'threads', None):
            import torch

            torch.set_num_threads(args.threads)
        tracker = load_tracker(
            args.config,
            args.checkpoint,
            args.device,
            args.cfg_options,
            allow_partial=args.allow_partial,
        )
        if args.checkpoint is None:
            print(
                "warning: no --checkpoint: the tracker has its config's "
                'initial weights, its boxes mean nothing',
                file=sys.stderr,
            )
        return tracker

    summary = track_video(
        source,
        build,
        init_box=args.init_box,
        gt_path=args.gt,
        out=args.out,
        out_txt=args.out_txt,
        max_frames=args.max_frames,
        fps=args.fps,
        resize_frames=args.resize_frames,
    )
    print(format_summary(summary, args.gt or source.gt_file))
    return summary


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the tool; returns the summary (exits with 1 on a bad input)."""
    args = parse_args(argv)
    try:
        return run(args)
    except TrackingError as err:
        sys.exit(f'error: {err}')


def cli_main(argv: Optional[List[str]] = None) -> int:
    """Console entry point ``mmusot-track``: exit status 0 on success."""
    main(argv)
    return 0
