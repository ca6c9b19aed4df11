# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT training data (paper Sec. 3.2-3.3, 4.1; official
# lib/dataset_loader/datasets_usot.py): pseudo-labelled videos written by
# data_converters/videos_to_pseudo_sot.py (or datasets_to_pseudo_sot.py),
# USOT's video/frame sampler (quality sidecars), the official 511 crops,
# shift/scale crops, augmentations and packing for USOT.loss. The
# cycle-memory stage is switched on by a hook calling
# `train_dataloader.dataset.set_stage('cycle')` (epoch 6).
data_root = 'data/unlabeled_pseudo/'
ann_file = 'pseudo_infos.txt'
# Official epoch: 50,000 samples (14000 VID + 19000 GOT-10k + 13000 LaSOT
# + 4000 YT-VOS). For several sources, use an mmengine ConcatDataset of
# PseudoLabelSOTDataset with one samples_per_epoch each.
samples_per_epoch = 50000

train_pipeline = [
    # The template and the search area are the same frame; memory frames
    # follow (cycle stage). Each frame becomes the official 511 crop
    # (context 0.5, target scaled to about 127 / s_z, centred at 255);
    # USOTCropLikeSiamFC is mmtrack's CropLikeSiamFC, byte for byte, with
    # a ~100x faster mean-colour padding.
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_instance_id=False),
            dict(
                type='USOTCropLikeSiamFC',
                context_amount=0.5,
                exemplar_size=127,
                crop_size=511,
            ),
        ],
    ),
    dict(
        type='USOTShiftScaleCrop',
        template=dict(size=127, shift=4, scale=0.05),
        search=dict(size=255, shift=64, scale=0.18),
        memory=dict(size=255, shift=64, scale=0.18),
    ),
    # Template: flips, perspective, coarse dropout, salt-and-pepper.
    # Search: hue/saturation, brightness, motion blur (never flipped).
    # Memory: flips, perspective, hue/saturation, brightness, motion blur.
    dict(
        type='USOTRandomFlip',
        hflip_prob=0.4,
        vflip_prob=0.2,
        roles=('template', 'memory'),
    ),
    dict(
        type='USOTPerspective',
        scale=dict(template=(0.01, 0.07), memory=(0.01, 0.15)),
    ),
    dict(
        type='USOTCoarseDropout',
        prob_range=(0.0, 0.05),
        size_percent=0.15,
        per_channel_prob=0.5,
        roles=('template',),
    ),
    dict(type='USOTSaltPepper', prob=0.05, roles=('template',)),
    dict(
        type='USOTHueSaturation',
        hue_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        roles=('search', 'memory'),
    ),
    dict(
        type='USOTBrightness',
        factor_range=(0.5, 1.5),
        roles=('search', 'memory'),
    ),
    dict(
        type='USOTMotionBlur',
        kernel_range=(3, 9),
        angles=(-60, 60),
        direction_range=(-1, 1),
        roles=('search', 'memory'),
    ),
    # Boxes clipped to [0, side]; search_shift for the cls label.
    dict(type='PackUSOTInputs', clip_boxes=True),
]

train_dataloader = dict(
    batch_size=12,  # per GPU (official: 12 x 4 GPUs)
    num_workers=4,
    # set_epoch / set_stage reach persistent workers too (the sampler's
    # shared state), so True is allowed; False re-creates them every epoch.
    persistent_workers=False,
    drop_last=True,
    sampler=dict(type='USOTQuotaSampler', shuffle=True),
    dataset=dict(
        type='PseudoLabelSOTDataset',
        data_root=data_root,
        ann_file=ann_file,
        data_prefix=dict(img_path=''),
        quality_prefix='quality',
        usot_sampling=True,
        stage='naive',
        num_memory_frames=4,
        box_source='pseudo',  # 'random': the paper's Table 4 control
        samples_per_epoch=samples_per_epoch,
        pipeline=train_pipeline,
    ),
)
