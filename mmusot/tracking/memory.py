# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's online memory queue: its index arithmetic, and a numpy queue.

Paper Sec. 4.1, "Inference": the queue of N_q memory kernels is the
first-frame template and its flip, N_q - 3 high-scored history entries and
the latest entry (official ``lib/tracker/usot_tracker.py``).
:class:`MemoryQueueIndex` is the part that needs no array library: which
history entries each queue slot chooses from. Two queues store the
entries: :class:`NumpyMemoryQueue` here (the ONNX runtime's) and
``mmusot.models.sot.USOTMemoryQueue`` (torch, on the model's device).
"""

from typing import Dict, List, Optional, Tuple

import numpy as np

#: ``test_cfg.memory_index`` modes: the reference's queue (segment bounds
#: multiplied by the history length, a bug kept for reproduction) or the
#: paper's.
MEMORY_INDEX_MODES = ('official', 'corrected')
#: Queue entries that are not chosen by score: f₀, f₀′ and the latest.
NUM_FIXED_ENTRIES = 3

Segment = Tuple[int, int]


class MemoryQueueIndex:
    """Which history entries USOT's memory queue is made of.

    The queue for a frame is the two first-frame templates (the template
    and its horizontal flip), then ``k = queue_size - 3`` entries of the
    history chosen by score, then the latest history entry. The history
    starts with the first-frame template (score ``init_score``) and gets
    one entry per tracked frame. Subclasses store the entries and scores
    and keep :attr:`num_history`.

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
        self._clear()

    def _clear(self) -> None:
        """Forget the stored entries (subclasses hold them)."""

    @property
    def num_segments(self) -> int:
        """int: ``k``, the history entries chosen by score."""
        return self.queue_size - NUM_FIXED_ENTRIES

    def segment_bounds(self, n: int) -> List[Segment]:
        """History segments ``[start, end)`` scanned for the queue.

        Host integers from the history length. An empty segment is returned
        as ``(start, start + 1)``, i.e. it takes ``history[start]``; with
        ``n <= 1`` every segment is ``(0, 1)``.

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

        Entry j of the queue's history part is the best-scored history
        entry of range j: the :meth:`segment_bounds`, then the latest entry
        as the one-entry range ``(n - 1, n)``. Equal ranges select the same
        entry (duplicate kernels, known without reading the scores).

        Returns:
            list[tuple[int, int]]: ``queue_size - 2`` ranges
            ``(start, end)`` of history indices.
        """
        n = max(self.num_history, 1)
        return self.segment_bounds(n) + [(n - 1, n)]

    def distinct_segments(self) -> Tuple[List[Segment], List[int]]:
        """:meth:`history_segments` without repeats, and their counts.

        Returns:
            tuple[list, list[int]]: the distinct ranges in order of first
            appearance and how often each appears.
        """
        distinct: Dict[Segment, int] = {}
        for seg in self.history_segments():
            distinct[seg] = distinct.get(seg, 0) + 1
        return list(distinct), list(distinct.values())


class NumpyMemoryQueue(MemoryQueueIndex):
    """USOT's memory queue on numpy arrays (the ONNX runtime's).

    Entries are whatever the runtime stores per frame (the encoded memory
    kernel); :meth:`build_queue` stacks the chosen ones. Same selection as
    the torch queue: the first maximum of each range wins.

    Args: as :class:`MemoryQueueIndex`.
    """

    def _clear(self) -> None:
        self._init_pair: Optional[np.ndarray] = None
        self._entries: List[np.ndarray] = []
        self._scores: List[float] = []

    def reset(self, init_entry: np.ndarray, flip_entry: np.ndarray) -> None:
        """Start a video with the first-frame entries f₀ and f₀′."""
        self._init_pair = np.stack((init_entry, flip_entry))
        self._entries, self._scores = [], []
        self.num_history = 0
        self.append(init_entry, np.float32(self.init_score))

    def append(self, entry: np.ndarray, score: float) -> None:
        """Add one tracked frame's entry and fused score to the history."""
        self._check_reset()
        self._entries.append(entry)
        self._scores.append(np.float32(score))
        self.num_history += 1

    @property
    def scores(self) -> np.ndarray:
        """np.ndarray: of shape (n,), float32, the history scores."""
        return np.asarray(self._scores, dtype=np.float32)

    def _chosen(self, segments: List[Segment]) -> List[np.ndarray]:
        scores = self._scores
        return [
            self._entries[start + int(np.argmax(scores[start:end]))]
            for start, end in segments
        ]

    def build_queue(self) -> np.ndarray:
        """The N_q entries for the next frame, stacked on a new axis 0."""
        self._check_reset()
        chosen = self._chosen(self.history_segments())
        return np.concatenate((self._init_pair, np.stack(chosen)))

    def build_distinct_queue(self) -> Tuple[np.ndarray, np.ndarray]:
        """The distinct entries of :meth:`build_queue` and their counts.

        Returns:
            tuple[np.ndarray, np.ndarray]: the entries (M, ...) and their
            multiplicities (M,), float32 (f₀ and f₀′ count once each).
        """
        self._check_reset()
        segments, counts = self.distinct_segments()
        kernels = np.concatenate(
            (self._init_pair, np.stack(self._chosen(segments)))
        )
        return kernels, np.asarray([1, 1, *counts], dtype=np.float32)

    def _check_reset(self) -> None:
        if self._init_pair is None:
            raise RuntimeError('NumpyMemoryQueue.reset must be called first')
