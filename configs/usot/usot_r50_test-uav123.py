# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on UAV123 (OPE). USOT uses one hyper-parameter set for every
# benchmark (experiments/test/USOT.yaml), so nothing is re-tuned here.
_base_ = [
    './_base_/usot_test_runtime.py',
    'mmtrack::_base_/datasets/uav123.py',
    './_base_/usot_r50.py',
]
default_scope = 'mmtrack'
custom_imports = dict(imports=['mmusot'], allow_failed_imports=False)
