# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .checkpoint import (
    OfflineCheckpointError,
    check_offline_config,
    register_checkpoint_loaders,
    safe_torch_load,
)
from .config_utils import (
    add_runner_arguments,
    build_runner,
    load_config,
    parse_runner_args,
)
from .hooks import *  # noqa: F401,F403

register_checkpoint_loaders()

__all__ = [
    'OfflineCheckpointError',
    'check_offline_config',
    'register_checkpoint_loaders',
    'safe_torch_load',
    'load_config',
    'add_runner_arguments',
    'parse_runner_args',
    'build_runner',
]
