# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Where would the converter split these videos? Shot-cut distances.

For every video (file or frame folder, found as the converters find them)
prints the frames that begin a new shot at the given threshold, the
smallest distance among them and the largest distance inside a shot, so
that ``--shot-cut D`` can be chosen between the two. See
:mod:`mmusot.pseudo_labels.shots`.

Example::

    python tools/analysis/shot_cuts.py ../shared/data/unlabeled \\
        ../shared/data/sot_eval
"""

import argparse
import sys
from typing import List, Optional

from mmusot.pseudo_labels import (
    SHOT_CUT_DISTANCE,
    ShotCutDetector,
    VideoReadError,
    discover_sources,
    iter_frames,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('inputs', nargs='+', help='folders or video files')
    parser.add_argument(
        '--shot-cut',
        type=float,
        default=SHOT_CUT_DISTANCE,
        metavar='D',
        help=f'threshold (default {SHOT_CUT_DISTANCE})',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    rows, inside, at_cuts = [], [], []
    for root in args.inputs:
        try:
            sources = discover_sources(root)
        except FileNotFoundError as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
        if not sources:
            print(f'error: no videos under {root}', file=sys.stderr)
            return 1
        for source in sources:
            detect = ShotCutDetector(args.shot_cut)
            cuts, cut_d, shot_d = [], [], [0.0]
            try:
                for n, frame in enumerate(iter_frames(source)):
                    if detect(frame):
                        cuts.append(n + 1)
                        cut_d.append(detect.last_distance)
                    elif n:
                        shot_d.append(detect.last_distance)
            except VideoReadError as err:
                print(f'error: {err}', file=sys.stderr)
                return 1
            inside.append(max(shot_d))
            at_cuts += cut_d
            rows.append(
                f'| {source.name} | {max(shot_d):.3f} | '
                f'{min(cut_d):.3f} | {cuts} |'
                if cuts
                else f'| {source.name} | {max(shot_d):.3f} | | |'
            )
    print('| video | largest inside a shot | smallest cut | cuts (frame) |')
    print('|---|---:|---:|---|')
    print('\n'.join(rows))
    lowest = f'{min(at_cuts):.3f}' if at_cuts else 'none'
    print(
        f'\n{len(rows)} videos, threshold {args.shot_cut}: largest distance '
        f'inside a shot {max(inside):.3f}, smallest cut {lowest}, '
        f'{len(at_cuts)} cut(s)'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
