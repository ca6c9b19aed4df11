# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT's training schedule (paper §4.1; official scripts/train_usot.py and
# experiments/train/USOT.yaml): 30 epochs, naive Siamese for epochs 1-5,
# cycle memory from epoch 6; SGD (momentum 0.9, weight decay 1e-4) with a
# per-epoch LR of 2.5e-3 -> 5e-3 (epochs 1-6) then log-linear to 2e-5
# (epoch 30); backbone frozen for epochs 1-9, then layer1-3 at 0.1 x LR
# (momentum reset); optimizer step skipped for a NaN/Inf loss or one above
# 1e4; no gradient clipping. All epochs below are 1-based, as the official
# code (mmengine's runner.epoch is 0-based).
#
# A train config lists it beside a model and a data base, e.g.
#   _base_ = ['../_base_/usot_r50.py',
#             '../_base_/datasets/usot_pseudo_labels.py',
#             '../_base_/schedules/usot_30e.py']
# and sets default_hooks (the runtime comes with the model base); the
# official ones: logger interval 50, checkpoints from epoch 5 on keeping 21
# (epochs 10-30, the official model-selection range).

max_epochs = 30
# Official batch: 12 per GPU x 4 GPUs.
base_batch_size = 48
base_lr = 5e-3
cycle_start_epoch = 6
unfreeze_epoch = 10
backbone_lr_mult = 0.1

train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    # Official model selection tests epochs 10-30 (on VOT2018).
    val_begin=unfreeze_epoch,
    val_interval=1,
)

optim_wrapper = dict(
    # Skips optimizer.step() when the loss is NaN/Inf or > max_loss.
    type='LossGuardOptimWrapper',
    max_loss=1e4,
    optimizer=dict(type='SGD', lr=base_lr, momentum=0.9, weight_decay=1e-4),
    # Every parameter (frozen ones too) in a group with an lr_mult; the
    # head comes first, so the logged LR is the schedule's.
    constructor='USOTOptimWrapperConstructor',
    paramwise_cfg=dict(
        groups=dict(head=1.0, neck=1.0, backbone=backbone_lr_mult)
    ),
)

# LR per epoch = lr x group lr_mult x factor, factor 0.5 * 2^(i/5) for the
# 0-based epochs i < 5, then 0.004^((i - 5) / 24).
param_scheduler = [
    dict(
        type='USOTLR',
        warmup_epochs=5,
        warmup_start_factor=0.5,
        end_factor=0.004,
        begin=0,
        end=max_epochs,
        by_epoch=True,
    )
]

custom_hooks = [
    # Dataset stage (set_stage), head.lambda1 and head.cls_ratio per epoch;
    # each pair is (first 1-based epoch, value).
    dict(
        type='USOTStageHook',
        cycle_start_epoch=cycle_start_epoch,
        lambda1_schedule=[(1, 0.30), (8, 0.275), (10, 0.25)],
        cls_ratio_schedule=[(1, 0.6), (8, 0.5), (11, 0.4)],
    ),
    dict(
        type='BackboneUnfreezeHook',
        unfreeze_epoch=unfreeze_epoch,
        modules=['backbone.layer1', 'backbone.layer2', 'backbone.layer3'],
        # the groups' multiplier from then on (the optimizer's groups above
        # already hold it: kept in step through backbone_lr_mult)
        lr_mult=backbone_lr_mult,
        reset_momentum=True,
        # frozen until then: what the model declares (model.frozen_modules)
    ),
]

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

# The naive stage does not use the memory branch: DDP must allow unused
# parameters.
find_unused_parameters = True

auto_scale_lr = dict(enable=False, base_batch_size=base_batch_size)
