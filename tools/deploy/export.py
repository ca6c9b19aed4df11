# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Export a trained USOT tracker to ONNX, for the torch-free runtime.

The same command as ``mmusot-export`` (``--help`` lists the options); the
code is in :mod:`mmusot.cli.export`.
"""

import sys

from mmusot.cli.export import main

if __name__ == '__main__':
    sys.exit(main())
