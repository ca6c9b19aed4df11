# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Box geometry of Siamese trackers."""

import torch
from torch import Tensor

#: SiamFC's context factor: the crop side adds this fraction of w + h.
CONTEXT_AMOUNT = 0.5


def context_side(
    size: Tensor, context_amount: float = CONTEXT_AMOUNT
) -> Tensor:
    """SiamFC context side ``sqrt((w + c (w + h)) (h + c (w + h)))``.

    The side of the square template window around a ``w × h`` target
    and the size measure ``sz(w, h)`` of the scale penalty; official
    ``lib/tracker/usot_tracker.py``.

    Args:
        size (Tensor): of shape (..., 2) as ``[w, h]``.
        context_amount (float): the context factor c. Defaults to 0.5.

    Returns:
        Tensor: of shape (...), the unrounded side in the units of ``size``.
    """
    w, h = size[..., 0], size[..., 1]
    context = context_amount * (w + h)
    return torch.sqrt((w + context) * (h + context))
