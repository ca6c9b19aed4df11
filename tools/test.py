# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Test (evaluate) a tracker with mmengine: OPE/VOT metrics via SOTMetric.

The same command as ``mmusot-test`` (``--help`` lists the options); the
code is in :mod:`mmusot.cli.test`.
"""

import sys

from mmusot.cli.test import cli_main, main, parse_args  # noqa: F401

if __name__ == '__main__':
    sys.exit(cli_main())
