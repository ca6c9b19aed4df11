# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from . import config_utils, hooks, optimizers, schedulers
from .checkpoint import (
    CheckpointMismatchError,
    MissingCheckpointError,
    NonFiniteCheckpointError,
    check_checkpoint_fits,
    check_checkpoint_paths,
    check_finite_checkpoint,
    use_safe_local_loading,
)
from .config_utils import build_runner, load_config
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403

__all__ = [
    'CheckpointMismatchError',
    'MissingCheckpointError',
    'NonFiniteCheckpointError',
    'check_checkpoint_fits',
    'check_checkpoint_paths',
    'check_finite_checkpoint',
    'use_safe_local_loading',
    'load_config',
    'build_runner',
    *hooks.__all__,
    *optimizers.__all__,
    *schedulers.__all__,
]


def __getattr__(name: str):
    """``add_runner_arguments``, ``parse_runner_args``: deprecated aliases
    of :mod:`mmusot.cli.runner_args` (see :mod:`.config_utils`)."""
    if name in config_utils.MOVED_TO_CLI:
        return config_utils.moved_to_cli(name, __name__)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
