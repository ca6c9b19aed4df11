# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on the LaSOT test set (OPE, only visible frames scored; the
# denominator stays the full length, as mmtrack's SOTMetric does).
_base_ = [
    'mmtrack::_base_/datasets/lasot.py',
    './_base_/usot_r50.py',
]
