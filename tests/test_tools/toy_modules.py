# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A tiny model and dataset for exercising tools/train.py quickly."""

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
