# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT (ResNet-50) on a plain folder of OTB-style sequences, OPE metric;
# the folder (default data/sot_eval/) is set as in
# _base_/datasets/otb_folder.py:
#   --cfg-options test_dataloader.dataset.data_root=/path/to/clips
_base_ = ['./_base_/datasets/otb_folder.py', './_base_/usot_r50.py']
