# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The paper's recipe: USOT (ResNet-50) learned from pseudo labels of
# ImageNet VID, GOT-10k, LaSOT and YouTube-VOS (no box labels), 30 epochs
# of 50,000 samples, batch 12 per GPU on 4 GPUs:
#   python data_converters/datasets_to_pseudo_sot.py vid data/ILSVRC2015 \
#       data/vid_pseudo     # likewise got10k, lasot, ytvos (README)
#   bash tools/dist_train.sh \
#       configs/usot/usot_r50_4xb12-30e_got10k-vid-lasot-ytvos-pseudo.py 4
# Backbone initialisation (the paper's USOT / USOT*): convert a MoCo-v2 or
# ImageNet ResNet-50 with tools/convert_checkpoint.py, or use the
# AugNet ResNet-50 of `make weights`, and set `pretrained` (from scratch,
# with a warning, when None).
_base_ = [
    './_base_/usot_r50.py',
    './_base_/datasets/usot_pseudo_labels.py',
    './_base_/schedules/usot_30e.py',
]

pretrained = None  # e.g. 'work_dirs/pretrained/moco_v2_800_r50.pth'
data_root = 'data/'
# (folder written by the converter, samples per epoch): official
# lib/dataset_loader/datasets_usot.py order and counts.
sources = [
    ('vid_pseudo', 14000),
    ('got10k_pseudo', 19000),
    ('lasot_pseudo', 13000),
    ('ytvos_pseudo', 4000),
]

model = dict(
    frozen_modules='backbone',
    backbone=dict(
        init_cfg=None
        if pretrained is None
        else dict(
            _delete_=True,
            type='Pretrained',
            checkpoint=pretrained,
            prefix='backbone.',
        )
    ),
)
train_dataloader = dict(
    batch_size=12,
    num_workers=8,
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                _base_.train_dataloader.dataset,
                data_root=data_root + folder + '/',
                samples_per_epoch=samples,
            )
            for folder, samples in sources
        ],
    ),
)
default_hooks = dict(
    # freed activations stay in the heap: no page faults every step
    cpu_allocator=dict(type='CPUAllocatorHook'),
    logger=dict(interval=50),
    # Official: checkpoints from epoch 5 on; the 21 kept are epochs 10-30,
    # the official model-selection range (tools/analysis/eval_epochs.py).
    checkpoint=dict(interval=1, save_begin=5, max_keep_ckpts=21),
)
