# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Deprecated name of ``tools/track_video.py``.

Kept for one release: the same command as ``mmusot-track``, with a warning
when run.
"""

import sys
import warnings

from mmusot.cli.track_video import cli_main, main  # noqa: F401

if __name__ == '__main__':
    warnings.warn(
        'tools/demo.py is renamed tools/track_video.py (the command '
        'mmusot-track); the old name goes in the next release',
        FutureWarning,
        stacklevel=1,
    )
    sys.exit(cli_main())
