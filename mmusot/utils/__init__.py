# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .checkpoint_convert import (
    CheckpointError,
    convert_checkpoint,
    fold_input_normalization,
    load_checkpoint_file,
    save_mmengine_checkpoint,
    to_official_state_dict,
)
from .official_layout import (
    KeySpec,
    build_formula_state_dict,
    build_zero_state_dict,
    formula_tensor,
    read_key_list,
)
from .safe_load import CheckpointLoadError, safe_torch_load

__all__ = [
    'CheckpointError',
    'CheckpointLoadError',
    'fold_input_normalization',
    'safe_torch_load',
    'KeySpec',
    'build_formula_state_dict',
    'build_zero_state_dict',
    'convert_checkpoint',
    'formula_tensor',
    'load_checkpoint_file',
    'read_key_list',
    'save_mmengine_checkpoint',
    'to_official_state_dict',
]
