# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Box geometry of Siamese trackers.

The functions live in the torch-free :mod:`mmusot.tracking.postprocess`
(they run on tensors and on numpy arrays); this module keeps their names
where the model code finds them.
"""

from ..tracking.postprocess import CONTEXT_AMOUNT, context_side

__all__ = ['CONTEXT_AMOUNT', 'context_side']
