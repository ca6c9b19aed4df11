# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on VOT2018 (supervised reset protocol: EAO, accuracy, robustness).
# Tracking runs without the vot toolkit (USOT's own region overlap decides
# failures); mmtrack's VOT metric itself still imports the toolkit
# ("pip install git+https://github.com/votchallenge/toolkit.git").
_base_ = [
    'mmtrack::_base_/datasets/vot2018.py',
    './_base_/usot_r50.py',
]

model = dict(test_cfg=dict(test_mode='VOT'))
