# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Unlabeled videos -> a pseudo-labelled mmtrack SOT dataset (USOT stage 1).

Examples::

    mmusot-videos-to-pseudo my_videos/ data/pseudo
    mmusot-videos-to-pseudo my_videos/ data/pseudo \\
        --workers 8 --shard 3/16          # one array job of 16
    mmusot-videos-to-pseudo my_videos/ data/pseudo \\
        --merge-only                      # after all shards

(``python data_converters/videos_to_pseudo_sot.py`` is the same command.)
The input is searched recursively for video files (mp4, avi, mov, mkv, ...)
and frame folders (a folder holding images, in lexicographic order).
Edited videos are split at their shot cuts, each shot discovered on its
own (``--no-shot-cut``: never, as the official code). Symbolic links to
folders are followed (a folder reached twice, e.g. through a link loop,
is skipped with a warning); an output folder inside the input folder is
not searched.
"""

import argparse
import sys
from typing import List, Optional

from mmusot.pseudo_labels import PseudoLabelError, video_sources
from mmusot.pseudo_labels.shots import SHOT_CUT_DISTANCE

from .pseudo_label_args import add_common_args, report_error, run_conversion


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'input', help='a folder (searched recursively) or one video file'
    )
    # users' videos are often edited: split them at shot cuts by default
    add_common_args(parser, default_shot_cut=SHOT_CUT_DISTANCE)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the converter.

    Returns:
        int: the exit status (0; 1 when the input is missing or holds no
        video, or the output folder is the input folder, or an annotation
        file is bad at merge; 2 when the output folder was made with other
        settings; 3 when another converter is writing the same videos).
    """
    args = parse_args(argv)
    try:
        sources = video_sources(args.input, args.out)
    except PseudoLabelError as err:
        return report_error(err)
    return run_conversion(args, sources, dict(input=args.input))


if __name__ == '__main__':
    sys.exit(main())
