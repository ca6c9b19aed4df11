# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The paper's Table 4 control: the same videos, sampler and schedule as
# usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py, but every sampled frame's
# pseudo box replaced by a random box, so the tracker learns from random
# crops instead of the discovered moving objects.
_base_ = ['./usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py']

train_dataloader = dict(dataset=dict(box_source='random'))
