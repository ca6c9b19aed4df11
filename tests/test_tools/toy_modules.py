# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A tiny model, dataset and train config for exercising tools/train.py."""

from typing import Sequence

import torch
from mmengine.model import BaseModel
from mmtrack.registry import DATASETS, MODELS
from torch import nn
from torch.utils.data import Dataset


@MODELS.register_module()
class MMUSOTToyRegressor(BaseModel):
    """Linear regression; ``loss`` is the mean squared error."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            target = torch.stack(data_samples)
            return dict(loss=((out - target) ** 2).mean())
        return out


@DATASETS.register_module()
class MMUSOTToyDataset(Dataset):
    """16 fixed samples of y = sum(x)."""

    def __init__(self, num_samples: int = 16) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(num_samples, 4, generator=gen)
        self.y = self.x.sum(dim=1, keepdim=True)
        self.metainfo = {}

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.x[index], data_samples=self.y[index])


#: Two epochs of :class:`MMUSOTToyRegressor` on :class:`MMUSOTToyDataset`
#: (batch 4, in order), SGD, a checkpoint every epoch, gloo for ``dist``.
TOY_TRAIN_CONFIG = """
default_scope = 'mmtrack'
custom_imports = dict(
    imports={imports!r}, allow_failed_imports=False)
model = dict(type='MMUSOTToyRegressor')
train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MMUSOTToyDataset'),
    collate_fn=dict(type='pseudo_collate'))
train_cfg = dict(by_epoch=True, max_epochs=2)
optim_wrapper = dict(
    type={optim_wrapper!r},
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
"""


def toy_train_config(
    imports: Sequence[str] = (),
    optim_wrapper: str = 'LossGuardOptimWrapper',
    extra: str = '',
) -> str:
    """The text of the toy train config (:data:`TOY_TRAIN_CONFIG`).

    Args:
        imports (sequence[str]): modules imported besides this one (e.g.
            a test module registering its hooks).
        optim_wrapper (str): the optimizer wrapper type.
        extra (str): lines appended; an assignment replaces the one above.
    """
    return (
        TOY_TRAIN_CONFIG.format(
            imports=['tests.test_tools.toy_modules', *imports],
            optim_wrapper=optim_wrapper,
        )
        + extra
    )
