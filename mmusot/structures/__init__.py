# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Box and region helpers shared by USOT's tracker, head and evaluation."""

from .bbox import context_side
from .polygon import clip_polygon, polygon_area, region_overlap

__all__ = ['context_side', 'clip_polygon', 'polygon_area', 'region_overlap']
