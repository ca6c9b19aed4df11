# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's online memory: the template history and the queue built from it.

Paper Sec. 4.1, "Inference" (the queue of N_q templates: the first-frame
template and its flip, N_q - 3 high-scored history entries, the latest),
which feeds the confidence-value fusion of the memory branch (Eq. 8);
official ``lib/tracker/usot_tracker.py``.
"""

import math
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from ...tracking.memory import (  # noqa: F401  (re-exported)
    MEMORY_INDEX_MODES,
    NUM_FIXED_ENTRIES,
    MemoryQueueIndex,
    Segment,
)

#: History slots allocated at ``reset``; the buffer doubles when full.
INITIAL_HISTORY_CAPACITY = 64


class USOTMemoryQueue(MemoryQueueIndex):
    """Online memory of USOT on torch tensors: the history and its queue.

    The selection (which history entries each queue slot chooses from,
    both ``memory_index`` modes) is :class:`~mmusot.tracking.memory.
    MemoryQueueIndex`; the numpy twin is ``NumpyMemoryQueue``. Features
    and scores stay on their device; the index arithmetic
    (:meth:`segment_bounds`) is on the host, from the history length
    alone, and the device only takes a masked ``argmax`` (first maximum
    wins, like numpy).

    Args: as :class:`~mmusot.tracking.memory.MemoryQueueIndex`.
    """

    def _clear(self) -> None:
        self._init_pair: Optional[Tensor] = None
        self._feats: Optional[Tensor] = None
        self._scores: Optional[Tensor] = None
        self._count_cache: Dict[Tuple[int, ...], Tensor] = {}

    def reset(self, init_feat: Tensor, flip_feat: Tensor) -> None:
        """Start a video with the first-frame templates.

        Args:
            init_feat (Tensor): of shape (C, h, w) or (1, C, h, w), f₀.
            flip_feat (Tensor): same shape, f₀′ from the flipped crop.
        """
        init_feat = init_feat.reshape(-1, *init_feat.shape[-3:])[0]
        flip_feat = flip_feat.reshape(-1, *flip_feat.shape[-3:])[0]
        self._init_pair = torch.stack((init_feat, flip_feat)).detach()
        self._feats = init_feat.new_empty(
            (INITIAL_HISTORY_CAPACITY, *init_feat.shape)
        )
        self._scores = torch.empty(
            INITIAL_HISTORY_CAPACITY,
            dtype=torch.float32,
            device=init_feat.device,
        )
        self.num_history = 0
        self.append(init_feat, init_feat.new_tensor(self.init_score))

    def append(self, feat: Tensor, score: Tensor) -> None:
        """Add one tracked frame's feature and fused score to the history.

        Args:
            feat (Tensor): of shape (C, h, w) or (1, C, h, w).
            score (Tensor | float): of shape () (or (1,)), its score.
        """
        self._check_reset()
        feat = feat.reshape(-1, *feat.shape[-3:])[0]
        if self.num_history == self._feats.size(0):
            self._feats = torch.cat(
                (self._feats, torch.empty_like(self._feats))
            )
            self._scores = torch.cat(
                (self._scores, torch.empty_like(self._scores))
            )
        n = self.num_history
        self._feats[n] = feat.detach().to(self._feats.dtype)
        score = torch.as_tensor(score, device=self._scores.device)
        self._scores[n] = score.detach().reshape(()).float()
        self.num_history = n + 1

    @property
    def scores(self) -> Tensor:
        """Tensor: of shape (n,), the history scores."""
        return self._scores[: self.num_history]

    @property
    def features(self) -> Tensor:
        """Tensor: of shape (n, C, h, w), the history features."""
        return self._feats[: self.num_history]

    def history_indices(
        self, segments: Optional[List[Segment]] = None
    ) -> Tensor:
        """Indices into the history of the best-scored entry of each range.

        Args:
            segments (list[tuple[int, int]], optional): ranges to select
                from. Defaults to None (:meth:`history_segments`).

        Returns:
            Tensor: of shape (len(segments),), long, on the history's
            device. Nothing is copied from the host (slices by Python
            integers only).
        """
        self._check_reset()
        if segments is None:
            segments = self.history_segments()
        scores = self.scores
        masked = scores.new_full((len(segments), scores.numel()), -math.inf)
        for row, (start, end) in enumerate(segments):
            masked[row, start:end] = scores[start:end]
        return masked.argmax(dim=1)

    def _counts_tensor(self, counts: Tuple[int, ...]) -> Tensor:
        """Multiplicities as a float32 tensor on the history's device.

        Built from Python scalars with fill kernels (no host-to-device
        copy, which would synchronise a CUDA stream) and cached per
        pattern; a video meets only a few patterns.
        """
        cached = self._count_cache.get(counts)
        if cached is None:
            device = self._scores.device
            cached = torch.stack(
                [
                    torch.full(
                        (), float(c), dtype=torch.float32, device=device
                    )
                    for c in counts
                ]
            )
            self._count_cache[counts] = cached
        return cached

    def build_distinct_queue(self) -> Tuple[Tensor, Optional[Tensor]]:
        """The distinct kernels of :meth:`build_queue` and their counts.

        f₀ and f₀′ are always kept (history entry 0 is a copy of f₀ but
        is a separate queue entry); history entries are merged when their
        selection ranges (:meth:`history_segments`) are equal, decided on
        the host. Fusing the result with ``kernel_counts`` (see
        :meth:`USOTHead.forward_memory`) equals fusing the full queue.

        Returns:
            tuple[Tensor, Tensor | None]: the kernels, of shape (M, C, h,
            w) with M <= queue_size, in order of first appearance in the
            queue, and their counts, of shape (M,), float32, on the
            device; None when every entry is distinct (the kernels are
            then exactly :meth:`build_queue`).
        """
        self._check_reset()
        segments, counts = self.distinct_segments()
        chosen = self.features.index_select(0, self.history_indices(segments))
        kernels = torch.cat((self._init_pair.to(chosen.dtype), chosen))
        if len(segments) == self.queue_size - 2:
            return kernels, None
        return kernels, self._counts_tensor((1, 1, *counts))

    def build_queue(self) -> Tensor:
        """The N_q memory kernels for the next frame.

        Returns:
            Tensor: of shape (queue_size, C, h, w): f₀, f₀′, the chosen
            history entries, the latest entry.
        """
        self._check_reset()
        chosen = self.features.index_select(0, self.history_indices())
        return torch.cat((self._init_pair.to(chosen.dtype), chosen))

    def _check_reset(self) -> None:
        if self._feats is None:
            raise RuntimeError('USOTMemoryQueue.reset must be called first')
