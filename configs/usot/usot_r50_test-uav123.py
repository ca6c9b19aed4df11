# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on UAV123 (OPE). USOT uses one hyper-parameter set for every
# benchmark (experiments/test/USOT.yaml), so nothing is re-tuned here.
_base_ = [
    'mmtrack::_base_/datasets/uav123.py',
    './_base_/usot_r50.py',
]
