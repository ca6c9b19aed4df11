# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from . import hooks, optimizers, schedulers
from .checkpoint import (
    CheckpointMismatchError,
    MissingCheckpointError,
    NonFiniteCheckpointError,
    check_checkpoint_fits,
    check_checkpoint_paths,
    check_finite_checkpoint,
    use_safe_local_loading,
)
from .config_utils import (
    add_runner_arguments,
    build_runner,
    load_config,
    parse_runner_args,
)
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
    'add_runner_arguments',
    'parse_runner_args',
    'build_runner',
    *hooks.__all__,
    *optimizers.__all__,
    *schedulers.__all__,
]
