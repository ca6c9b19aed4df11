# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The official USOT tracker on VOT2018, for the released weights: the
# official uint8 OpenCV crop (slower, on the host). The VOT protocol uses
# the boxes as given (no 1-based shift). See README.md.
_base_ = ['./usot_r50_test-vot2018.py']

model = dict(test_cfg=dict(crop_mode='official'))
