# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# USOT on the GOT-10k test set: results are packed for the evaluation
# server (format_only) into results/usot_r50_got10k.zip.
_base_ = [
    'mmtrack::_base_/datasets/got10k.py',
    './_base_/usot_r50.py',
]

# Without outfile_prefix the zip would go to a deleted temporary folder.
val_evaluator = dict(outfile_prefix='results/usot_r50_got10k')
test_evaluator = val_evaluator
