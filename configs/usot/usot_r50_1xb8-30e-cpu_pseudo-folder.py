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
    './_base_/datasets/usot_pseudo_labels.py',
    './_base_/schedules/usot_30e.py',
]

pretrained = (
    '{{$MMUSOT_CACHE:~/.cache/mmusot}}/weights/sot_resnet50_augnet_bgr255.pth'
)
data_root = 'data/unlabeled_pseudo/'
batch_size = 8
samples_per_epoch = 200

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
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    dataset=dict(data_root=data_root, samples_per_epoch=samples_per_epoch),
)
default_hooks = dict(
    # freed activations stay in the heap: no page faults every step
    cpu_allocator=dict(type='CPUAllocatorHook'),
    logger=dict(interval=10),
    checkpoint=dict(interval=1, save_begin=5, max_keep_ckpts=21),
)
log_processor = dict(window_size=10)

# No validation while training: evaluate checkpoints with tools/test.py.
train_cfg = dict(val_begin=1000)
val_dataloader = None
val_evaluator = None
val_cfg = None
