# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The `make demo` training run: USOT-MobileNetV2 learned from a few clips
# in about 10 minutes on 2 CPU cores. The official schedule's first 12
# epochs (naive 1-5, cycle memory from 6, backbone unfrozen at 10) with
# 64-sample epochs: 96 iterations of batch 8, a progress bar with ETA.
# For a real tracker use usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py.
_base_ = ['./usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py']

data_root = 'demo_out/pseudo/'
samples_per_epoch = 64

train_dataloader = dict(
    dataset=dict(data_root=data_root, samples_per_epoch=samples_per_epoch)
)
train_cfg = dict(max_epochs=12)
custom_hooks = [
    dict(type='USOTStageHook'),
    dict(
        type='BackboneUnfreezeHook',
        modules=[f'backbone.features.{i}' for i in range(1, 14)],
    ),
    dict(type='TrainProgressHook', desc='learning USOT'),
]
default_hooks = dict(
    logger=dict(interval=8),
    # keep only the final weights (the demo tracks with them)
    checkpoint=dict(interval=1, save_begin=1, max_keep_ckpts=1),
)
