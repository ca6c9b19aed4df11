# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Raw GOT-10k / LaSOT / ImageNet-VID / YouTube-VOS -> pseudo-labelled SOT.

The datasets' own labels are ignored: only their frames are read. Each
layout picks the preset of its official preprocessing script,
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` (flow
sub-sampling gap, initial T_f, fragment search gap, theta2 / theta3 of
Eq. (7), 2000-frame cap, LaSOT's 221-frame windows).

Examples::

    mmusot-datasets-to-pseudo got10k data/got10k data/got10k_pseudo \\
        --workers 8 --shard 0/4
    mmusot-datasets-to-pseudo lasot data/LaSOT/LaSOTBenchmark \\
        data/lasot_pseudo --exclude data/LaSOT/testing_set.txt

(``python data_converters/datasets_to_pseudo_sot.py`` is the same command.)

Layouts (relative to the given root):

* got10k: ``{train,val}/GOT-10k_*/*.jpg`` (preset got10k)
* lasot: ``<class>/<class>-<n>/img/*.jpg``; videos listed in
  ``--exclude`` (testing_set.txt) and coin-1 / coin-19 are skipped
  (preset lasot: windows of 221 frames, stride 200)
* vid: ``Data/VID/{train/ILSVRC2015_VID_train_000k,val}/<video>/*.JPEG``
  (preset vid)
* ytvos: ``train/JPEGImages/<video>/*.jpg`` (preset ytvos: gap 1)
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mmusot.pseudo_labels import PseudoLabelError
from mmusot.pseudo_labels.datasets import (  # noqa: F401 (kept importable)
    LASOT_DROPPED,
    LAYOUTS,
    dataset_sources,
    got10k_sources,
    lasot_sources,
    vid_sources,
    ytvos_sources,
)

from .pseudo_label_args import add_common_args, report_error, run_conversion


def main(argv: Optional[List[str]] = None) -> int:
    """Run the converter (``sys.argv[1:]`` when ``argv`` is None).

    Returns:
        int: the exit status (0; 1 when the root is missing or holds no
        video of the layout, or an annotation file is bad at merge; 2 when
        the output folder was made with other settings; 3 when another
        converter is writing the same videos).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('layout', choices=LAYOUTS)
    parser.add_argument('root', help='dataset root')
    parser.add_argument(
        '--exclude',
        default=None,
        help='LaSOT: testing_set.txt (one video a line)',
    )
    add_common_args(parser, default_preset='')
    args = parser.parse_args(argv)
    if not args.preset:
        args.preset = args.layout
    try:
        sources = dataset_sources(args.layout, args.root, args.exclude)
    except PseudoLabelError as err:
        return report_error(err)
    return run_conversion(
        args, sources, dict(layout=args.layout, root=str(Path(args.root)))
    )


if __name__ == '__main__':
    sys.exit(main())
