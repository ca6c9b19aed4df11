# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# A plain folder of OTB-style sequences (<seq>/img/*.jpg and
# <seq>/groundtruth_rect.txt) with mmtrack's OTB100 pipeline and OPE
# metric. The folder defaults to data/sot_eval/; point it elsewhere with
#   --cfg-options test_dataloader.dataset.data_root=/path/to/clips
# (e.g. ../shared/data/sot_eval beside this repository) and pick sequences
# or a frame limit with
#   test_dataloader.dataset.sequences="[Crossing,Couple]"
#   test_dataloader.dataset.max_frames=50
_base_ = ['mmtrack::_base_/datasets/otb100.py']

data_root = 'data/sot_eval/'

folder_dataset = dict(
    _delete_=True,
    type='OTBFolderDataset',
    data_root=data_root,
    data_prefix=dict(img_path=''),
    sequences=None,
    max_frames=None,
    pipeline=_base_.test_pipeline,
    test_mode=True,
)
val_dataloader = dict(dataset=folder_dataset)
test_dataloader = dict(dataset=folder_dataset)
