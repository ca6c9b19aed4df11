# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT-MobileNetV2 (e.g. trained with usot_mobilenetv2_1xb8-30e-cpu_*) on a
# plain folder of OTB-style sequences, OPE metric:
#   python tools/test.py configs/usot/usot_mobilenetv2_test-otb-folder.py \
#       CHECKPOINT --cfg-options test_dataloader.dataset.data_root=CLIPS
# Without a checkpoint, tools/test.py tests the ImageNet backbone with a
# freshly initialised neck and head.
_base_ = ['./_base_/datasets/otb_folder.py', './_base_/usot_mobilenetv2.py']
