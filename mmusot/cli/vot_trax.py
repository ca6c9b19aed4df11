# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Serve an mmusot tracker over TraX, for the VOT toolkit.

The VOT toolkit starts this command for each sequence and talks TraX to it
(:mod:`mmusot.toolkits.vot_trax`). Register it in the workspace's
``trackers.ini``; ``--print-trackers-ini`` writes the section with
absolute paths (the toolkit runs trackers in a temporary folder)::

    mmusot-vot-trax configs/usot/usot_mobilenetv2_test-otb-folder.py \\
        --checkpoint usot_mnv2.pth --threads 2 \\
        --print-trackers-ini USOT_MNv2 >> vot_ws/trackers.ini
    vot evaluate --workspace vot_ws USOT_MNv2

An exported USOT (``mmusot-export CONFIG CHECKPOINT DIR``) runs on the
torch-free runtime instead, ONNX Runtime (``--onnx DIR`` alone) or
OpenVINO, with no config or checkpoint::

    mmusot-vot-trax --onnx work_dirs/deploy/usot_mnv2 --threads 2 \\
        --print-trackers-ini USOT_MNv2_ORT >> vot_ws/trackers.ini
    mmusot-vot-trax --backend openvino --onnx work_dirs/deploy/usot_mnv2 \\
        --cfg-options model.test_cfg.crop_mode=official \\
        --print-trackers-ini USOT_MNv2_OV >> vot_ws/trackers.ini

Any mmtrack SOT config works (``mmtrack::sot/...`` names too);
``--opencv MIL`` serves an OpenCV baseline instead of a model. Needs the
optional extra ``vot`` (``pip install 'vot-trax>=4.0.2,<5'``). Exit
status: 0 after the client's ``quit``, 1 after an error reply (bad input,
a malformed TraX message, or a tracker that could not start: the client
gets the reason), 3 when the client went away, 2 for bad arguments.
"""

import argparse
import os.path as osp
import shlex
import sys
from typing import List, Optional

from mmusot.toolkits.vot_trax import (
    DEFAULT_IMAGE_FORMATS,
    EXIT_OK,
    IMAGE_FORMATS,
    POLYGON_BOX_MODES,
    TraxTrackerServer,
    isolate_protocol_streams,
    trackers_ini_entry,
)

from .tracker_args import add_tracker_args, build, check_tracker_args

#: Seconds the toolkit waits for each reply (start-up included) in the
#: printed ``trackers.ini`` section: model loading takes a while on a
#: busy CPU.
DEFAULT_INI_TIMEOUT = 300
#: Exit status for bad command-line arguments (argparse's).
EXIT_USAGE = 2
EPILOG = """examples:
  mmusot-vot-trax CONFIG --checkpoint usot.pth --print-trackers-ini USOT
  mmusot-vot-trax --onnx DIR --print-trackers-ini USOT_ORT  # exported model
  mmusot-vot-trax --backend openvino --onnx DIR --print-trackers-ini USOT_OV
  mmusot-vot-trax --opencv MIL --print-trackers-ini MIL"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog='mmusot-vot-trax',
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_tracker_args(parser)
    parser.add_argument(
        '--name',
        help='tracker name in the handshake (default: the config name, '
        'the --onnx folder name and backend, or opencv-KIND)',
    )
    parser.add_argument(
        '--polygon-box',
        choices=POLYGON_BOX_MODES,
        default='minmax',
        help='polygon -> box: bounding rectangle (minmax, default) or the '
        'area-preserving box of SiamFC-style VOT scripts (area)',
    )
    parser.add_argument(
        '--image-formats',
        nargs='+',
        choices=IMAGE_FORMATS,
        default=list(DEFAULT_IMAGE_FORMATS),
        help='image formats to accept (default: path buffer)',
    )
    parser.add_argument(
        '--print-trackers-ini',
        metavar='IDENTIFIER',
        help='print a trackers.ini section running this command, and exit',
    )
    parser.add_argument(
        '--ini-timeout',
        type=int,
        default=DEFAULT_INI_TIMEOUT,
        help='reply timeout of the printed section, seconds (default 300)',
    )
    args = parser.parse_args(argv)
    check_tracker_args(parser, args)
    return args


def _absolute(path: str) -> str:
    """Absolute local paths; ``package::`` names and URLs unchanged."""
    if '::' in path or '://' in path:
        return path
    return osp.abspath(osp.expanduser(path))


def serve_command(args: argparse.Namespace) -> List[str]:
    """The command line that serves the tracker of ``args``, with absolute
    paths and the same interpreter.

    Returns:
        list[str]: program and arguments.
    """
    command = [sys.executable, '-m', 'mmusot.cli.vot_trax']
    if args.config is not None:
        command.append(_absolute(args.config))
    elif args.onnx is not None:
        command += ['--backend', args.backend, '--onnx', _absolute(args.onnx)]
    else:
        command += ['--opencv', args.opencv]
    if args.checkpoint:
        command += ['--checkpoint', _absolute(args.checkpoint)]
    if args.allow_partial:
        command.append('--allow-partial')
    if args.device != 'cpu':
        command += ['--device', args.device]
    if args.cfg_options:
        command += ['--cfg-options', *args.cfg_options]
    if args.name:
        command += ['--name', args.name]
    if args.polygon_box != 'minmax':
        command += ['--polygon-box', args.polygon_box]
    if list(args.image_formats) != list(DEFAULT_IMAGE_FORMATS):
        command += ['--image-formats', *args.image_formats]
    if args.threads:
        command += ['--threads', str(args.threads)]
    return command


def tracker_name(args: argparse.Namespace) -> str:
    """The handshake's tracker name: ``--name``, else ``opencv-KIND``,
    ``<--onnx folder name>-<backend>`` or the config's file name."""
    if args.name:
        return args.name
    if args.opencv:
        return f'opencv-{args.opencv}'
    if args.onnx is not None:
        folder = osp.basename(osp.normpath(osp.abspath(args.onnx)))
        return f'{folder}-{args.backend}'
    return osp.splitext(osp.basename(args.config))[0]


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    if args.print_trackers_ini:
        try:
            section = trackers_ini_entry(
                args.print_trackers_ini,
                serve_command(args),
                label=args.name,
                timeout=args.ini_timeout,
            )
        except ValueError as err:
            print(f'mmusot-vot-trax: {err}', file=sys.stderr)
            return EXIT_USAGE
        print(section, end='')
        return EXIT_OK
    # Before anything logs: stdout now belongs to the protocol alone.
    isolate_protocol_streams()
    options = dict(
        name=tracker_name(args),
        description=shlex.join(sys.argv[1:] if argv is None else argv),
        polygon_mode=args.polygon_box,
        image_formats=args.image_formats,
    )
    try:
        tracker = build(args)
    except Exception as err:  # reported to the client, not a timeout
        reason = f'cannot start the tracker: {type(err).__name__}: {err}'
        print(f'mmusot-vot-trax: {reason}', file=sys.stderr)
        return TraxTrackerServer(None, **options).fail(reason)
    if args.onnx is not None:  # what the folder holds, then the command
        options['description'] = (
            f'{tracker.package.model} (exported), on {args.backend}: '
            + options['description']
        )
    return TraxTrackerServer(tracker, **options).run()


if __name__ == '__main__':
    sys.exit(main())
