# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Lay OTB-style sequences out as a VOT toolkit workspace's sequences.

Writes ``<workspace>/sequences`` (``list.txt``, per sequence ``sequence``,
``color/%08d.jpg`` links and ``groundtruth.txt``), so that ``vot
initialize`` keeps the local data instead of downloading a dataset::

    mmusot-otb-to-vot ../shared/data/sot_eval vot_ws \\
        --sequences Crossing bag book
    vot initialize vot2018/shortterm --workspace vot_ws

VOT sequences that keep their original rotated boxes
(``groundtruth_polygon.txt``) get them as polygons unless
``--rectangles``. See :func:`mmusot.toolkits.otb_to_vot`.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmusot.toolkits.layouts import DEFAULT_FPS, otb_to_vot

#: The workspace's sequence folder (the VOT toolkit's default).
SEQUENCES_DIR = 'sequences'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog='mmusot-otb-to-vot', description=__doc__.splitlines()[0]
    )
    parser.add_argument('src', help='folder of OTB-style sequences')
    parser.add_argument(
        'workspace', help='VOT workspace (sequences/ is written in it)'
    )
    parser.add_argument(
        '--sequences', nargs='+', help='sequence names (default: all)'
    )
    parser.add_argument(
        '--max-frames', type=int, help='first frames only (default: all)'
    )
    parser.add_argument(
        '--rectangles',
        action='store_true',
        help='write axis-aligned boxes even where polygons exist',
    )
    parser.add_argument(
        '--copy', action='store_true', help='copy frames (default: link)'
    )
    parser.add_argument(
        '--fps', type=int, default=DEFAULT_FPS, help='default 30'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    dst = osp.join(args.workspace, SEQUENCES_DIR)
    try:
        names = otb_to_vot(
            args.src,
            dst,
            sequences=args.sequences,
            max_frames=args.max_frames,
            polygons=not args.rectangles,
            copy=args.copy,
            fps=args.fps,
        )
    except (OSError, ValueError) as err:
        print(f'mmusot-otb-to-vot: {err}', file=sys.stderr)
        return 1
    print(f'{len(names)} sequence(s) written to {dst}: {" ".join(names)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
