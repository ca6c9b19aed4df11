# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Test (evaluate) a tracker with mmengine: OPE/VOT metrics via SOTMetric.

Examples::

    python tools/test.py configs/usot/<test config>.py CHECKPOINT
    python tools/test.py mmusot::usot/usot_r50_test-otb100.py CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    bash tools/dist_test.sh CONFIG CHECKPOINT 4
"""

import argparse
import sys
from typing import List, Optional

from mmengine.logging import print_log

from mmusot.cli.tracker_args import add_allow_partial_arg
from mmusot.engine import (
    MissingCheckpointError,
    add_runner_arguments,
    build_runner,
    load_config,
    parse_runner_args,
)
from mmusot.utils import CheckpointLoadError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a single object tracker (mmusot / mmtrack).'
    )
    parser.add_argument(
        'config',
        help='test config file, or a shipped one as mmusot::usot/<name>.py',
    )
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (a local path; omit to test the weights the '
        "config's init_cfg gives, e.g. a pretrained backbone with a fresh "
        'head)',
    )
    add_allow_partial_arg(parser)
    add_runner_arguments(parser, 'test_dataloader.dataset.data_root=/data/otb')
    return parse_runner_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config, args.cfg_options, args.launcher, args.work_dir
        )
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    init_only = cfg.get('load_from', None) is None
    try:
        runner = build_runner(cfg, args.config, args.allow_partial)
    except MissingCheckpointError as err:
        sys.exit(f'error: {err}')
    if init_only:
        print_log(
            "No checkpoint given: testing the weights of the config's "
            'init_cfg (e.g. a pretrained backbone, freshly initialised '
            'head).',
            'current',
        )
        getattr(runner.model, 'module', runner.model).init_weights()
    try:
        return runner.test()
    except CheckpointLoadError as err:
        # empty, truncated, not fitting the network, NaN weights
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
