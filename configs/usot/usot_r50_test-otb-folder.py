# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on a plain folder of OTB-style sequences (<seq>/img/*.jpg and
# <seq>/groundtruth_rect.txt), OPE metric. By default the folder is
# shared/data/sot_eval beside the repository; point it elsewhere with
#   --cfg-options test_dataloader.dataset.data_root=/path/to/clips
# and pick sequences / a frame limit with
#   test_dataloader.dataset.sequences="[Crossing,Couple]"
#   test_dataloader.dataset.max_frames=50
_base_ = [
    './_base_/usot_test_runtime.py',
    './_base_/usot_r50.py',
]
default_scope = 'mmtrack'
custom_imports = dict(imports=['mmusot'], allow_failed_imports=False)

# Relative to this file, so it does not depend on the working directory.
data_root = '{{ fileDirname }}/../../../shared/data/sot_eval'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadTrackAnnotations', with_instance_id=False),
    dict(type='PackTrackInputs', pack_single_img=True),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='VideoSampler'),
    dataset=dict(
        type='OTBFolderDataset',
        data_root=data_root,
        data_prefix=dict(img_path=''),
        sequences=None,
        max_frames=None,
        pipeline=test_pipeline,
        test_mode=True,
    ),
)
test_dataloader = val_dataloader

val_evaluator = dict(
    type='SOTMetric',
    metric='OPE',
    metric_options=dict(only_eval_visible=False),
)
test_evaluator = val_evaluator

val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
