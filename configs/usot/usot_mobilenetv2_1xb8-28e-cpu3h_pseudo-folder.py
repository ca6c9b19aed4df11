# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The three-hour CPU recipe (mmusot's own, not the paper's): USOT-MobileNetV2
# from a folder of pseudo-labelled videos in about 3 h on 2 cores:
#   python tools/train.py \
#       configs/usot/usot_mobilenetv2_1xb8-28e-cpu3h_pseudo-folder.py \
#       --cfg-options train_dataloader.dataset.data_root=data/my_pseudo
# What differs from the paper's recipe (usot_*_1xb8-30e-cpu_*, kept as is):
# * the samples go where a CPU learns most per second: 24 naive-Siamese
#   epochs of 200 iterations (~1.2 s each), then 4 cycle-memory epochs
#   (~4.6 s each), the backbone frozen throughout (an unfrozen-backbone
#   iteration costs ~2.3x a frozen one);
# * box size is learned, not assumed: the search crop zooms the target over
#   [1/1.6, 1.6] of its usual size (the official jitter, +-18 % per axis,
#   lets a short run predict the usual size whatever it sees), the
#   classification label follows the target under the zoom, and each
#   target weighs the same in the IoU loss (the official mean over cells
#   weighs a target by its area: under a zoom, a growth bias);
# * the tracker is the moving average of the cycle-stage weights.
# README, "Box scale", measures each of these on pseudo-label tracks.
_base_ = ['./usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py']

samples_per_epoch = 1600  # 200 iterations of batch 8
max_epochs = 28
cycle_start_epoch = 25

train_pipeline = _base_.train_pipeline
train_pipeline[1] = dict(
    type='USOTShiftScaleCrop',
    template=dict(size=127, shift=4, scale=0.05),
    search=dict(size=255, shift=64, scale=0.18, zoom=1.6, label_shift='exact'),
    memory=dict(size=255, shift=64, scale=0.18),
)
train_dataloader = dict(
    dataset=dict(samples_per_epoch=samples_per_epoch, pipeline=train_pipeline)
)
model = dict(head=dict(reg_loss_norm='sample'))

train_cfg = dict(max_epochs=max_epochs)
# 5 warm-up epochs from half the peak LR, then down to 1/20 of it
param_scheduler = [dict(type='USOTLR', end_factor=0.05, end=max_epochs)]
custom_hooks = [
    dict(
        type='USOTStageHook',
        cycle_start_epoch=cycle_start_epoch,
        # the official steps, counted from the cycle start
        lambda1_schedule=[
            (1, 0.30),
            (cycle_start_epoch + 2, 0.275),
            (cycle_start_epoch + 4, 0.25),
        ],
        cls_ratio_schedule=[
            (1, 0.6),
            (cycle_start_epoch + 2, 0.5),
            (cycle_start_epoch + 5, 0.4),
        ],
    ),
    # the average of the cycle stage (momentum 0.01: about the last 100
    # iterations), saved as the checkpoint's state_dict
    dict(type='EMAHook', momentum=0.01, begin_epoch=cycle_start_epoch - 1),
    dict(type='TrainProgressHook', desc='learning USOT'),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1, save_begin=4, max_keep_ckpts=30),
)
