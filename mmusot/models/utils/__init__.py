# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from .feature_geometry import FeatureGeometry, feature_geometry

__all__ = ['FeatureGeometry', 'feature_geometry']
