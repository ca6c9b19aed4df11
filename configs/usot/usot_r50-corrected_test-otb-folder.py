# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The OTB-folder test with the two inference quirks corrected: the memory
# queue takes one best-scored entry per history segment (paper design)
# and the size is smoothed once (rate lr, not lr²). Both are pure
# inference switches, usable with the official weights. The search-side
# pooling axis (head.search_pool_axis) is NOT switched: it must match how
# the checkpoint was trained (official weights: 'official').
_base_ = ['./usot_r50_test-otb-folder.py']

model = dict(test_cfg=dict(memory_index='corrected', size_smoothing='single'))
