# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# OTB100 with the corrected memory queue and single size smoothing (see
# usot_r50-corrected_test-otb-folder.py and README.md).
_base_ = ['./usot_r50_test-otb100.py']

model = dict(test_cfg=dict(memory_index='corrected', size_smoothing='single'))
