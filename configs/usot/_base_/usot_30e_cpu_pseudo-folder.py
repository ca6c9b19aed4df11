# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# The data, schedule and runtime shared by the CPU train configs
# (usot_*_1xb8-30e-cpu_pseudo-folder.py): one converted folder, the official
# 30-epoch schedule with short epochs (samples_per_epoch samples of batch 8:
# 30 x 25 = 750 iterations), no validation while training (evaluate
# checkpoints with tools/test.py). A config lists it after its model base:
#   _base_ = ['./_base_/usot_mobilenetv2.py',
#             './_base_/usot_30e_cpu_pseudo-folder.py']
# and sets default_hooks itself (mmengine refuses a key in two bases, and
# the model base brings mmtrack's default_hooks).
_base_ = ['./datasets/usot_pseudo_labels.py', './schedules/usot_30e.py']

data_root = 'data/unlabeled_pseudo/'
batch_size = 8
samples_per_epoch = 200

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    dataset=dict(data_root=data_root, samples_per_epoch=samples_per_epoch),
)
log_processor = dict(window_size=10)

train_cfg = dict(val_begin=1000)
val_dataloader = None
val_evaluator = None
val_cfg = None
