# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .official_layout import (
                              KeySpec,
                              build_formula_state_dict,
                              build_zero_state_dict,
                              formula_tensor,
                              read_key_list,
)

__all__ = [
    'KeySpec', 'build_formula_state_dict', 'build_zero_state_dict',
    'formula_tensor', 'read_key_list'
]
