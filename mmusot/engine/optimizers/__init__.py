# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .loss_guard_optim_wrapper import (
    MAX_CONSECUTIVE_SKIPS,
    MAX_VALID_LOSS,
    LossGuardAmpOptimWrapper,
    LossGuardMixin,
    LossGuardOptimWrapper,
    TrainingStalledError,
)
from .usot_optim_wrapper_constructor import USOTOptimWrapperConstructor

__all__ = [
    'MAX_CONSECUTIVE_SKIPS',
    'MAX_VALID_LOSS',
    'LossGuardAmpOptimWrapper',
    'LossGuardMixin',
    'LossGuardOptimWrapper',
    'TrainingStalledError',
    'USOTOptimWrapperConstructor',
]
