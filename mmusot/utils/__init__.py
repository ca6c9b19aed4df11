# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .checkpoint_conversion import (
    CheckpointError,
    convert_checkpoint,
    fold_input_normalization,
    load_checkpoint_file,
    save_mmengine_checkpoint,
    to_official_state_dict,
)
from .safe_load import CheckpointLoadError, safe_torch_load

__all__ = [
    'CheckpointError',
    'CheckpointLoadError',
    'fold_input_normalization',
    'safe_torch_load',
    'convert_checkpoint',
    'load_checkpoint_file',
    'save_mmengine_checkpoint',
    'to_official_state_dict',
]
