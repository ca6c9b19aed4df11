# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Test (evaluate) a tracker with mmengine: OPE/VOT metrics via SOTMetric.

Examples::

    python tools/test.py configs/usot/<test config>.py CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    bash tools/dist_test.sh CONFIG CHECKPOINT 4
"""
import argparse
import os
import sys
from typing import List, Optional

from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmusot.engine import (OfflineCheckpointError, check_offline_config,
                           load_config)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a single object tracker (mmusot / mmtrack).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (a local path; omit to test the weights the '
        'config initialises, e.g. for smoke runs)')
    parser.add_argument(
        '--work-dir', help='where logs and results go (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'test_dataloader.dataset.data_root=/data/otb')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options, args.launcher,
                          args.work_dir)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    elif cfg.get('load_from', None) is None:
        print_log('No checkpoint given: testing the initial weights.',
                  'current')
    try:
        check_offline_config(cfg, args.config)
    except OfflineCheckpointError as err:
        sys.exit(f'error: {err}')

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
