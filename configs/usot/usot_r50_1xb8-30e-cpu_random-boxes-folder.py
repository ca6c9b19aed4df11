# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The paper's Table 4 control for usot_r50_1xb8-30e-cpu_pseudo-folder.py:
# every sampled frame's pseudo box replaced by a random box.
_base_ = ['./usot_r50_1xb8-30e-cpu_pseudo-folder.py']

train_dataloader = dict(dataset=dict(box_source='random'))
