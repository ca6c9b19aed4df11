# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT online tracking: cropping, scoring, state update, memory queue.

Implements the inference of `USOT <https://arxiv.org/abs/2108.12711>`_
(usot_spec.md §6) as :class:`USOTTrackingMixin`, the ``init``/``track``
half of the :class:`mmtrack.models.sot.base.BaseSingleObjectTracker`
contract. The network half (``forward_template``, ``forward_search`` and
``self.head``) comes from :class:`mmusot.models.sot.USOT`.

Everything per frame runs on the model's device as tensor operations: the
crop is one ``grid_sample`` over the mean-padded frame, the decoding and the
penalties are vectorised over the response map, and the memory queue keeps
its history on the device and selects entries with a masked ``argmax``. No
value is read back to the host while tracking, so CUDA frames pipeline.

Reference quirks (usot_spec.md §10) are ``test_cfg`` switches:

* ``memory_index``: ``'official'`` reproduces the reference's queue index
  bug (segment bounds multiplied by the history length, §6.5);
  ``'corrected'`` picks one best-scored entry per equal history segment.
* ``size_smoothing``: ``'double'`` reproduces the reference's size update
  smoothed twice (effective rate lr², §6.4); ``'single'`` applies lr once.

``dedupe_memory`` (default True) is a pure speed switch: queue entries
that are the same history entry (e.g. the official queue's 4 × latest) go
through the memory head once, weighted by their count in the fusion
softmax, which gives the same response as the full queue up to float
rounding (see :meth:`USOTMemoryQueue.build_distinct_queue`).
"""

import math
from typing import Dict, List, Optional, Tuple

import addict
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmtrack.structures.bbox import quad2bbox_cxcywh
from torch import Tensor

#: Defaults of the inference hyper-parameters (usot_spec.md §6.1). Any key
#: of a model's ``test_cfg`` overrides the value here.
USOT_TEST_CFG_DEFAULTS: Dict = dict(
    test_mode='OPE',
    exemplar_size=127,
    instance_size=255,
    big_instance_size=271,
    small_object_area_ratio=0.004,
    total_stride=8,
    context_amount=0.5,
    window_influence=0.321,
    penalty_k=0.021,
    lr=0.73,
    offline_weight=0.3,
    memory_queue_size=7,
    init_memory_score=0.9,
    memory_clamp_margin=8,
    memory_index='official',
    size_smoothing='double',
    min_size=10.0,
    dedupe_memory=True,
)

_MEMORY_INDEX_MODES = ('official', 'corrected')
_SIZE_SMOOTHING_MODES = ('double', 'single')


def python2round(x: Tensor) -> Tensor:
    """Round halves away from zero, as Python 2's ``round`` (§6.2).

    Args:
        x (Tensor): any shape.

    Returns:
        Tensor: same shape and dtype, integral values.
    """
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def context_side(size: Tensor, context_amount: float = 0.5) -> Tensor:
    """SiamFC context side ``sqrt((w + c(w+h)) (h + c(w+h)))``.

    Args:
        size (Tensor): of shape (..., 2) as ``[w, h]``.
        context_amount (float): the context factor c. Defaults to 0.5.

    Returns:
        Tensor: of shape (...), the unrounded side in the same units.
    """
    w, h = size[..., 0], size[..., 1]
    context = context_amount * (w + h)
    return torch.sqrt((w + context) * (h + context))


def crop_window_origin(center: Tensor, side: Tensor) -> Tensor:
    """Top-left pixel of a SiamFC crop window (§6.2).

    The window of integer side ``sz`` spans
    ``[round(c - (sz + 1) / 2), that + sz - 1]`` per axis, with halves
    rounded to even (Python 3 ``round``, like ``torch.round``).

    Args:
        center (Tensor): of shape (..., 2) as ``[cx, cy]``, frame pixels.
        side (Tensor): of shape (...), integral crop side in frame pixels.

    Returns:
        Tensor: of shape (..., 2), the window origin ``[x0, y0]``.
    """
    return torch.round(center - (side[..., None] + 1) / 2)


def crop_siamfc(
    img: Tensor, center: Tensor, side: Tensor, out_size: int, pad_value: Tensor
) -> Tensor:
    """SiamFC/Ocean sub-window: square crop, mean padding, bilinear resize.

    Reproduces ``get_subwindow_tracking`` (§6.2) in one ``grid_sample``:
    the window of integral side ``sz`` at :func:`crop_window_origin` is
    taken from the frame padded with ``pad_value`` and resized to
    ``out_size`` with OpenCV's bilinear rule (half-pixel centres, source
    coordinates clamped to the patch). Works on any device; no value is
    read back to the host.

    Args:
        img (Tensor): of shape (1, C, H, W), the frame.
        center (Tensor): of shape (K, 2) as ``[cx, cy]``, frame pixels.
        side (Tensor): of shape (K,), integral crop sides in frame pixels.
        out_size (int): side of the output patches.
        pad_value (Tensor): of shape (C,), the value outside the frame.

    Returns:
        Tensor: of shape (K, C, out_size, out_size), same dtype as ``img``.
    """
    if img.dim() != 4 or img.size(0) != 1:
        raise ValueError(
            f'img must be of shape (1, C, H, W), got {tuple(img.shape)}'
        )
    num = center.size(0)
    height, width = img.shape[-2:]
    coord_dtype = (
        torch.float32 if img.dtype != torch.float64 else torch.float64
    )
    center = center.to(coord_dtype)
    side = side.to(coord_dtype)
    origin = crop_window_origin(center, side)  # (K, 2)
    steps = torch.arange(out_size, device=img.device, dtype=coord_dtype)
    # OpenCV INTER_LINEAR: src = (dst + 0.5) * scale - 0.5, clamped.
    src = (steps[None] + 0.5) * (side[:, None] / out_size) - 0.5  # (K, O)
    src = torch.minimum(src.clamp(min=0), (side[:, None] - 1))
    xs = src + origin[:, 0:1]
    ys = src + origin[:, 1:2]
    # align_corners=True: -1 and 1 are the centres of the border pixels;
    # zero padding beyond them equals padding (img - pad) with zeros.
    gx = xs * (2.0 / max(width - 1, 1)) - 1.0
    gy = ys * (2.0 / max(height - 1, 1)) - 1.0
    grid = torch.stack(
        (
            gx[:, None, :].expand(num, out_size, out_size),
            gy[:, :, None].expand(num, out_size, out_size),
        ),
        dim=-1,
    )
    pad = pad_value.to(img.dtype).view(1, -1, 1, 1)
    src_img = (img - pad).to(coord_dtype).expand(num, -1, -1, -1)
    patch = F.grid_sample(
        src_img,
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=True,
    )
    return (patch + pad.to(coord_dtype)).to(img.dtype)


def box_in_crop(
    center: Tensor, size: Tensor, side: Tensor, out_size: int
) -> Tensor:
    """The target box in the coordinates of its resized SiamFC crop.

    The reference's formula (§6.2), padding term included: with
    ``c0 = round(pos - (sz + 1) / 2)``, left/top padding
    ``L = max(0, -c0)`` and ``slope = sz / (sz - 1)``, a box edge
    ``v = round(pos -/+ size / 2)`` maps to
    ``(out / sz) * (L - 1 + slope * (v - c0 - L))``.

    Args:
        center (Tensor): of shape (2,) as ``[cx, cy]``, frame pixels.
        size (Tensor): of shape (2,) as ``[w, h]``, frame pixels.
        side (Tensor): of shape (), integral crop side ``sz``.
        out_size (int): side of the resized crop.

    Returns:
        Tensor: of shape (4,) in ``[x1, y1, x2, y2]`` format, pixels of the
        resized crop.
    """
    origin = crop_window_origin(center, side)
    pad = torch.clamp(-origin, min=0)
    slope = side / (side - 1).clamp(min=1)
    scale = out_size / side
    lo = torch.round(center - size / 2)
    hi = torch.round(center + size / 2)
    lo = scale * (pad - 1 + slope * (lo - origin - pad))
    hi = scale * (pad - 1 + slope * (hi - origin - pad))
    return torch.cat((lo, hi))


def cosine_window(score_size: int, device=None) -> Tensor:
    """Outer product of two numpy-style Hanning windows (zeros at the ends).

    Args:
        score_size (int): side S of the response map.
        device (torch.device, optional): Defaults to None (CPU).

    Returns:
        Tensor: of shape (S, S), float32.
    """
    hann = torch.hann_window(
        score_size, periodic=False, dtype=torch.float32, device=device
    )
    return hann[:, None] * hann[None, :]


def response_grid(
    score_size: int, instance_size: int, stride: int = 8, device=None
) -> Tensor:
    """Search-crop pixel of every response cell: ``8 (c - S // 2) + I // 2``.

    Args:
        score_size (int): side S of the response map.
        instance_size (int): side I of the search crop.
        stride (int): total stride. Defaults to 8.
        device (torch.device, optional): Defaults to None (CPU).

    Returns:
        Tensor: of shape (S,), float32 pixel positions (same for x and y).
    """
    cells = torch.arange(score_size, device=device, dtype=torch.float32)
    return stride * (cells - score_size // 2) + instance_size // 2


def _change(ratio: Tensor) -> Tensor:
    """``max(r, 1 / r)``."""
    return torch.maximum(ratio, 1.0 / ratio)


def size_change_penalty(
    pred_wh: Tensor, target_wh: Tensor, penalty_k: float
) -> Tensor:
    """Scale and aspect-ratio change penalty (§6.3, step 4).

    ``exp(-(r_c * s_c - 1) * k)`` with ``s_c = change(sz(pred) /
    sz(target))``, ``sz`` the context side (context 0.5) and
    ``r_c = change((w_t / h_t) / (w_p / h_p))``.

    Args:
        pred_wh (Tensor): of shape (2, ...) as ``[w, h]`` per cell, crop
            pixels.
        target_wh (Tensor): of shape (2,), the current target size in crop
            pixels.
        penalty_k (float): the penalty factor k.

    Returns:
        Tensor: of shape (...), in (0, 1].
    """
    extra = (1,) * (pred_wh.dim() - 1)
    target = target_wh.reshape(2, *extra)
    s_c = _change(
        context_side(pred_wh.movedim(0, -1))
        / context_side(target.movedim(0, -1))
    )
    r_c = _change((target[0] / target[1]) / (pred_wh[0] / pred_wh[1]))
    return torch.exp(-(r_c * s_c - 1) * penalty_k)


def decode_response(
    score: Tensor,
    reg: Tensor,
    target_wh: Tensor,
    window: Tensor,
    instance_size: int,
    stride: int,
    penalty_k: float,
    window_influence: float,
) -> Dict[str, Tensor]:
    """Pick the best cell of a fused response and decode its box (§6.3).

    Args:
        score (Tensor): of shape (S, S), fused probabilities.
        reg (Tensor): of shape (4, S, S), ``[l, t, r, b]`` distances in
            search-crop pixels.
        target_wh (Tensor): of shape (2,), current target size scaled into
            the search crop.
        window (Tensor): of shape (S, S), the cosine window.
        instance_size (int): search-crop side.
        stride (int): total stride.
        penalty_k (float): size-change penalty factor.
        window_influence (float): weight of the cosine window.

    Returns:
        dict[str, Tensor]: on the input device, nothing read back:

        - ``index``: () long, flat index of the chosen cell.
        - ``box``: (4,) ``[x1, y1, x2, y2]`` at that cell, crop pixels.
        - ``score``: () fused score at that cell (before penalty/window).
        - ``penalty``: () the size-change penalty at that cell.
        - ``pscore``: (S, S) the penalised, windowed map that was maximised.
    """
    size = score.size(-1)
    grid = response_grid(size, instance_size, stride, score.device)
    gx, gy = grid[None, :], grid[:, None]
    x1 = gx - reg[0]
    y1 = gy - reg[1]
    x2 = gx + reg[2]
    y2 = gy + reg[3]
    pred_wh = torch.stack((x2 - x1, y2 - y1))
    penalty = size_change_penalty(pred_wh, target_wh, penalty_k)
    pscore = (penalty * score) * (
        1 - window_influence
    ) + window * window_influence
    index = pscore.flatten().argmax()
    boxes = torch.stack((x1, y1, x2, y2)).flatten(1)
    return dict(
        index=index,
        box=boxes[:, index],
        score=score.flatten()[index],
        penalty=penalty.flatten()[index],
        pscore=pscore,
    )


def update_size(
    size: Tensor, pred_size: Tensor, lr: Tensor, mode: str = 'double'
) -> Tensor:
    """Smooth the target size towards a prediction (§6.4).

    Args:
        size (Tensor): of shape (2,), the current ``[w, h]``.
        pred_size (Tensor): of shape (2,), the predicted ``[w, h]``.
        lr (Tensor): of shape (), ``penalty * score * lr`` at the best cell.
        mode (str): ``'double'`` (reference: ``R = lr p + (1 - lr) T`` then
            ``T = (1 - lr) T + lr R``, i.e. rate lr²) or ``'single'``
            (``T = (1 - lr) T + lr p``). Defaults to ``'double'``.

    Returns:
        Tensor: of shape (2,), the new size.
    """
    if mode not in _SIZE_SMOOTHING_MODES:
        raise ValueError(
            f'size_smoothing must be one of '
            f'{_SIZE_SMOOTHING_MODES}, got {mode!r}'
        )
    smoothed = lr * pred_size + (1 - lr) * size
    if mode == 'single':
        return smoothed
    return (1 - lr) * size + lr * smoothed


class USOTMemoryQueue:
    """Online memory of USOT: the history and the queue built from it.

    The queue for a frame (§6.5) is the two first-frame templates (the
    template and its horizontal flip), then ``queue_size - 3`` entries of
    the history chosen by score, then the latest history entry. The history
    starts with the first-frame template (score ``init_score``) and gets
    one entry per tracked frame. Features and scores stay on their device;
    the selection is a masked ``argmax`` (first maximum wins, like numpy).

    Segment ``i`` of ``k = queue_size - 3`` over a history of length ``n``
    spans ``[int(i (n-1)/k), int((i+1)(n-1)/k))``. ``'official'`` mode
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
        if queue_size < 4:
            raise ValueError(f'queue_size must be >= 4, got {queue_size}')
        if mode not in _MEMORY_INDEX_MODES:
            raise ValueError(
                f'memory_index must be one of '
                f'{_MEMORY_INDEX_MODES}, got {mode!r}'
            )
        self.queue_size = queue_size
        self.mode = mode
        self.init_score = init_score
        self.num_history = 0
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
        capacity = 64
        self._feats = init_feat.new_empty((capacity, *init_feat.shape))
        self._scores = torch.empty(
            capacity, dtype=torch.float32, device=init_feat.device
        )
        self.num_history = 0
        self.append(init_feat, init_feat.new_tensor(self.init_score))

    def append(self, feat: Tensor, score: Tensor) -> None:
        """Add one tracked frame's feature and fused score to the history.

        Args:
            feat (Tensor): of shape (C, h, w) or (1, C, h, w).
            score (Tensor | float): of shape () (or (1,)), its score.
        """
        if self._feats is None:
            raise RuntimeError('USOTMemoryQueue.reset must be called first')
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

    def segment_bounds(self, n: int) -> List[Tuple[int, int]]:
        """History segments ``[start, end)`` scanned for the queue (§6.5).

        Pure index arithmetic (host side); an empty segment is returned as
        ``(start, start + 1)``, i.e. it takes ``history[start]``.

        Args:
            n (int): history length, >= 2.

        Returns:
            list[tuple[int, int]]: ``queue_size - 3`` half-open ranges.
        """
        k = self.queue_size - 3
        bounds = []
        for i in range(k):
            # int(i * gap) with gap = (n - 1) / k, in exact integers.
            start, end = (i * (n - 1)) // k, ((i + 1) * (n - 1)) // k
            if self.mode == 'official':
                start, end = start * n, end * n
            start, end = min(start, n - 1), min(end, n - 1)
            bounds.append((start, max(end, start + 1)))
        return bounds

    def history_indices(self) -> Tensor:
        """Indices into the history of the queue entries after [f₀, f₀′].

        Returns:
            Tensor: of shape (queue_size - 2,), long, on the history's
            device: one per segment (its best-scored entry), then n - 1.
        """
        n = self.num_history
        device = self._scores.device
        k = self.queue_size - 3
        if n <= 1:
            return torch.zeros(k + 1, dtype=torch.long, device=device)
        i = torch.arange(k, device=device)
        start = (i * (n - 1)) // k
        end = ((i + 1) * (n - 1)) // k
        if self.mode == 'official':
            start, end = start * n, end * n
        start = start.clamp(max=n - 1)
        end = torch.maximum(end.clamp(max=n - 1), start + 1)
        pos = torch.arange(n, device=device)
        inside = (pos[None] >= start[:, None]) & (pos[None] < end[:, None])
        masked = torch.where(
            inside,
            self.scores[None],
            torch.full_like(inside, -math.inf, dtype=torch.float32),
        )
        best = masked.argmax(dim=1)
        latest = torch.full((1,), n - 1, dtype=torch.long, device=device)
        return torch.cat((best, latest))

    def history_segments(self) -> List[Tuple[int, int]]:
        """Host-side identity of the queue entries after [f₀, f₀′].

        Entry j of :meth:`history_indices` is the best-scored history
        entry of the half-open range returned here at j (a one-entry range
        for the latest entry and for empty segments). Equal ranges select
        the same entry, so equal items mark duplicate kernels without
        reading the device. Different ranges may still select the same
        entry (only the device knows); they are kept apart.

        Returns:
            list[tuple[int, int]]: ``queue_size - 2`` ranges
            ``(start, end)`` of history indices.
        """
        n = self.num_history
        if n <= 1:
            return [(0, 1)] * (self.queue_size - 2)
        return self.segment_bounds(n) + [(n - 1, n)]

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
        if self._feats is None:
            raise RuntimeError('USOTMemoryQueue.reset must be called first')
        segments = self.history_segments()
        first: Dict[Tuple[int, int], int] = {}
        positions: List[int] = []
        counts: List[int] = []
        for pos, seg in enumerate(segments):
            if seg in first:
                counts[first[seg]] += 1
            else:
                first[seg] = len(positions)
                positions.append(pos)
                counts.append(1)
        indices = self.history_indices()
        if len(positions) < len(segments):
            # basic slices: no index list copied to the device
            indices = torch.cat([indices[p : p + 1] for p in positions])
        chosen = self.features.index_select(0, indices)
        kernels = torch.cat((self._init_pair.to(chosen.dtype), chosen))
        if len(positions) == len(segments):
            return kernels, None
        return kernels, self._counts_tensor((1, 1, *counts))

    def build_queue(self) -> Tensor:
        """The N_q memory kernels for the next frame.

        Returns:
            Tensor: of shape (queue_size, C, h, w): f₀, f₀′, the chosen
            history entries, the latest entry.
        """
        if self._feats is None:
            raise RuntimeError('USOTMemoryQueue.reset must be called first')
        chosen = self.features.index_select(0, self.history_indices())
        return torch.cat((self._init_pair.to(chosen.dtype), chosen))


def _polygon_area(poly: np.ndarray) -> float:
    """Shoelace area of a polygon given as (P, 2) vertices."""
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(
        float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    )


def _clip_polygon(
    poly: np.ndarray, x1: float, y1: float, x2: float, y2: float
) -> np.ndarray:
    """Sutherland-Hodgman clip of a polygon by an axis-aligned rectangle."""

    def clip(points, inside, cross):
        out = []
        for i in range(len(points)):
            cur, prev = points[i], points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(xv):
        return lambda p, q: (
            xv,
            p[1] + (q[1] - p[1]) * (xv - p[0]) / (q[0] - p[0]),
        )

    def at_y(yv):
        return lambda p, q: (
            p[0] + (q[0] - p[0]) * (yv - p[1]) / (q[1] - p[1]),
            yv,
        )

    points = [tuple(p) for p in poly]
    for inside, cross in (
        (lambda p: p[0] >= x1, at_x(x1)),
        (lambda p: p[0] <= x2, at_x(x2)),
        (lambda p: p[1] >= y1, at_y(y1)),
        (lambda p: p[1] <= y2, at_y(y2)),
    ):
        if not points:
            break
        points = clip(points, inside, cross)
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def region_overlap(
    box: np.ndarray,
    region: np.ndarray,
    bounds: Optional[Tuple[float, float]] = None,
) -> float:
    """IoU of an axis-aligned box with a box or polygon region.

    A dependency-free stand-in for ``vot.region.calculate_overlap`` used by
    the VOT reset protocol: both regions are first cut to the image
    ``bounds`` (when given).

    Args:
        box (np.ndarray): of shape (4,) in ``[x1, y1, x2, y2]`` format.
        region (np.ndarray): of shape (4,) ``[x1, y1, x2, y2]`` or (2P,)
            polygon ``[x1, y1, x2, y2, ...]``.
        bounds (tuple[float, float], optional): image ``(w, h)``.
            Defaults to None (unbounded).

    Returns:
        float: IoU in [0, 1].
    """
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    region = np.asarray(region, dtype=np.float64).reshape(-1)
    if region.size == 4:
        x1, y1, x2, y2 = region
        region = np.array([x1, y1, x2, y1, x2, y2, x1, y2])
    poly = region.reshape(-1, 2)
    bx1, by1, bx2, by2 = box
    if bounds is not None:
        poly = _clip_polygon(
            poly, 0.0, 0.0, float(bounds[0]), float(bounds[1])
        )
        bx1, bx2 = np.clip([bx1, bx2], 0.0, float(bounds[0]))
        by1, by2 = np.clip([by1, by2], 0.0, float(bounds[1]))
    area_box = max(bx2 - bx1, 0.0) * max(by2 - by1, 0.0)
    area_poly = _polygon_area(poly)
    if area_box <= 0 or area_poly <= 0:
        return 0.0
    inter = _polygon_area(_clip_polygon(poly, bx1, by1, bx2, by2))
    union = area_box + area_poly - inter
    return float(inter / union) if union > 0 else 0.0


class USOTTrackingMixin:
    """USOT inference for a :class:`BaseSingleObjectTracker` (§6).

    The host class provides ``forward_template(img)`` ((N, 3, 127, 127) →
    (N, 256, 15, 15)), ``forward_search(img)`` ((N, 3, I, I) → (N, 256, F,
    F)), ``self.head`` (``pool``, ``template_box_to_cells``,
    ``search_box_to_cells``, ``encode_search``, ``forward_offline``,
    ``forward_memory``) and ``self.test_cfg`` (keys of
    :data:`USOT_TEST_CFG_DEFAULTS`).

    Per video the state lives in ``self.memo`` (set up by the base class's
    ``predict_ope``/``predict_vot``): ``center``/``size`` (the reference's
    target position and size, kept apart from ``memo.bbox`` because the
    output rectangle is shifted inside the image), the template kernel, the
    memory queue and the crop constants.
    """

    # ------------------------------------------------------------ config
    def usot_test_cfg(self) -> Dict:
        """The effective inference settings: defaults, then ``test_cfg``.

        Returns:
            dict: every key of :data:`USOT_TEST_CFG_DEFAULTS`.
        """
        cfg = dict(USOT_TEST_CFG_DEFAULTS)
        test_cfg = getattr(self, 'test_cfg', None) or {}
        cfg.update({k: v for k, v in dict(test_cfg).items()})
        if cfg['memory_index'] not in _MEMORY_INDEX_MODES:
            raise ValueError(
                f'test_cfg.memory_index must be one of '
                f'{_MEMORY_INDEX_MODES}, got '
                f'{cfg["memory_index"]!r}'
            )
        if cfg['size_smoothing'] not in _SIZE_SMOOTHING_MODES:
            raise ValueError(
                f'test_cfg.size_smoothing must be one of '
                f'{_SIZE_SMOOTHING_MODES}, got '
                f'{cfg["size_smoothing"]!r}'
            )
        return cfg

    # ------------------------------------------------------------- input
    @staticmethod
    def _to_bgr(img: Tensor) -> Tensor:
        """Check a (1, C, H, W) frame; grey (C = 1) becomes 3-channel."""
        if img.dim() != 4 or img.size(0) != 1:
            raise ValueError(
                'USOT tracks one frame of shape (1, C, H, W), '
                f'got {tuple(img.shape)}'
            )
        channels = img.size(1)
        if channels == 1:
            return img.expand(-1, 3, -1, -1)
        if channels != 3:
            raise ValueError(
                'USOT expects 3-channel BGR or 1-channel grey '
                f'frames, got {channels} channels'
            )
        return img if img.is_floating_point() else img.float()

    def _check_init_box(self, bbox: Tensor, width: int, height: int) -> None:
        """Reject an init box USOT cannot start from (one host read)."""
        cx, cy, w, h = (float(v) for v in bbox.detach().reshape(-1)[:4].cpu())
        if not all(math.isfinite(v) for v in (cx, cy, w, h)):
            raise ValueError(
                f'USOT init box is not finite: {(cx, cy, w, h)} (cx, cy, w, h)'
            )
        if w <= 0 or h <= 0:
            raise ValueError(
                'USOT init box has zero or negative area: '
                f'w={w:g}, h={h:g} (cx={cx:g}, cy={cy:g})'
            )
        if (
            cx + w / 2 <= 0
            or cy + h / 2 <= 0
            or cx - w / 2 >= width
            or cy - h / 2 >= height
        ):
            raise ValueError(
                'USOT init box lies outside the frame: '
                f'(cx, cy, w, h)=({cx:g}, {cy:g}, {w:g}, {h:g}), frame '
                f'{width}x{height}'
            )

    # ------------------------------------------------------------- init
    def init(self, img: Tensor) -> None:
        """Start a video from ``self.memo.bbox`` on the first frame (§6.2).

        Crops the 127 template, pools its 7×7 kernel, crops the search-size
        window (and its horizontal flip) around the target for the two
        permanent memory entries, and fixes the search size for the video
        (``big_instance_size`` when the target covers less than
        ``small_object_area_ratio`` of the frame).

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor (C = 1 is treated as grey).

        Raises:
            ValueError: for a malformed frame, or an init box that is not
                finite, has no area or lies outside the frame.
        """
        cfg = self.usot_test_cfg()
        img = self._to_bgr(img)
        height, width = img.shape[-2:]
        bbox = self.memo.bbox.reshape(-1)[:4].float().to(img.device)
        self._check_init_box(bbox, width, height)
        center, size = bbox[:2].clone(), bbox[2:].clone()

        area_ratio = float(size[0] * size[1]) / float(width * height)
        instance_size = (
            cfg['big_instance_size']
            if area_ratio < cfg['small_object_area_ratio']
            else cfg['instance_size']
        )
        exemplar_size = cfg['exemplar_size']
        pad_value = img.mean(dim=(0, 2, 3))

        # template: side rounded half-to-even, box by the reference formula
        s_z_raw = context_side(size, cfg['context_amount'])
        s_z = torch.round(s_z_raw).clamp(min=1)
        z_crop = crop_siamfc(
            img, center[None], s_z[None], exemplar_size, pad_value
        )
        z_feat = self.forward_template(z_crop)
        z_box = box_in_crop(center, size, s_z, exemplar_size)
        z_kernel = self.head.template_kernel(z_feat, z_box[None])

        # permanent memory: search-size crop and its horizontal flip
        s_x = python2round(s_z_raw * instance_size / exemplar_size).clamp(
            min=1
        )
        x_crop = crop_siamfc(
            img, center[None], s_x[None], instance_size, pad_value
        )
        x_crops = torch.cat((x_crop, x_crop.flip(-1)))
        x_feat = self.forward_search(x_crops)
        score_size = self.head.response_size(x_feat.shape[-1])
        x_box = box_in_crop(center, size, s_x, instance_size)
        flip_box = torch.stack(
            (
                instance_size - x_box[2],
                x_box[1],
                instance_size - x_box[0],
                x_box[3],
            )
        )
        flip_box = flip_box.clamp(0, instance_size)
        clamp = self._memory_clamp(cfg, score_size)
        cells = self.head.search_box_to_cells(
            torch.stack((x_box, flip_box)), clamp=clamp
        )
        init_feats = self.head.pool(x_feat, cells)
        queue = USOTMemoryQueue(
            cfg['memory_queue_size'],
            cfg['memory_index'],
            cfg['init_memory_score'],
        )
        queue.reset(init_feats[0], init_feats[1])

        self.memo.center = center
        self.memo.size = size
        self.memo.z_kernel = z_kernel
        self.memo.pad_value = pad_value
        self.memo.instance_size = instance_size
        self.memo.score_size = score_size
        self.memo.window = cosine_window(score_size, img.device)
        self.memo.memory = queue

    def _memory_clamp(self, cfg: Dict, score_size: int) -> Tuple[float, float]:
        """Pixel range for memory boxes: the response extent ± a margin."""
        margin_cells = cfg['memory_clamp_margin'] / self.head.stride
        return self.head.response_extent(score_size, margin_cells)

    # ------------------------------------------------------------ track
    def track(self, img: Tensor, data_samples=None) -> List[InstanceData]:
        """Track the target into ``img`` (§6.3-6.5), all on the device.

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor.
            data_samples (list[TrackDataSample], optional): unused; part of
                the base-class contract.

        Returns:
            list[InstanceData]: one item with ``bboxes`` of shape (1, 4) in
            ``[x1, y1, x2, y2]`` format, original-image pixels, and
            ``scores`` of shape (1,), the fused score of the chosen cell.
        """
        cfg = self.usot_test_cfg()
        memo = self.memo
        if 'memory' not in memo:
            raise RuntimeError('USOT.track called before init')
        img = self._to_bgr(img)
        height, width = img.shape[-2:]
        instance_size = memo.instance_size
        exemplar_size = cfg['exemplar_size']
        center, size = memo.center, memo.size

        s_z = context_side(size, cfg['context_amount'])
        scale_z = exemplar_size / s_z
        s_x = python2round(s_z * instance_size / exemplar_size)
        x_crop = crop_siamfc(
            img, center[None], s_x[None], instance_size, memo.pad_value
        )
        x_feat = self.forward_search(x_crop)
        search_enc = self.head.encode_search(x_feat)
        cls_logits, reg = self.head.forward_offline(search_enc, memo.z_kernel)
        if cfg['dedupe_memory']:
            mem_kernels, counts = memo.memory.build_distinct_queue()
        else:
            mem_kernels, counts = memo.memory.build_queue(), None
        mem_logits = self.head.forward_memory(
            search_enc, mem_kernels[None], counts
        )
        if cls_logits.size(-1) != memo.score_size:
            raise ValueError(
                f'USOT head returned a {cls_logits.size(-1)}-cell response '
                f'for a {instance_size} search crop; expected '
                f'{memo.score_size}'
            )

        offline_weight = cfg['offline_weight']
        fused = offline_weight * torch.sigmoid(cls_logits[0, 0].float()) + (
            1 - offline_weight
        ) * torch.sigmoid(mem_logits[0, 0].float())
        best = decode_response(
            fused,
            reg[0].float(),
            size * scale_z,
            memo.window,
            instance_size,
            cfg['total_stride'],
            cfg['penalty_k'],
            cfg['window_influence'],
        )

        box = best['box']
        pred_center = (box[:2] + box[2:]) / 2
        pred_size = (box[2:] - box[:2]) / scale_z
        lr = best['penalty'] * best['score'] * cfg['lr']
        new_center = center + (pred_center - instance_size // 2) / scale_z
        new_size = update_size(size, pred_size, lr, cfg['size_smoothing'])
        # python-scalar clamps: no host-to-device copy (a CUDA sync point)
        new_center = torch.stack(
            (new_center[0].clamp(0, width), new_center[1].clamp(0, height))
        )
        min_size = cfg['min_size']
        new_size = torch.stack(
            (
                new_size[0].clamp(min_size, width),
                new_size[1].clamp(min_size, height),
            )
        )
        memo.center, memo.size = new_center, new_size

        clamp = self._memory_clamp(cfg, memo.score_size)
        cells = self.head.search_box_to_cells(box[None], clamp=clamp)
        memo.memory.append(self.head.pool(x_feat, cells), best['score'])

        top_left = (new_center - new_size / 2).clamp(min=0)
        bboxes = torch.cat((top_left, top_left + new_size))[None]
        return [InstanceData(bboxes=bboxes, scores=best['score'][None])]

    # -------------------------------------------------------------- VOT
    def predict_vot(
        self, inputs: dict, data_samples: list
    ) -> List[InstanceData]:
        """VOT supervised reset protocol without the ``vot`` toolkit.

        Same states as :meth:`BaseSingleObjectTracker.predict_vot`: ``[[1]]``
        on (re)initialisation, ``[[2]]`` on failure (no overlap with the
        ground truth inside the image), ``[[0]]`` for the 5 skipped frames
        after a failure, otherwise the tracked box. The overlap is
        :func:`region_overlap` (one host read per frame, inherent to the
        protocol).

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W).
            data_samples (list[TrackDataSample]): one sample with
                ``gt_instances.bboxes`` ((1, 4) or (1, 8) quad) and
                ``frame_id``.

        Returns:
            list[InstanceData]: one item with ``bboxes`` (1, 4) or (1, 1)
            and ``scores`` (1,).
        """
        img = inputs['img']
        if img.dim() != 5 or img.size(0) != 1:
            raise ValueError(
                'predict_vot expects img of shape '
                f'(1, T, C, H, W), got {tuple(img.shape)}'
            )
        img = img[0]
        gt_bboxes = data_samples[0].gt_instances['bboxes']
        metainfo = data_samples[0].metainfo
        frame_id = metainfo.get('frame_id', -1)
        if frame_id < 0:
            raise ValueError('predict_vot needs metainfo frame_id >= 0')
        if frame_id == 0:
            self.init_frame_id = 0
        result = InstanceData()
        if self.init_frame_id == frame_id:
            self.memo = addict.Dict()
            self.memo.frame_id = frame_id
            self.memo.bbox = quad2bbox_cxcywh(gt_bboxes)
            self.init(img)
            result.bboxes = gt_bboxes.new_tensor([[1.0]])
            result.scores = gt_bboxes.new_tensor([-1.0])
            return [result]
        if self.init_frame_id > frame_id:
            self.memo.frame_id = frame_id
            result.bboxes = gt_bboxes.new_tensor([[0.0]])
            result.scores = gt_bboxes.new_tensor([-1.0])
            return [result]
        self.memo.frame_id = frame_id
        results = self.track(img, data_samples)
        bbox = results[0].bboxes[0]
        self.memo.bbox = torch.cat(
            ((bbox[:2] + bbox[2:]) / 2, bbox[2:] - bbox[:2])
        )
        shape = metainfo.get('img_shape', img.shape[-2:])
        overlap = region_overlap(
            bbox.detach().cpu().numpy(),
            gt_bboxes[0].detach().cpu().numpy(),
            bounds=(shape[1], shape[0]),
        )
        if overlap <= 0:
            self.init_frame_id = frame_id + 5
            results[0].bboxes = img.new_tensor([[2.0]])
        return results
