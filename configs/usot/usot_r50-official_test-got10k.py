# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The official USOT tracker on the GOT-10k test set, for the released weights:
# the official uint8 OpenCV crop (slower, on the host) and the official test
# script's 1-based convention (init from GT - (1, 1), results + (1, 1)). See
# README.md, "Reproducing the official tracker".
_base_ = ['./usot_r50_test-got10k.py']

model = dict(test_cfg=dict(crop_mode='official', one_based_gt=True))
# Beside the default config's results, not over them.
val_evaluator = dict(outfile_prefix='results/usot_r50-official_got10k')
test_evaluator = val_evaluator
