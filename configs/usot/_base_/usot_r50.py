# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The USOT network (paper Sec. 3.2-3.3; official lib/models/): SiamRPN++-style
# ResNet-50 up to layer3 (stride 8), 1x1 conv + BN neck to 256 channels,
# USOTHead. Official behaviour by default (see configs/usot/README.md):
# search-side pooling on the (v - 31) / 8 axis, backbone BN in train mode
# while frozen.
# mmtrack's runtime (default_scope='mmtrack', hooks, env, visualizer); every
# USOT config inherits it through this file.
_base_ = ['mmtrack::_base_/default_runtime.py']
custom_imports = dict(imports=['mmusot'], allow_failed_imports=False)

exemplar_size = 127
search_size = 255

model = dict(
    type='USOT',
    # BGR 0-255, no mean/std (official lib/dataset_loader/datasets_usot.py).
    data_preprocessor=dict(type='TrackDataPreprocessor'),
    backbone=dict(
        type='SOTResNet',
        depth=50,
        num_stages=3,
        strides=(1, 2, 1),
        dilations=(1, 1, 2),
        out_indices=(2,),
        # Freezing is by requires_grad (model.frozen_modules, then
        # BackboneUnfreezeHook), so that mmdet's train() does not re-freeze
        # or put BN in eval mode.
        frozen_stages=-1,
        norm_eval=False,
        norm_cfg=dict(type='BN', requires_grad=True),
        # Pretrained weights: tools/convert_checkpoint.py output, e.g.
        # dict(type='Pretrained', checkpoint=..., prefix='backbone.').
        init_cfg=None,
    ),
    neck=dict(
        type='mmdet.ChannelMapper',
        in_channels=[1024],
        out_channels=256,
        kernel_size=1,
        norm_cfg=dict(type='BN'),
        act_cfg=None,
        # PyTorch default init, as the official AdjustLayer.
        init_cfg=None,
    ),
    head=dict(
        type='USOTHead',
        in_channels=256,
        num_tower_convs=4,
        pool_size=7,
        # stride and feature_offset are derived from the backbone by USOT.
        # 'official' (v - 31) / 8 response axis (the official weights need
        # it) or 'corrected' (v - 7) / 8 feature axis.
        search_pool_axis='official',
        memory_clip_cells=2,
        label_radius=2,
        naive_cls_weight=0.2,
        reg_loss_weight=1.0,
        # Set per epoch by USOTStageHook in the cycle-memory stage.
        lambda1=0.3,
        lambda_total=0.9,
        cls_ratio=0.6,
    ),
    # 'train': frozen backbone BN still in train mode (official, quirk 5);
    # 'eval': mmdet-style eval mode for frozen BN layers.
    frozen_bn_mode='train',
    train_cfg=dict(exemplar_size=exemplar_size, search_size=search_size),
    # Inference settings (paper Sec. 4.1): every key, its default (the
    # official tracker's values, the exact float crop, boxes as given) and
    # its meaning is USOTTestConfig (mmusot/tracking/state.py;
    # table in configs/usot/README.md). List here only what a config
    # changes, e.g. test_cfg=dict(crop_mode='official', one_based_gt=True).
    test_cfg=dict(test_mode='OPE'),
)
