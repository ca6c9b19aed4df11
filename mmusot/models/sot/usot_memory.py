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

from ...tracking.state import MEMORY_INDEX_MODES

#: Queue entries that are not chosen by score: f₀, f₀′ and the latest.
NUM_FIXED_ENTRIES = 3
#: History slots allocated at ``reset``; the buffer doubles when full.
INITIAL_HISTORY_CAPACITY = 64

Segment = Tuple[int, int]


class USOTMemoryQueue:
    """Online memory of USOT: the history and the queue built from it.

    The queue for a frame is the two first-frame templates (the template
    and its horizontal flip), then ``k = queue_size - 3`` entries of the
    history chosen by score, then the latest history entry. The history
    starts with the first-frame template (score ``init_score``) and gets
    one entry per tracked frame. Features and scores stay on their device;
    the index arithmetic (:meth:`segment_bounds`) is on the host, from the
    history length alone, and the device only takes a masked ``argmax``
    (first maximum wins, like numpy).

    Segment ``i`` of ``k`` over a history of length ``n`` spans
    ``[int(i (n-1)/k), int((i+1)(n-1)/k))``. ``'official'`` mode
    multiplies both bounds by ``n`` (the reference bug) before clamping to
    ``n - 1``; ``'corrected'`` does not. An empty segment takes the entry
    at its start. With ``n <= 1`` the queue repeats the first entry.

    Args:
        queue_size (int): N_q, the number of kernels handed to the memory
            head. Defaults to 7.
        mode (str): ``'official'`` or ``'corrected'``. Defaults to
            ``'official'``.
        init_score (float): score of the first history entry. Defaults to
            0.9.
    """

    def __init__(
        self,
        queue_size: int = 7,
        mode: str = 'official',
        init_score: float = 0.9,
    ) -> None:
        if queue_size < NUM_FIXED_ENTRIES + 1:
            raise ValueError(
                f'queue_size must be >= {NUM_FIXED_ENTRIES + 1}, '
                f'got {queue_size}'
            )
        if mode not in MEMORY_INDEX_MODES:
            raise ValueError(
                f'memory_index must be one of '
                f'{MEMORY_INDEX_MODES}, got {mode!r}'
            )
        self.queue_size = queue_size
        self.mode = mode
        self.init_score = init_score
        self.num_history = 0
        self._init_pair: Optional[Tensor] = None
        self._feats: Optional[Tensor] = None
        self._scores: Optional[Tensor] = None
        self._count_cache: Dict[Tuple[int, ...], Tensor] = {}

    @property
    def num_segments(self) -> int:
        """int: ``k``, the history entries chosen by score."""
        return self.queue_size - NUM_FIXED_ENTRIES

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

    def segment_bounds(self, n: int) -> List[Segment]:
        """History segments ``[start, end)`` scanned for the queue.

        The only place of the queue's index arithmetic: host integers from
        the history length. An empty segment is returned as ``(start,
        start + 1)``, i.e. it takes ``history[start]``; with ``n <= 1``
        every segment is ``(0, 1)``.

        Args:
            n (int): history length.

        Returns:
            list[tuple[int, int]]: ``queue_size - 3`` half-open ranges.
        """
        k = self.num_segments
        if n <= 1:
            return [(0, 1)] * k
        bounds = []
        for i in range(k):
            # int(i * gap) with gap = (n - 1) / k, in exact integers.
            start, end = (i * (n - 1)) // k, ((i + 1) * (n - 1)) // k
            if self.mode == 'official':
                start, end = start * n, end * n
            start, end = min(start, n - 1), min(end, n - 1)
            bounds.append((start, max(end, start + 1)))
        return bounds

    def history_segments(self) -> List[Segment]:
        """The selection range of each queue entry after [f₀, f₀′].

        Entry j of :meth:`history_indices` is the best-scored history
        entry of range j: the :meth:`segment_bounds`, then the latest entry
        as the one-entry range ``(n - 1, n)``. Equal ranges select the same
        entry, so equal items mark duplicate kernels without reading the
        device. Different ranges may still select the same entry (only the
        device knows); they are kept apart.

        Returns:
            list[tuple[int, int]]: ``queue_size - 2`` ranges
            ``(start, end)`` of history indices.
        """
        n = max(self.num_history, 1)
        return self.segment_bounds(n) + [(n - 1, n)]

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
        segments = self.history_segments()
        distinct: Dict[Segment, int] = {}
        for seg in segments:
            distinct[seg] = distinct.get(seg, 0) + 1
        chosen = self.features.index_select(
            0, self.history_indices(list(distinct))
        )
        kernels = torch.cat((self._init_pair.to(chosen.dtype), chosen))
        if len(distinct) == len(segments):
            return kernels, None
        return kernels, self._counts_tensor((1, 1, *distinct.values()))

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
