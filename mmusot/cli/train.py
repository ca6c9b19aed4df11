# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Train a tracker (mmusot's USOT or any mmtrack model) with mmengine.

The command ``mmusot-train``; ``tools/train.py`` is the same program.

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
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmusot.engine import TrainingStalledError
from mmusot.utils import CheckpointLoadError

from .runner_args import (
    build_tool_runner,
    load_tool_config,
    parse_tool_args,
    runner_parser,
)

# Optimizer wrapper -> its AMP counterpart for --amp.
AMP_WRAPPERS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'LossGuardOptimWrapper': 'LossGuardAmpOptimWrapper',
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = runner_parser(
        'Train a single object tracker (mmusot / mmtrack).',
        'train config file',
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
    return parse_tool_args(
        parser, 'train_cfg.max_epochs=2 model.backbone.init_cfg=None', argv
    )


def check_ema_schedule(cfg: Config, config_file: str) -> None:
    """Fail clearly where mmengine's EMAHook would fail an assertion.

    ``EMAHook(begin_epoch=E)`` averages the weights from epoch ``E`` on
    and asserts ``E <= max_epochs`` (``begin_iter`` and ``max_iters``
    alike) when training starts, after the model and data are built.

    Raises:
        ValueError: naming the config, the hook and the overrides that fix
            it.
    """
    train_cfg = cfg.get('train_cfg') or {}
    for index, hook in enumerate(cfg.get('custom_hooks') or []):
        if not (
            isinstance(hook, dict)
            and str(hook.get('type', '')).endswith('EMAHook')
        ):
            continue
        for unit, limit in (('epoch', 'max_epochs'), ('iter', 'max_iters')):
            begin = hook.get(f'begin_{unit}', 0)
            end = train_cfg.get(limit)
            if not begin or end is None or begin <= end:
                continue
            why = ''
            cycle = cfg.get('cycle_start_epoch')
            if unit == 'epoch' and cycle is not None and begin == cycle - 1:
                why = (
                    ' This config averages the weights from one epoch '
                    f'before the cycle-memory stage (cycle_start_epoch - 1 '
                    f'= {begin}).'
                )
            raise ValueError(
                f'{config_file}: train_cfg.{limit}={end} ends the run before '
                f'EMAHook (custom_hooks[{index}]) starts averaging the '
                f'weights at {unit} {begin} (begin_{unit}={begin}; '
                f'mmengine needs begin_{unit} <= {limit}).{why} Train for '
                f'at least {begin} {unit}s, or start the average within the '
                f'run: --cfg-options custom_hooks.{index}.begin_{unit}=1 '
                '(averages from the first).'
            )


def main(argv: Optional[List[str]] = None) -> Runner:
    """Train; returns the Runner (``error: ...`` exits on bad input)."""
    args = parse_args(argv)
    cfg = load_tool_config(args, check_ema_schedule)

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

    runner = build_tool_runner(cfg, args)
    try:
        runner.train()
    except CheckpointLoadError as err:
        # a resumed or saved checkpoint: not fitting, NaN, unreadable
        sys.exit(f'error: {err}')
    except TrainingStalledError as err:
        dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
        data = dataset.get('data_root', None)
        sys.exit(
            f'error: training {args.config}'
            + (f' on {data}' if data else '')
            + f' stopped: {err}'
        )
    return runner


def cli_main(argv: Optional[List[str]] = None) -> int:
    """The ``mmusot-train`` command: :func:`main`, exit status 0."""
    main(argv)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main())
