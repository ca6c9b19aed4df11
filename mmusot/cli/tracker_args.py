# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The tracker options shared by the toolkit commands.

``mmusot-vot-trax`` and ``mmusot-got10k`` run either a model (an mmtrack
SOT config, weights, device, config overrides) or an OpenCV tracker, with
the same options and checks.
"""

import argparse
from typing import List, Optional


def add_tracker_args(parser: argparse.ArgumentParser) -> None:
    """``config``, ``--checkpoint``, ``--allow-partial``, ``--device``,
    ``--cfg-options``, ``--opencv`` and ``--threads``."""
    parser.add_argument(
        'config',
        nargs='?',
        help='tracker config (file or package::path); omit with --opencv',
    )
    parser.add_argument('--checkpoint', help='model weights')
    add_allow_partial_arg(parser)
    parser.add_argument(
        '--device', default='cpu', help="cpu, cuda, cuda:N (default 'cpu')"
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='config overrides, as tools/test.py takes them',
    )
    parser.add_argument(
        '--opencv',
        metavar='KIND',
        help='an OpenCV tracker (MIL, KCF, CSRT) instead of a model',
    )
    parser.add_argument(
        '--threads', type=int, help='torch CPU threads (torch default)'
    )


def add_allow_partial_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-partial``: load a checkpoint that does not fit the model."""
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help="load a checkpoint that does not fit the config's network "
        '(missing, unexpected or reshaped weights keep the initial values; '
        'for experts: by default such a checkpoint is an error)',
    )


def check_tracker_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> None:
    """Exactly one of a config and ``--opencv``; a device this machine
    has; sane ``--threads`` and ``--cfg-options`` (``parser.error``
    otherwise)."""
    if (args.config is None) == (args.opencv is None):
        parser.error('give either a config or --opencv KIND')
    if args.config is not None:
        from mmusot.apis.builder import DeviceError, check_device

        try:
            check_device(args.device)
        except DeviceError as err:
            parser.error(str(err))
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    bad = [o for o in args.cfg_options if '=' not in o]
    if bad:
        parser.error(f'--cfg-options takes KEY=VALUE items, got {bad}')


def cfg_options(items: List[str]) -> Optional[dict]:
    """``KEY=VALUE`` items parsed as mmengine's ``DictAction`` does."""
    if not items:
        return None
    from mmengine.config import DictAction

    options = {}
    for item in items:
        key, value = item.split('=', 1)
        options[key] = DictAction._parse_iterable(value)
    return options


def build(args: argparse.Namespace):
    """The tracker of ``args``: an mmusot ``Tracker`` or ``OpenCVTracker``."""
    if args.opencv is not None:
        from mmusot.apis import OpenCVTracker

        return OpenCVTracker(args.opencv)
    import torch

    from mmusot.apis import Tracker, build_tracker

    if args.threads:
        torch.set_num_threads(args.threads)
    model = build_tracker(
        args.config,
        args.checkpoint,
        args.device,
        cfg_options(args.cfg_options),
        allow_partial=getattr(args, 'allow_partial', False),
    )
    return Tracker(model)
