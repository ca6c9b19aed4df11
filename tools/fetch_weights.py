# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Fetch pretrained backbone weights once and convert them for mmusot.

The same command as ``mmusot-fetch-weights`` (``--help`` lists the
options); the code is in :mod:`mmusot.cli.fetch_weights`.
"""

import sys

from mmusot.cli.fetch_weights import main

if __name__ == '__main__':
    sys.exit(main())
