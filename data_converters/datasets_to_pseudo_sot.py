# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Raw GOT-10k / LaSOT / ImageNet-VID / YouTube-VOS -> pseudo-labelled SOT.

The same command as ``mmusot-datasets-to-pseudo`` (``--help`` lists the
options); the code is in :mod:`mmusot.cli.datasets_to_pseudo_sot`.
"""

import sys

from mmusot.cli.datasets_to_pseudo_sot import main

if __name__ == '__main__':
    sys.exit(main())
