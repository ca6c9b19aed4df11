# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Train a tracker (mmusot's USOT or any mmtrack model) with mmengine.

The same command as ``mmusot-train`` (``--help`` lists the options); the
code is in :mod:`mmusot.cli.train`.
"""

import sys

from mmusot.cli.train import (  # noqa: F401
    check_ema_schedule,
    cli_main,
    main,
    parse_args,
)

if __name__ == '__main__':
    sys.exit(cli_main())
