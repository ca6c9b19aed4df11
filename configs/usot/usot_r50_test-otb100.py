# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on OTB100 (OPE: success / norm. precision / precision), official
# reference inference switches (README.md in this folder).
_base_ = [
    'mmtrack::_base_/datasets/otb100.py',
    './_base_/usot_r50.py',
]
