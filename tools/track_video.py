# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track one target through a video, a frame folder or a webcam.

The same command as ``mmusot-track`` (``--help`` lists the options); the
code is in :mod:`mmusot.cli.track_video`. (``tools/demo.py`` is its old
name, kept for one release.)
"""

import sys

from mmusot.cli.track_video import cli_main, main  # noqa: F401

if __name__ == '__main__':
    sys.exit(cli_main())
