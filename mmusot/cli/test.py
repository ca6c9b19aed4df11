# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Test (evaluate) a tracker with mmengine: OPE/VOT metrics via SOTMetric.

The command ``mmusot-test``; ``tools/test.py`` is the same program.

Examples::

    python tools/test.py configs/usot/<test config>.py CHECKPOINT
    python tools/test.py mmusot::usot/usot_r50_test-otb100.py CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    bash tools/dist_test.sh CONFIG CHECKPOINT 4
"""

import argparse
import sys
from typing import List, Optional

from mmengine.logging import print_log

from mmusot.utils import CheckpointLoadError

from .runner_args import (
    build_tool_runner,
    load_tool_config,
    parse_tool_args,
    runner_parser,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = runner_parser(
        'Test a single object tracker (mmusot / mmtrack).', 'test config file'
    )
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (a local path; omit to test the weights the '
        "config's init_cfg gives, e.g. a pretrained backbone with a fresh "
        'head)',
    )
    return parse_tool_args(
        parser, 'test_dataloader.dataset.data_root=/data/otb', argv
    )


def main(argv: Optional[List[str]] = None) -> dict:
    """Test; returns the metrics (``error: ...`` exits on bad input)."""
    args = parse_args(argv)
    cfg = load_tool_config(args)
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    init_only = cfg.get('load_from', None) is None
    runner = build_tool_runner(cfg, args)
    if init_only:
        print_log(
            "No checkpoint given: testing the weights of the config's "
            'init_cfg (e.g. a pretrained backbone, freshly initialised '
            'head).',
            'current',
        )
        getattr(runner.model, 'module', runner.model).init_weights()
    try:
        return runner.test()
    except CheckpointLoadError as err:
        # empty, truncated, not fitting the network, NaN weights
        sys.exit(f'error: {err}')


def cli_main(argv: Optional[List[str]] = None) -> int:
    """The ``mmusot-test`` command: :func:`main`, exit status 0."""
    main(argv)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main())
