# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The main job (``make demo``): learn a tracker from unlabeled video, track.

The same command as ``mmusot-demo`` (``--help`` lists the options); the
code is in :mod:`mmusot.cli.learn_and_track`.
"""

import sys

from mmusot.cli.learn_and_track import main

if __name__ == '__main__':
    sys.exit(main())
