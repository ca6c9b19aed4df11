# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The Runner of mmusot's train/test programs.

Reading a config is :mod:`mmusot.config`'s job (:func:`load_config` is
re-exported here); the command-line options of the programs are in
:mod:`mmusot.cli.runner_args`. ``add_runner_arguments`` and
``parse_runner_args`` still import from here for one release, with a
``DeprecationWarning``.
"""

import warnings

from mmengine.config import Config

from ..config import load_config

__all__ = ['build_runner', 'load_config']

#: Names that moved to :mod:`mmusot.cli.runner_args` (deprecated here).
MOVED_TO_CLI = ('add_runner_arguments', 'parse_runner_args')


def moved_to_cli(name: str, old_module: str):
    """The moved helper ``name``, with a ``DeprecationWarning`` for the
    caller of ``old_module.__getattr__``."""
    warnings.warn(
        f'{old_module}.{name} moved to mmusot.cli.runner_args.{name}; the '
        'old path goes in the next release',
        DeprecationWarning,
        stacklevel=3,
    )
    from ..cli import runner_args

    return getattr(runner_args, name)


def __getattr__(name: str):
    """The deprecated aliases of :data:`MOVED_TO_CLI`."""
    if name in MOVED_TO_CLI:
        return moved_to_cli(name, __name__)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


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
