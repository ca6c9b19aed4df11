# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's per-source epoch quotas (paper Sec. 4.1, four training sets)."""

import math
from typing import Iterator, List, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmtrack.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


@DATA_SAMPLERS.register_module()
class USOTQuotaSampler(Sampler):
    """Per-source quotas of video indices per epoch, as USOT trains.

    Official ``lib/dataset_loader/datasets_usot.py``:
    every epoch, for each source (the dataset, or each child of an mmengine
    ``ConcatDataset``) its video indices are permuted and tiled (a fresh
    permutation per repetition) to its ``samples_per_epoch``, truncated,
    offset by the source's start in the concatenation, and the sources'
    lists are concatenated and shuffled together (the official 14000 VID +
    19000 GOT-10k + 13000 LaSOT + 4000 YT-VOS = 50,000 per epoch). The list
    is then split across ranks like mmengine's ``DefaultSampler``
    (padded by repetition to a multiple of the world size, rank ``r``
    takes items ``r, r + world_size, ...``).

    A source's quota is its ``samples_per_epoch`` attribute, or its length
    (one pass over its videos) when that is missing or None. Every index is
    a Python ``int``, as mmtrack's SOT datasets require.

    ``set_epoch`` (called by mmengine's ``DistSamplerSeedHook``) also calls
    ``set_epoch(epoch, seed=seed)`` of the sources that have one
    (:class:`~mmusot.datasets.PseudoLabelSOTDataset`), so their frame
    sampling follows the same seed and changes across epochs; the dataset
    keeps the epoch in state shared with its DataLoader workers
    (:class:`~mmusot.datasets.samplers.SamplingState`), so this holds with
    persistent workers too. Together with the dataset's
    ``samples_per_epoch`` this is the quota part of USOT's sampling; the
    frames of each index are drawn by
    :class:`~mmusot.datasets.samplers.PseudoLabelSampler`.

    Args:
        dataset (Sized): the dataset or an mmengine ``ConcatDataset``.
        seed (int, optional): seed of the permutations, the same on every
            rank. None: a random seed synchronised across ranks. Defaults
            to None.
        shuffle (bool): permute the videos and the epoch list. False: each
            source's indices in order, tiled, sources one after the other.
            Defaults to True.
    """

    def __init__(
        self, dataset: Sized, seed: Optional[int] = None, shuffle: bool = True
    ) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.epoch = 0
        self.sources = list(getattr(dataset, 'datasets', [dataset]))
        self.source_sizes = [len(d) for d in self.sources]
        self.offsets = np.cumsum([0] + self.source_sizes[:-1]).tolist()
        self.quotas: List[int] = []
        for k, (source, size) in enumerate(
            zip(self.sources, self.source_sizes)
        ):
            quota = getattr(source, 'samples_per_epoch', None)
            quota = size if quota is None else int(quota)
            if quota < 0:
                raise ValueError(
                    f'source {k} ({type(source).__name__}): '
                    f'samples_per_epoch must be >= 0, got {quota}'
                )
            if quota > 0 and size == 0:
                raise ValueError(
                    f'source {k} ({type(source).__name__}) is empty but '
                    f'asks for {quota} samples per epoch'
                )
            self.quotas.append(quota)
        self.total = sum(self.quotas)
        self.num_samples = math.ceil(self.total / world_size)
        self.total_size = self.num_samples * world_size
        self._share_epoch()

    def _share_epoch(self) -> None:
        for source in self.sources:
            if hasattr(source, 'set_epoch'):
                source.set_epoch(self.epoch, seed=self.seed)

    def epoch_indices(self) -> List[int]:
        """All ranks' indices of the current epoch, before the rank split.

        Returns:
            list[int]: ``sum(quotas)`` dataset indices.
        """
        rng = np.random.default_rng([self.seed % 2**32, self.epoch])
        parts = []
        for size, quota, offset in zip(
            self.source_sizes, self.quotas, self.offsets
        ):
            if quota == 0:
                continue
            reps = math.ceil(quota / size)
            tiles = [
                rng.permutation(size) if self.shuffle else np.arange(size)
                for _ in range(reps)
            ]
            parts.append(np.concatenate(tiles)[:quota] + offset)
        if not parts:
            return []
        indices = np.concatenate(parts)
        if self.shuffle:
            indices = indices[rng.permutation(len(indices))]
        return indices.tolist()

    def __iter__(self) -> Iterator[int]:
        indices = self.epoch_indices()
        if indices and len(indices) < self.total_size:
            reps = math.ceil(self.total_size / len(indices))
            indices = (indices * reps)[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.world_size])

    def __len__(self) -> int:
        """int: indices of this rank per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (new permutations) and share it with the sources.

        Args:
            epoch (int): the epoch.
        """
        self.epoch = int(epoch)
        self._share_epoch()
