# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# Runtime of the USOT test configs: mmtrack's _base_/default_runtime.py
# without its `default_scope` line. Both that file and _base_/usot_r50.py
# set default_scope, and mmengine forbids a key defined by two sibling
# bases, so the test configs list this file beside usot_r50.py instead.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='TrackVisualizationHook', draw=False),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='TrackLocalVisualizer', vis_backends=vis_backends, name='visualizer'
)

log_level = 'INFO'
load_from = None
resume = False
