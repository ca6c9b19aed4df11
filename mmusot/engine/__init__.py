# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .checkpoint import (OfflineCheckpointError, check_offline_config,
                         register_checkpoint_loaders, safe_torch_load)
from .config_utils import load_config
from .hooks import *  # noqa: F401,F403

register_checkpoint_loaders()

__all__ = [
    'OfflineCheckpointError', 'check_offline_config',
    'register_checkpoint_loaders', 'safe_torch_load', 'load_config'
]
