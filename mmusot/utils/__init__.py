# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .checkpoint_convert import (
    CheckpointError,
    convert_checkpoint,
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

__all__ = [
    'CheckpointError',
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
