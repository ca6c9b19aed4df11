# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Run an mmusot tracker through the GOT-10k toolkit's experiment.

``ExperimentGOT10k(root, subset).run(tracker)`` with
:class:`mmusot.toolkits.GOT10kTracker`, then ``report``: for ``val`` the
toolkit's own AO / SR scores (also written to
``<report_dir>/GOT-10k/<name>/performance.json``), for ``test`` the
submission zip for the GOT-10k server::

    mmusot-got10k configs/usot/usot_r50_test-got10k.py \\
        --checkpoint usot.pth --root data/GOT10k --subset test --name USOT

An exported USOT (``mmusot-export``) runs on the torch-free runtime with
``--onnx DIR`` (ONNX Runtime; ``--backend openvino`` for OpenVINO), no
config or checkpoint::

    mmusot-got10k --onnx work_dirs/deploy/usot_mnv2 --threads 4 \\
        --root data/GOT10k --subset val --name USOT_ORT

The toolkit would try to download a dataset it does not find: the root
must already hold ``<subset>/list.txt`` (see ``mmusot-otb-to-got10k`` for
local data). Needs the optional extra ``got10k``.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmusot.toolkits.got10k_tracker import (
    INSTALL_HINT,
    GOT10kTracker,
    got10k_available,
)
from mmusot.toolkits.layouts import GOT10K_LIST_NAME, GOT10K_SUBSETS

from .tracker_args import add_tracker_args, build, check_tracker_args

EPILOG = """examples:
  mmusot-got10k CONFIG --checkpoint usot.pth --root data/GOT10k
  mmusot-got10k --onnx DIR --root data/GOT10k          # exported, onnxruntime
  mmusot-got10k --backend openvino --onnx DIR --root data/GOT10k
  mmusot-got10k --opencv MIL --root data/GOT10k --name MIL"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(
        prog='mmusot-got10k',
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_tracker_args(parser)
    parser.add_argument('--root', required=True, help='GOT-10k root')
    parser.add_argument(
        '--subset', choices=GOT10K_SUBSETS, default='val', help='default val'
    )
    parser.add_argument(
        '--name', default='mmusot', help="result folder name ('mmusot')"
    )
    parser.add_argument(
        '--result-dir', default='results', help="default 'results'"
    )
    parser.add_argument(
        '--report-dir', default='reports', help="default 'reports'"
    )
    args = parser.parse_args(argv)
    check_tracker_args(parser, args)
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    if not got10k_available():
        print(f'mmusot-got10k: {INSTALL_HINT}', file=sys.stderr)
        return 1
    list_file = osp.join(args.root, args.subset, GOT10K_LIST_NAME)
    if not osp.isfile(list_file):
        print(
            f'mmusot-got10k: {list_file} not found: the root must hold '
            'the GOT-10k layout (the toolkit would try to download it)',
            file=sys.stderr,
        )
        return 1
    from got10k.experiments import ExperimentGOT10k

    try:
        tracker = GOT10kTracker(build(args), name=args.name)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        print(
            f'mmusot-got10k: cannot build the tracker: {err}', file=sys.stderr
        )
        return 1
    experiment = ExperimentGOT10k(
        args.root,
        subset=args.subset,
        result_dir=args.result_dir,
        report_dir=args.report_dir,
    )
    experiment.run(tracker)
    performance = experiment.report([args.name])
    if performance:
        overall = performance[args.name]['overall']
        for seq, scores in performance[args.name]['seq_wise'].items():
            print(
                f'{seq}: AO {scores["ao"]:.3f}  SR {scores["sr"]:.3f}  '
                f'{scores["speed_fps"]:.1f} fps'
            )
        print(
            f'{args.name} on GOT-10k {args.subset} ({args.root}): '
            f'AO {overall["ao"]:.3f}  SR0.5 {overall["sr"]:.3f}  '
            f'{overall["speed_fps"]:.1f} fps'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
