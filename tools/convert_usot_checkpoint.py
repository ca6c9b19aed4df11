# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Deprecated name of ``tools/convert_checkpoint.py``.

Kept for one release: the same command as ``mmusot-convert-checkpoint``,
with a warning when run.
"""

import sys
import warnings

from mmusot.cli.convert_checkpoint import main

if __name__ == '__main__':
    warnings.warn(
        'tools/convert_usot_checkpoint.py is renamed '
        'tools/convert_checkpoint.py (the command mmusot-convert-checkpoint); '
        'the old name goes in the next release',
        FutureWarning,
        stacklevel=1,
    )
    sys.exit(main())
