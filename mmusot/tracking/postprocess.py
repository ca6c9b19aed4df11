# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's box post-processing on torch tensors or numpy arrays.

The per-frame arithmetic of the official tracker
(``lib/tracker/usot_tracker.py``) that does not need the network: the
SiamFC crop geometry, the fusion of the two responses, the box decoding,
the size/ratio change penalty and cosine window, the argmax and the size
update. Every function takes torch tensors **or** numpy arrays and returns
the same kind; this module never imports torch (a tensor argument means
torch is already loaded, and its functions are looked up in
``sys.modules``), so an ONNX runtime can reuse it with numpy alone.

On tensors the operations are those of the original torch code, in the
same order (same numerics, same device, nothing read back to the host);
on float32 arrays they equal them up to float rounding.
"""

import sys
from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

#: SiamFC's context factor: the crop side adds this fraction of w + h.
CONTEXT_AMOUNT = 0.5

#: A torch tensor or a numpy array.
Array = Any


class ArrayOps:
    """The few array functions the post-processing needs, for one library.

    Use :func:`array_ops` to get the one that fits an array.

    Args:
        xp (module): ``numpy`` or ``torch``.
    """

    def __init__(self, xp) -> None:
        self.xp = xp
        self.is_numpy = xp is np
        for name in ('sqrt', 'exp', 'maximum', 'round', 'floor', 'sign'):
            setattr(self, name, getattr(xp, name))
        self.abs = xp.abs
        self.stack = xp.stack

    def concat(self, arrays) -> Array:
        """Concatenate along the first axis."""
        if self.is_numpy:
            return np.concatenate(arrays)
        return self.xp.cat(arrays)

    def clip(self, x: Array, lo=None, hi=None) -> Array:
        """``x`` clamped to ``[lo, hi]`` (either bound may be None)."""
        if self.is_numpy:
            return np.clip(x, lo, hi)
        return self.xp.clamp(x, lo, hi)

    def sigmoid(self, x: Array) -> Array:
        """The logistic function."""
        if self.is_numpy:
            return 1 / (1 + np.exp(-x))
        return self.xp.sigmoid(x)

    def copy(self, x: Array) -> Array:
        """A copy of ``x`` (its own memory)."""
        if self.is_numpy:
            return np.array(x, copy=True)
        return x.clone()

    def float32(self, x: Array) -> Array:
        """``x`` as float32 (no copy when it already is)."""
        if self.is_numpy:
            return np.asarray(x, dtype=np.float32)
        return x.float()

    def hanning(self, size: int, like: Array) -> Array:
        """Symmetric Hanning window (numpy's), float32, on ``like``'s device.

        Args:
            size (int): window length.
            like (Array): an array of the wanted kind and device.

        Returns:
            Array: of shape (size,), float32.
        """
        if self.is_numpy:
            return np.hanning(size).astype(np.float32)
        return self.xp.hann_window(
            size, periodic=False, dtype=self.xp.float32, device=like.device
        )

    def argmax(self, x: Array) -> Array:
        """Flat index of the first maximum, of shape (1,)."""
        if self.is_numpy:
            return np.asarray(x).reshape(-1).argmax()[None]
        return x.flatten().argmax()[None]


NUMPY_OPS = ArrayOps(np)
_TORCH_OPS: Optional[ArrayOps] = None


def array_ops(x: Array) -> ArrayOps:
    """The :class:`ArrayOps` of ``x``'s library (numpy or torch).

    Args:
        x (Array): a numpy array (or scalar) or a torch tensor.

    Returns:
        ArrayOps: numpy's or torch's functions.
    """
    global _TORCH_OPS
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return NUMPY_OPS
    torch = sys.modules.get('torch')
    if torch is not None and isinstance(x, torch.Tensor):
        if _TORCH_OPS is None:
            _TORCH_OPS = ArrayOps(torch)
        return _TORCH_OPS
    raise TypeError(
        f'expected a numpy array or a torch tensor, got {type(x).__name__}'
    )


# ------------------------------------------------------------ geometry
def python2round(x: Array) -> Array:
    """Round halves away from zero, as Python 2's ``round``.

    Official ``python2round`` (``lib/utils/track_utils.py``), used for the
    search side.

    Args:
        x (Array): any shape.

    Returns:
        Array: same shape and dtype, integral values.
    """
    ops = array_ops(x)
    return ops.sign(x) * ops.floor(ops.abs(x) + 0.5)


def context_side(size: Array, context_amount: float = CONTEXT_AMOUNT) -> Array:
    """SiamFC context side ``sqrt((w + c (w + h)) (h + c (w + h)))``.

    The side of the square template window around a ``w × h`` target
    and the size measure ``sz(w, h)`` of the scale penalty; official
    ``lib/tracker/usot_tracker.py``.

    Args:
        size (Array): of shape (..., 2) as ``[w, h]``.
        context_amount (float): the context factor c. Defaults to 0.5.

    Returns:
        Array: of shape (...), the unrounded side in the units of ``size``.
    """
    return _context_side(size[..., 0], size[..., 1], context_amount)


def _context_side(w: Array, h: Array, context_amount: float) -> Array:
    context = context_amount * (w + h)
    return array_ops(w).sqrt((w + context) * (h + context))


def crop_window_origin(center: Array, side: Array) -> Array:
    """Top-left pixel of a SiamFC crop window.

    The window of integer side ``sz`` spans
    ``[round(c - (sz + 1) / 2), that + sz - 1]`` per axis, with halves
    rounded to even (Python 3 ``round``, like ``torch.round``).

    Args:
        center (Array): of shape (..., 2) as ``[cx, cy]``, frame pixels.
        side (Array): of shape (...), integral crop side in frame pixels.

    Returns:
        Array: of shape (..., 2), the window origin ``[x0, y0]``.
    """
    return array_ops(center).round(center - (side[..., None] + 1) / 2)


def box_in_crop(
    center: Array, size: Array, side: Array, out_size: int
) -> Array:
    """The target box in the coordinates of its resized SiamFC crop.

    The reference's formula (official ``lib/tracker/usot_tracker.py``),
    padding term included: with
    ``c0 = round(pos - (sz + 1) / 2)``, left/top padding
    ``L = max(0, -c0)`` and ``slope = sz / (sz - 1)``, a box edge
    ``v = round(pos -/+ size / 2)`` maps to
    ``(out / sz) * (L - 1 + slope * (v - c0 - L))``.

    Args:
        center (Array): of shape (2,) as ``[cx, cy]``, frame pixels.
        size (Array): of shape (2,) as ``[w, h]``, frame pixels.
        side (Array): of shape (), integral crop side ``sz``.
        out_size (int): side of the resized crop.

    Returns:
        Array: of shape (4,) in ``[x1, y1, x2, y2]`` format, pixels of the
        resized crop.
    """
    ops = array_ops(center)
    origin = crop_window_origin(center, side)
    pad = ops.clip(-origin, 0, None)
    slope = side / ops.clip(side - 1, 1, None)
    scale = out_size / side
    lo = ops.round(center - size / 2)
    hi = ops.round(center + size / 2)
    lo = scale * (pad - 1 + slope * (lo - origin - pad))
    hi = scale * (pad - 1 + slope * (hi - origin - pad))
    return ops.concat((lo, hi))


def flip_box(box: Array, out_size: int) -> Array:
    """A crop box mirrored with its horizontally flipped crop.

    Args:
        box (Array): of shape (4,), ``[x1, y1, x2, y2]``, crop pixels.
        out_size (int): side of the crop.

    Returns:
        Array: of shape (4,), the mirrored box clipped to the crop.
    """
    ops = array_ops(box)
    flipped = ops.stack((out_size - box[2], box[1], out_size - box[0], box[3]))
    return ops.clip(flipped, 0, out_size)


def cosine_window(size: int, like: Array) -> Array:
    """Outer product of two numpy-style Hanning windows (zeros at the ends).

    The window of the official tracker (``np.outer(np.hanning(S),
    np.hanning(S))``, ``lib/tracker/usot_tracker.py``).

    Args:
        size (int): side S of the response map.
        like (Array): an array of the wanted kind (and device).

    Returns:
        Array: of shape (S, S), float32.
    """
    hann = array_ops(like).hanning(size, like)
    return hann[:, None] * hann[None, :]


# ------------------------------------------------------------ decoding
def fuse_scores(
    cls_logits: Array, mem_logits: Array, offline_weight: float
) -> Array:
    """Fused response ``w σ(cls) + (1 - w) σ(mem)``, w = offline weight.

    Paper Sec. 4.1, "Inference": ``R = (1 - w') R_cls + w' R_mem`` with
    the memory weight ``w' = 0.7``, i.e. an offline weight of 0.3 (the
    official ``ratio``, applied to probabilities).

    Args:
        cls_logits (Array): of shape (1, 1, S, S), offline logits.
        mem_logits (Array): of shape (1, 1, S, S), memory logits.
        offline_weight (float): w.

    Returns:
        Array: of shape (S, S), float32 probabilities.
    """
    ops = array_ops(cls_logits)
    return offline_weight * ops.sigmoid(ops.float32(cls_logits[0, 0])) + (
        1 - offline_weight
    ) * ops.sigmoid(ops.float32(mem_logits[0, 0]))


def decode_boxes(reg: Array, axis: Array) -> Array:
    """The box of every response cell.

    Cell ``(r, c)`` sits on pixel ``(axis[c], axis[r])`` of the search crop
    and predicts ``[gx - l, gy - t, gx + r, gy + b]``.

    Args:
        reg (Array): of shape (4, S, S), ``[l, t, r, b]`` distances in
            search-crop pixels.
        axis (Array): of shape (S,), the crop pixel of each response cell
            (``USOTHead.response_axis``).

    Returns:
        Array: of shape (4, S, S) in ``[x1, y1, x2, y2]`` format,
        search-crop pixels.
    """
    gx, gy = axis[None, :], axis[:, None]
    return array_ops(reg).stack(
        (gx - reg[0], gy - reg[1], gx + reg[2], gy + reg[3])
    )


def size_change_penalty(
    pred_wh: Array, target_wh: Array, penalty_k: float
) -> Array:
    """Scale and aspect-ratio change penalty (SiamRPN-style).

    ``exp(-(r_c * s_c - 1) * k)`` with ``s_c = change(sz(pred) /
    sz(target))``, ``sz`` the context side (context 0.5,
    :func:`context_side`), ``r_c = change((w_t / h_t) / (w_p / h_p))`` and
    ``change(r) = max(r, 1 / r)`` (official ``lib/tracker/usot_tracker.py``,
    from SiamRPN).

    Args:
        pred_wh (Array): of shape (2, ...) as ``[w, h]`` per cell, crop
            pixels.
        target_wh (Array): of shape (2,), the current target size in crop
            pixels.
        penalty_k (float): the penalty factor k.

    Returns:
        Array: of shape (...), in (0, 1].
    """
    ops = array_ops(pred_wh)

    def change(ratio: Array) -> Array:
        return ops.maximum(ratio, 1.0 / ratio)

    target = target_wh.reshape(2, *((1,) * (pred_wh.ndim - 1)))
    s_c = change(
        _context_side(pred_wh[0], pred_wh[1], CONTEXT_AMOUNT)
        / _context_side(target[0], target[1], CONTEXT_AMOUNT)
    )
    r_c = change((target[0] / target[1]) / (pred_wh[0] / pred_wh[1]))
    return ops.exp(-(r_c * s_c - 1) * penalty_k)


def penalized_scores(
    score: Array,
    boxes: Array,
    target_wh: Array,
    window: Array,
    penalty_k: float,
    window_influence: float,
) -> Tuple[Array, Array]:
    """The map the tracker maximises.

    ``pscore = penalty * score * (1 - window_influence) + window *
    window_influence``, with the size/ratio change penalty of
    :func:`size_change_penalty`.

    Args:
        score (Array): of shape (S, S), fused probabilities.
        boxes (Array): of shape (4, S, S), :func:`decode_boxes`.
        target_wh (Array): of shape (2,), current target size scaled into
            the search crop.
        window (Array): of shape (S, S), :func:`cosine_window`.
        penalty_k (float): size-change penalty factor.
        window_influence (float): weight of the cosine window.

    Returns:
        tuple[Array, Array]: ``pscore`` and ``penalty``, each (S, S).
    """
    pred_wh = boxes[2:] - boxes[:2]
    penalty = size_change_penalty(pred_wh, target_wh, penalty_k)
    pscore = (penalty * score) * (
        1 - window_influence
    ) + window * window_influence
    return pscore, penalty


class BestCell(NamedTuple):
    """The chosen response cell of one frame.

    Attributes:
        bboxes (Array): of shape (1, 4), ``[x1, y1, x2, y2]``, search-crop
            pixels.
        scores (Array): of shape (1,), the fused score (before penalty and
            window).
        penalties (Array): of shape (1,), its size-change penalty.
        indices (Array): of shape (1,), its flat index in the S × S map.
    """

    bboxes: Array
    scores: Array
    penalties: Array
    indices: Array


def select_best(
    cls_logits: Array,
    mem_logits: Array,
    reg: Array,
    axis: Array,
    target_wh: Array,
    window: Array,
    offline_weight: float,
    penalty_k: float,
    window_influence: float,
) -> BestCell:
    """Pick the best cell of one frame's response and decode its box.

    Fuses the two branches (:func:`fuse_scores`), decodes every cell
    (:func:`decode_boxes`), penalises and windows the scores
    (:func:`penalized_scores`) and takes the argmax (first maximum).

    Args:
        cls_logits (Array): of shape (1, 1, S, S), offline logits.
        mem_logits (Array): of shape (1, 1, S, S), memory logits.
        reg (Array): of shape (1, 4, S, S), ``[l, t, r, b]`` distances in
            search-crop pixels.
        axis (Array): of shape (S,), float32, crop pixel of each cell.
        target_wh (Array): of shape (2,), current target size scaled into
            the search crop.
        window (Array): of shape (S, S), :func:`cosine_window`.
        offline_weight (float): weight of the offline branch.
        penalty_k (float): size-change penalty factor.
        window_influence (float): weight of the cosine window.

    Returns:
        BestCell: the chosen cell.
    """
    size = cls_logits.shape[-1]
    if tuple(window.shape) != (size, size) or tuple(reg.shape[-2:]) != (
        size,
        size,
    ):
        raise ValueError(
            f'USOT response maps disagree: cls {tuple(cls_logits.shape)}'
            f', reg {tuple(reg.shape)}, window {tuple(window.shape)}'
        )
    ops = array_ops(reg)
    score = fuse_scores(cls_logits, mem_logits, offline_weight)
    boxes = decode_boxes(ops.float32(reg[0]), axis)
    pscore, penalty = penalized_scores(
        score, boxes, target_wh, window, penalty_k, window_influence
    )
    index = ops.argmax(pscore)
    return BestCell(
        bboxes=boxes.reshape(4, -1)[:, index].T,
        scores=score.reshape(-1)[index],
        penalties=penalty.reshape(-1)[index],
        indices=index,
    )


# --------------------------------------------------------- state update
#: ``test_cfg.size_smoothing`` values.
SIZE_SMOOTHING_MODES = ('double', 'single')


def update_size(
    size: Array, pred_size: Array, lr: Array, mode: str = 'double'
) -> Array:
    """Smooth the target size towards a prediction.

    Official ``lib/tracker/usot_tracker.py`` (inherited from Ocean/TracKit),
    which smooths twice.

    Args:
        size (Array): of shape (2,), the current ``[w, h]``.
        pred_size (Array): of shape (2,), the predicted ``[w, h]``.
        lr (Array): of shape (), ``penalty * score * lr`` at the best cell.
        mode (str): ``'double'`` (reference: ``R = lr p + (1 - lr) T`` then
            ``T = (1 - lr) T + lr R``, i.e. rate lr²) or ``'single'``
            (``T = (1 - lr) T + lr p``). Defaults to ``'double'``.

    Returns:
        Array: of shape (2,), the new size.
    """
    if mode not in SIZE_SMOOTHING_MODES:
        raise ValueError(
            f'size_smoothing must be one of '
            f'{SIZE_SMOOTHING_MODES}, got {mode!r}'
        )
    smoothed = lr * pred_size + (1 - lr) * size
    if mode == 'single':
        return smoothed
    return (1 - lr) * size + lr * smoothed
