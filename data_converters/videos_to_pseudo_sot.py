# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Unlabeled videos -> a pseudo-labelled mmtrack SOT dataset (USOT stage 1).

The same command as ``mmusot-videos-to-pseudo`` (``--help`` lists the
options); the code is in :mod:`mmusot.cli.videos_to_pseudo_sot`.
"""

import sys

from mmusot.cli.videos_to_pseudo_sot import main

if __name__ == '__main__':
    sys.exit(main())
