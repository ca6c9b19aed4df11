# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# Learn USOT-MobileNetV2 from a folder of your videos on a CPU:
#   python data_converters/videos_to_pseudo_sot.py VIDEOS data/my_pseudo
#   python tools/train.py \
#       configs/usot/usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py \
#       --cfg-options train_dataloader.dataset.data_root=data/my_pseudo
# The official 30-epoch schedule (naive epochs 1-5, cycle memory from 6,
# backbone unfrozen at 10) with short epochs: samples_per_epoch samples of
# batch 8, i.e. 30 x 25 = 750 iterations (6,000 samples; a cycle-memory
# sample costs 5 network passes, so about 2 h on 2 cores).
_base_ = [
    './_base_/usot_mobilenetv2.py',
    './_base_/usot_30e_cpu_pseudo-folder.py',
]

model = dict(frozen_modules='backbone')

# MobileNetV2's stem (features.0) stays frozen, like ResNet's conv1/bn1.
custom_hooks = [
    dict(type='USOTStageHook'),
    dict(
        type='BackboneUnfreezeHook',
        # features.1-13: all of the backbone (_base_/usot_mobilenetv2.py)
        modules=[f'backbone.features.{i}' for i in range(1, 14)],
    ),
]
default_hooks = dict(
    # freed activations stay in the heap: no page faults every step
    cpu_allocator=dict(type='CPUAllocatorHook'),
    logger=dict(interval=10),
    checkpoint=dict(interval=1, save_begin=5, max_keep_ckpts=21),
)
