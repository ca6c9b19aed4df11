# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# Composition: mmtrack's own SiamRPN++, unchanged, trained on the pseudo
# labels mmusot discovers in your unlabeled videos (an unsupervised
# SiamRPN++). The pseudo-label folder is an ordinary mmtrack SOT dataset:
# without USOT's sampler, mmtrack's PairSampling pipeline draws its pairs.
#   python data_converters/videos_to_pseudo_sot.py VIDEOS data/my_pseudo
#   python tools/train.py \
#       configs/usot/siamese-rpn_r50_1xb8-20e_pseudo-folder.py \
#       --cfg-options train_dataloader.dataset.data_root=data/my_pseudo
# Backbone: mmtrack's config names a URL (mmengine would download it); set
# `pretrained` to a local SiamRPN++ ResNet-50 (4 stages) instead, or None.
_base_ = [
    'mmtrack::sot/siamese_rpn/'
    'siamese-rpn_r50_8xb28-20e_imagenetvid-imagenetdet-coco_base.py'
]
custom_imports = dict(imports=['mmusot'], allow_failed_imports=False)

pretrained = None  # e.g. 'work_dirs/pretrained/sot_resnet50.model'
data_root = 'data/unlabeled_pseudo/'
samples_per_epoch = 4000

model = dict(
    backbone=dict(
        init_cfg=None
        if pretrained is None
        else dict(type='Pretrained', checkpoint=pretrained)
    )
)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='QuotaSampler', samples_per_epoch=samples_per_epoch),
    dataset=dict(
        _delete_=True,
        type='PseudoLabelSOTDataset',
        data_root=data_root,
        ann_file='pseudo_infos.txt',
        data_prefix=dict(img_path=''),
        # ignore USOT's quality sidecars: mmtrack's own pair sampling
        usot_sampling=False,
        pipeline=_base_.train_pipeline,
    ),
)
val_dataloader = None
val_evaluator = None
val_cfg = None
train_cfg = dict(val_begin=1000)
