# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT (ResNet-50) from a folder of your videos, bounded for one machine:
# the official 30-epoch schedule with short epochs (samples_per_epoch
# samples of batch 8: 30 x 25 = 750 iterations). The ResNet-50 costs about
# 5x the MobileNetV2 version on a CPU; see usot_mobilenetv2_*.
#   python data_converters/videos_to_pseudo_sot.py VIDEOS data/my_pseudo
#   python tools/train.py configs/usot/usot_r50_1xb8-30e-cpu_pseudo-folder.py \
#       --cfg-options train_dataloader.dataset.data_root=data/my_pseudo
# AugNet (self-supervised, `make weights`) initialises the backbone.
_base_ = [
    './_base_/usot_r50.py',
    './_base_/usot_30e_cpu_pseudo-folder.py',
]

pretrained = (
    '{{$MMUSOT_CACHE:~/.cache/mmusot}}/weights/sot_resnet50_augnet_bgr255.pth'
)

model = dict(
    frozen_modules='backbone',
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint=pretrained,
            prefix='backbone.',
        )
    ),
)
default_hooks = dict(
    # freed activations stay in the heap: no page faults every step
    cpu_allocator=dict(type='CPUAllocatorHook'),
    logger=dict(interval=10),
    checkpoint=dict(interval=1, save_begin=5, max_keep_ckpts=21),
)
