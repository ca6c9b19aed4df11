# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Train a tracker (mmusot's USOT or any mmtrack model) with mmengine.

Examples::

    python tools/train.py configs/usot/<config>.py
    python tools/train.py mmusot::usot/<config>.py   # the installed copy
    python tools/train.py CONFIG --work-dir work_dirs/run1 --resume
    python tools/train.py CONFIG --resume work_dirs/run1/epoch_5.pth
    bash tools/dist_train.sh CONFIG 4            # 4 GPUs, DDP
"""

import argparse
import sys
from typing import List, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmusot.engine import (
    MissingCheckpointError,
    add_runner_arguments,
    build_runner,
    load_config,
    parse_runner_args,
)

# Optimizer wrapper -> its AMP counterpart for --amp.
AMP_WRAPPERS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'LossGuardOptimWrapper': 'LossGuardAmpOptimWrapper',
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a single object tracker (mmusot / mmtrack).'
    )
    parser.add_argument(
        'config',
        help='train config file, or a shipped one as mmusot::usot/<name>.py',
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume training: from the given checkpoint, or, with no '
        'value, from the latest checkpoint in the work dir',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (needs a CUDA device)',
    )
    add_runner_arguments(
        parser, 'train_cfg.max_epochs=2 model.backbone.init_cfg=None'
    )
    return parse_runner_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> Runner:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config, args.cfg_options, args.launcher, args.work_dir
        )
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')

    if args.amp:
        if not torch.cuda.is_available():
            sys.exit('error: --amp needs a CUDA device; none is available')
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if 'Amp' in optim_wrapper:
            print_log('AMP is already enabled in the config.', 'current')
        else:
            # keep mmusot's loss guard: its AMP twin has the same options
            cfg.optim_wrapper.type = AMP_WRAPPERS.get(
                optim_wrapper, 'AmpOptimWrapper'
            )
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    try:
        runner = build_runner(cfg, args.config)
    except MissingCheckpointError as err:
        sys.exit(f'error: {err}')
    runner.train()
    return runner


if __name__ == '__main__':
    main()
