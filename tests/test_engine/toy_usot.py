# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A tiny USOT-shaped model, a staged dataset and a recording hook.

The model has the parts the schedule acts on (``backbone.conv1/bn1/
layer1-3`` with BN, ``neck``, ``head.lambda1``, ``head.cls_ratio``, a
memory branch unused in the naive stage), so the hooks, the optimizer
constructor and DDP can be exercised in seconds on a CPU.
"""

import json
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmtrack.registry import DATASETS, HOOKS, MODELS
from torch import nn
from torch.utils.data import Dataset

from mmusot.engine.hooks import unwrap_model

FEATURES = 4
WIDTH = 8
LAMBDA_TOTAL = 0.9
NAIVE_CLS_WEIGHT = 0.2


class ToyBackbone(nn.Module):
    """conv1/bn1 stem and three 'layers', as SOTResNet names them."""

    def __init__(self) -> None:
        super().__init__()
        # No bias before BN (its gradient would be zero), as in ResNet.
        self.conv1 = nn.Linear(FEATURES, WIDTH, bias=False)
        self.bn1 = nn.BatchNorm1d(WIDTH)
        self.layer1 = nn.Sequential(
            nn.Linear(WIDTH, WIDTH, bias=False), nn.BatchNorm1d(WIDTH)
        )
        self.layer2 = nn.Linear(WIDTH, WIDTH)
        self.layer3 = nn.Linear(WIDTH, WIDTH)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.layer1(x))
        x = torch.relu(self.layer2(x))
        return self.layer3(x)


class ToyHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cls = nn.Linear(WIDTH, 1)
        self.memory = nn.Linear(WIDTH, 1)
        self.lambda1 = 0.3
        self.cls_ratio = 0.6


@MODELS.register_module()
class MMUSOTToyTracker(BaseModel):
    """Regression with a naive and a cycle ('memory' samples) loss.

    Args:
        refreeze_in_train (bool): ``train()`` freezes the whole backbone,
            as mmdet's ResNet with ``frozen_stages`` does.
        frozen_modules (list[str]): frozen at construction.
    """

    def __init__(self, refreeze_in_train=False, frozen_modules=()):
        super().__init__()
        self.backbone = ToyBackbone()
        self.neck = nn.Linear(WIDTH, WIDTH)
        self.head = ToyHead()
        self.refreeze_in_train = refreeze_in_train
        for name in frozen_modules:
            self.get_submodule(name).requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        if mode and self.refreeze_in_train:
            self.backbone.requires_grad_(False)
        return self

    def features(self, x):
        return torch.relu(self.neck(self.backbone(x)))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feats = self.features(torch.stack(inputs))
        pred = self.head.cls(feats)
        if mode != 'loss':
            return pred
        target = torch.stack([s.target for s in data_samples])
        loss_cls = F.mse_loss(pred, target)
        if 'memory' not in data_samples[0]:
            return dict(loss_cls=NAIVE_CLS_WEIGHT * loss_cls)
        memory = self.features(torch.stack([s.memory for s in data_samples]))
        ratio = self.head.cls_ratio
        blend = ratio * self.head.cls(memory) + (1 - ratio) * (
            self.head.memory(memory)
        )
        lambda1 = self.head.lambda1
        return dict(
            loss_cls=lambda1 * loss_cls,
            loss_mem=(LAMBDA_TOTAL - lambda1) * F.mse_loss(blend, target),
        )


@DATASETS.register_module()
class MMUSOTToyStageDataset(Dataset):
    """Fixed samples of y = sum(x); the cycle stage adds a memory input."""

    def __init__(self, num_samples=16):
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(num_samples, FEATURES, generator=gen)
        self.y = self.x.sum(dim=1, keepdim=True)
        self.stage = 'naive'
        self.metainfo = {}

    def set_stage(self, stage):
        if stage not in ('naive', 'cycle'):
            raise ValueError(stage)
        self.stage = stage

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        # A data element (not a dict), so pseudo_collate keeps one per sample.
        sample = BaseDataElement(
            metainfo=dict(stage=self.stage), target=self.y[index]
        )
        if self.stage == 'cycle':
            sample.memory = 0.5 * self.x[(index + 1) % len(self)]
        return dict(inputs=self.x[index], data_samples=sample)


@HOOKS.register_module()
class MMUSOTToyRecorder(Hook):
    """Records losses, LRs, stages and parameters; writes them per rank.

    ``work_dir/record_rank{r}.json``: per iteration ``[epoch, iter, loss,
    stage]``; per epoch the group LRs and which backbone parameters
    train. ``work_dir/params_rank{r}.pth``: the final parameters.
    """

    priority = 'LOWEST'

    def __init__(self):
        self.iters = []
        self.epochs = []
        self.snapshots = []

    def before_run(self, runner):
        self.snapshots.append(self._params(runner))

    @staticmethod
    def _params(runner):
        model = unwrap_model(runner.model)
        return {k: v.detach().clone() for k, v in model.named_parameters()}

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        stage = data_batch['data_samples'][0].stage
        self.iters.append(
            [
                runner.epoch + 1,
                runner.iter,
                float(outputs['loss'].detach()),
                stage,
            ]
        )

    def after_train_epoch(self, runner):
        model = unwrap_model(runner.model)
        groups = runner.optim_wrapper.optimizer.param_groups
        self.epochs.append(
            dict(
                epoch=runner.epoch + 1,
                lr={
                    g.get('name', str(i)): g['lr']
                    for i, g in enumerate(groups)
                },
                trainable=sorted(
                    n
                    for n, p in model.named_parameters()
                    if p.requires_grad and n.startswith('backbone.')
                ),
                lambda1=model.head.lambda1,
                cls_ratio=model.head.cls_ratio,
            )
        )
        self.snapshots.append(self._params(runner))

    def after_run(self, runner):
        rank = get_rank()
        with open(
            osp.join(runner.work_dir, f'record_rank{rank}.json'), 'w'
        ) as f:
            json.dump(dict(iters=self.iters, epochs=self.epochs), f)
        torch.save(
            dict(initial=self.snapshots[0], final=self._params(runner)),
            osp.join(runner.work_dir, f'params_rank{rank}.pth'),
        )


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCHEDULE = osp.join(REPO, 'configs/usot/_base_/schedules/usot_30e.py')

#: The real 30-epoch schedule config (with mmtrack's runtime, which USOT's
#: model bases bring), shrunk to 4 epochs of the toy model: cycle stage from
#: epoch 2, backbone layers unfrozen at epoch 3.
TOY_CONFIG = """
_base_ = ['mmtrack::_base_/default_runtime.py', {schedule!r}]
default_scope = 'mmtrack'
custom_imports = dict(
    imports=['mmusot', 'tests.test_engine.toy_usot'],
    allow_failed_imports=False)
model = dict(
    type='MMUSOTToyTracker', refreeze_in_train={refreeze},
    frozen_modules={frozen!r})
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='MMUSOTToyStageDataset', num_samples=16),
    collate_fn=dict(type='pseudo_collate'))
train_cfg = dict(max_epochs={max_epochs}, val_begin=100)
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [dict(type='USOTLR', warmup_epochs=1, begin=0, end=4)]
custom_hooks = [
    dict(type='USOTStageHook', cycle_start_epoch=2,
         lambda1_schedule=[(1, 0.3), (3, 0.25)],
         cls_ratio_schedule=[(1, 0.6), (3, 0.4)]),
    dict(type='BackboneUnfreezeHook', unfreeze_epoch=3),
    dict(type='MMUSOTToyRecorder'),
]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(save_begin=1, max_keep_ckpts=-1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
"""


def write_toy_config(
    path, refreeze=False, batch_size=4, max_epochs=4, frozen=('backbone',)
):
    """Write :data:`TOY_CONFIG` to ``path``; return it as a string.

    ``frozen``: modules the model freezes when built (as USOT's
    ``frozen_modules='backbone'``), i.e. before DDP wraps it.
    """
    with open(path, 'w') as f:
        f.write(
            TOY_CONFIG.format(
                schedule=SCHEDULE,
                refreeze=refreeze,
                batch_size=batch_size,
                max_epochs=max_epochs,
                frozen=list(frozen),
            )
        )
    return str(path)


def recorder_of(runner):
    """The :class:`MMUSOTToyRecorder` of a runner."""
    return next(h for h in runner.hooks if isinstance(h, MMUSOTToyRecorder))


def toy_batch(value, size=2):
    """A naive-stage batch whose inputs all equal ``value``."""
    x = torch.full((size, FEATURES), float(value))
    return dict(
        inputs=list(x),
        data_samples=[BaseDataElement(target=torch.zeros(1))] * size,
    )
