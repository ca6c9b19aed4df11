# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
