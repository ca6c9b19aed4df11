# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Convert official USOT / USOT* models or pretrained backbones to mmusot.

The same command as ``mmusot-convert-checkpoint`` (``--help`` lists the
options); the code is in :mod:`mmusot.cli.convert_checkpoint`.
"""

import sys

from mmusot.cli.convert_checkpoint import main

if __name__ == '__main__':
    sys.exit(main())
