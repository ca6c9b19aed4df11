# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Print the scores of a ``vot analysis`` JSON file as a table.

::

    vot analysis --workspace vot_ws --name sot_eval USOT
    mmusot-vot-summary vot_ws/analysis/sot_eval.json

One row per tracker, one column per experiment and measure (the names
the toolkit's analyses give them, as in ``vot report``). Needs the
optional extra ``vot``. See :func:`mmusot.toolkits.vot_summary.
vot_analysis_scores`.
"""

import argparse
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog='mmusot-vot-summary', description=__doc__.splitlines()[0]
    )
    parser.add_argument('analysis', help='<workspace>/analysis/<name>.json')
    parser.add_argument(
        '--digits', type=int, default=3, help='decimals (default 3)'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    try:
        from mmusot.toolkits.vot_summary import vot_analysis_scores

        scores = vot_analysis_scores(args.analysis)
    except ImportError as err:
        print(f'mmusot-vot-summary: needs vot-toolkit: {err}', file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f'mmusot-vot-summary: {err}', file=sys.stderr)
        return 1
    columns = sorted({k for row in scores.values() for k in row})
    print('| tracker | ' + ' | '.join(columns) + ' |')
    print('|---' * (len(columns) + 1) + '|')
    for tracker, row in scores.items():
        cells = [
            f'{row[c]:.{args.digits}f}' if c in row else '-' for c in columns
        ]
        print(f'| {tracker} | ' + ' | '.join(cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
