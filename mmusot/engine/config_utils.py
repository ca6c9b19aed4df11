# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""

import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config

from ..package_data import get_config_path, is_package_config


def load_config(
    config: str,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
    work_dir: Optional[str] = None,
) -> Config:
    """Register mmtrack + mmusot, read a config and apply the overrides.

    Args:
        config (str): the config file, or a shipped config as
            ``'mmusot::usot/<name>.py'``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): job launcher. Defaults to 'none'.
        work_dir (str, optional): overrides ``cfg.work_dir``; by default
            it is ``work_dirs/<config name>``.

    Returns:
        Config: the merged config.

    Raises:
        FileNotFoundError: the config file does not exist.
    """
    if is_package_config(config):
        config = get_config_path(config)
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(config))[0]
        )
    return cfg


def add_runner_arguments(
    parser: argparse.ArgumentParser, example_option: str
) -> None:
    """Options shared by the train and test scripts.

    Adds ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``/``--local-rank`` (torch.distributed.launch passes the
    first spelling, torchrun the second).
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


def build_runner(cfg: Config, config_file: str, allow_partial: bool = False):
    """Check the config's checkpoints, then build its Runner.

    Local checkpoints load with the safe unpickler
    (:func:`~mmusot.engine.use_safe_local_loading`), and a
    :class:`~mmusot.engine.hooks.CheckpointGuardHook` refuses checkpoints
    that do not fit the network or hold NaN/Inf. Without CUDA,
    ``--launcher pytorch`` runs start a gloo process group first
    (:func:`~mmusot.engine.dist_utils.setup_cpu_distributed`).

    Args:
        cfg (Config): the merged config.
        config_file (str): its file, for messages.
        allow_partial (bool): load a checkpoint that does not fit the
            network (mmengine's warning only). Defaults to False.

    Raises:
        MissingCheckpointError: a local checkpoint does not exist.
    """
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from .checkpoint import check_checkpoint_paths, use_safe_local_loading
    from .dist_utils import setup_cpu_distributed
    from .hooks import CheckpointGuardHook

    check_checkpoint_paths(cfg, config_file)
    use_safe_local_loading()
    setup_cpu_distributed(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.register_hook(CheckpointGuardHook(allow_partial), 'VERY_HIGH')
    return runner
