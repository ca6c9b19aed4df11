# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The options and start-up shared by ``mmusot-train`` and ``mmusot-test``.

Both take a config and mmengine's Runner options (``--work-dir``,
``--cfg-options``, ``--launcher``, ``--local_rank``, ``--allow-partial``),
read the config with :func:`mmusot.config.load_config` and build the Runner
with :func:`mmusot.engine.build_runner`; a missing config or checkpoint
ends the program with ``error: ...`` (exit status 1).
"""

import argparse
import os
import sys
from typing import Callable, List, Optional

from .tracker_args import add_allow_partial_arg


def runner_parser(
    description: str, config_help: str
) -> argparse.ArgumentParser:
    """A parser with the ``config`` argument (``mmusot::`` names too).

    Args:
        description (str): the program's one-line description.
        config_help (str): what the config is, e.g. ``'train config file'``.

    Returns:
        argparse.ArgumentParser: the parser, for the program's own options.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        'config',
        help=f'{config_help}, or a shipped one as mmusot::usot/<name>.py',
    )
    return parser


def add_runner_arguments(
    parser: argparse.ArgumentParser, example_option: str
) -> None:
    """Options shared by the train and test programs.

    Adds ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``/``--local-rank`` (torch.distributed.launch passes the
    first spelling, torchrun the second).

    Args:
        parser (argparse.ArgumentParser): the program's parser.
        example_option (str): a ``--cfg-options`` example for the help.
    """
    from mmengine.config import DictAction

    parser.add_argument(
        '--work-dir',
        help='where logs, checkpoints and results go (default: '
        'work_dirs/<config name>)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config settings, e.g. {example_option}',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(
    parser: argparse.ArgumentParser, argv: Optional[List[str]] = None
) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` for the launcher when unset."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def parse_tool_args(
    parser: argparse.ArgumentParser,
    example_option: str,
    argv: Optional[List[str]] = None,
) -> argparse.Namespace:
    """Add ``--allow-partial`` and the Runner options, then parse.

    Args:
        parser (argparse.ArgumentParser): from :func:`runner_parser`, with
            the program's own options.
        example_option (str): a ``--cfg-options`` example for the help.
        argv (list[str], optional): the arguments; ``sys.argv`` if None.

    Returns:
        argparse.Namespace: the parsed arguments.
    """
    add_allow_partial_arg(parser)
    add_runner_arguments(parser, example_option)
    return parse_runner_args(parser, argv)


def load_tool_config(
    args: argparse.Namespace,
    check: Optional[Callable[[object, str], None]] = None,
):
    """The config of ``args``, with its overrides, launcher and work dir.

    Args:
        args (argparse.Namespace): from :func:`parse_tool_args`.
        check (callable, optional): ``check(cfg, config_name)``, raising
            ``ValueError`` for a config the program cannot run.

    Returns:
        Config: the merged config.

    Raises:
        SystemExit: ``error: ...`` when the config does not exist or
            ``check`` refuses it.
    """
    from mmusot.config import load_config

    try:
        cfg = load_config(
            args.config, args.cfg_options, args.launcher, args.work_dir
        )
        if check is not None:
            check(cfg, args.config)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    return cfg


def build_tool_runner(cfg, args: argparse.Namespace):
    """The Runner of ``cfg`` (:func:`mmusot.engine.build_runner`).

    Raises:
        SystemExit: ``error: ...`` when the config names a local
            checkpoint that does not exist.
    """
    from mmusot.engine import MissingCheckpointError, build_runner

    try:
        return build_runner(cfg, args.config, args.allow_partial)
    except MissingCheckpointError as err:
        sys.exit(f'error: {err}')
