# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Export a trained USOT tracker to ONNX, for the torch-free runtime.

Examples::

    mmusot-export configs/usot/usot_mobilenetv2_test-otb-folder.py \
        work_dirs/demo/epoch_15.pth work_dirs/demo/onnx
    # track with it (no torch needed): mmusot.runtime.Tracker, or
    mmusot-track VIDEO --onnx work_dirs/demo/onnx --init-box x,y,w,h

(``python tools/deploy/export.py`` is the same command.)

Writes ``backbone.onnx``, ``kernel.onnx``, ``head.onnx`` (opset 17, checked
with ``onnx.checker``) and ``deploy.json`` (test settings and geometry)
into OUT_DIR, then loads them back with ONNX Runtime and compares the
three graphs with PyTorch on a random crop (``--no-verify`` skips it).
The config's ``test_cfg`` is exported (``--cfg-options
model.test_cfg.crop_mode=official`` changes it); the runtime can
override settings too.
"""

import argparse
import sys
from typing import List, Optional

#: Largest difference allowed between the graphs and PyTorch on the
#: verification inputs, relative to the output's largest magnitude.
VERIFY_RTOL = 1e-3


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a USOT config (file or mmusot::)')
    parser.add_argument('checkpoint', help='the trained weights (.pth)')
    parser.add_argument('out_dir', help='folder to write the export into')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, key=value (as tools/test.py)',
    )
    parser.add_argument(
        '--no-verify',
        action='store_true',
        help='skip the ONNX Runtime vs PyTorch comparison',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command; returns the exit status."""
    args = parse_args(argv)
    from mmusot.apis.builder import DeviceError, build_tracker
    from mmusot.apis.onnx_export import (
        ExportError,
        export_model,
        verify_export,
    )
    from mmusot.runtime import DeployError
    from mmusot.utils.safe_load import CheckpointLoadError

    try:
        import onnx  # noqa: F401
    except ImportError:
        print(
            'error: exporting needs the onnx package: pip install '
            '"mmusot[deploy]"',
            file=sys.stderr,
        )
        return 1
    try:
        model = build_tracker(
            args.config, args.checkpoint, 'cpu', args.cfg_options
        )
        package = export_model(
            model, args.out_dir, args.config, args.checkpoint
        )
        if not args.no_verify:
            errors = verify_export(model, package)
            for name, error in errors.items():
                print(f'verify {name}: max relative difference {error:.2e}')
            bad = {k: v for k, v in errors.items() if v > VERIFY_RTOL}
            if bad:
                raise ExportError(
                    f'{args.out_dir}: the exported graphs differ from '
                    f'PyTorch: {bad} (tolerance {VERIFY_RTOL})'
                )
    except (
        FileNotFoundError,
        CheckpointLoadError,
        DeviceError,
        ExportError,
        DeployError,
    ) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'exported {package.model} to {package.folder}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
