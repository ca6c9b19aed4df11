# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Score pseudo boxes against ground truth (the paper's Table 5).

The same command as ``mmusot-eval-pseudo-labels`` (``--help`` lists the
options); the code is in :mod:`mmusot.cli.eval_pseudo_labels`.
"""

import sys

from mmusot.cli.eval_pseudo_labels import main

if __name__ == '__main__':
    sys.exit(main())
