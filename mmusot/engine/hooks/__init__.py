# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .backbone_unfreeze_hook import BackboneUnfreezeHook, rewrap_model
from .checkpoint_guard_hook import CheckpointGuardHook
from .cpu_allocator_hook import CPUAllocatorHook, keep_freed_memory
from .train_progress_hook import TrainProgressHook
from .usot_stage_hook import (
    USOTStageHook,
    restart_workers,
    stage_datasets,
    unwrap_model,
)

__all__ = [
    'BackboneUnfreezeHook',
    'CheckpointGuardHook',
    'CPUAllocatorHook',
    'TrainProgressHook',
    'USOTStageHook',
    'keep_freed_memory',
    'restart_workers',
    'rewrap_model',
    'stage_datasets',
    'unwrap_model',
]
