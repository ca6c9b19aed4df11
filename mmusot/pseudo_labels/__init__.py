# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Moving-object discovery: unlabeled videos -> pseudo boxes (numpy/OpenCV)."""
