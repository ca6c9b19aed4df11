# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Lay OTB-style sequences out as a GOT-10k subset.

Writes ``<root>/<subset>`` as the ``got10k`` toolkit reads it, so that
``ExperimentGOT10k(root, subset)`` runs offline on local data::

    mmusot-otb-to-got10k ../shared/data/sot_eval got10k_local \\
        --sequences Crossing bag book
    mmusot-got10k CONFIG --checkpoint CKPT --root got10k_local

``val`` keeps every box (the toolkit scores it locally: AO, SR); ``test``
keeps the first box only, as GOT-10k's test set. See
:func:`mmusot.toolkits.otb_to_got10k`.
"""

import argparse
import sys
from typing import List, Optional

from mmusot.toolkits.layouts import GOT10K_SUBSETS, otb_to_got10k


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog='mmusot-otb-to-got10k', description=__doc__.splitlines()[0]
    )
    parser.add_argument('src', help='folder of OTB-style sequences')
    parser.add_argument('root', help='GOT-10k root (<root>/<subset>/)')
    parser.add_argument(
        '--subset', choices=GOT10K_SUBSETS, default='val', help='default val'
    )
    parser.add_argument(
        '--sequences', nargs='+', help='sequence names (default: all)'
    )
    parser.add_argument(
        '--max-frames', type=int, help='first frames only (default: all)'
    )
    parser.add_argument(
        '--copy', action='store_true', help='copy frames (default: link)'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    try:
        names = otb_to_got10k(
            args.src,
            args.root,
            subset=args.subset,
            sequences=args.sequences,
            max_frames=args.max_frames,
            copy=args.copy,
        )
    except (OSError, ValueError) as err:
        print(f'mmusot-otb-to-got10k: {err}', file=sys.stderr)
        return 1
    print(
        f'{len(names)} sequence(s) written to {args.root}/{args.subset}: '
        f'{" ".join(names)}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
