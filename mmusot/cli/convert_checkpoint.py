# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Convert official USOT / USOT* models or pretrained backbones to mmusot.

Examples::

    # a full official model (USOT.pth, USOT_star.pth) -> mmusot USOT
    mmusot-convert-checkpoint USOT_star.pth usot_star_mm.pth
    # a MoCo-v2, ImageNet (torchvision), AugNet (imgsim) or mmcls ResNet-50
    # -> the USOT ResNet-50 backbone (backbone.* keys)
    mmusot-convert-checkpoint moco_v2_800.model moco_bb.pth
    # torchvision's MobileNetV2 -> SOTMobileNetV2, taking USOT's raw BGR
    # 0-255 input (ImageNet mean/std and BGR->RGB folded into the stem)
    mmusot-convert-checkpoint mobilenet_v2-b0353104.pth mnv2_bb.pth \
        --fold-input-norm

(``python tools/convert_checkpoint.py`` is the same command.)

The output is an mmengine checkpoint ``{'state_dict': ..., 'meta': ...}``:
load a full model with ``load_from=...`` or ``tools/test.py CFG CKPT``, a
backbone with ``model.backbone.init_cfg=dict(type='Pretrained',
checkpoint=..., prefix='backbone.')``.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmusot.utils.checkpoint_conversion import (
    LAYOUTS,
    CheckpointError,
    convert_checkpoint,
    load_checkpoint_file,
    save_mmengine_checkpoint,
)

# Unmatched source keys named in a message before "(and N more)".
SHOWN_KEYS = 10


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='source .pth / .model file')
    parser.add_argument('dst', help='output mmengine checkpoint')
    parser.add_argument(
        '--layout',
        choices=LAYOUTS,
        default=None,
        help='source layout (detected when omitted)',
    )
    parser.add_argument(
        '--backbone-prefix',
        default='backbone.',
        help="key prefix for converted backbones (default 'backbone.'; "
        "'' gives a backbone-only file)",
    )
    parser.add_argument(
        '--fold-input-norm',
        action='store_true',
        help='fold the ImageNet RGB mean/std normalisation into the stem '
        'so the backbone takes raw BGR 0-255 input as USOT feeds it '
        '(backbone layouts only; the official USOT does not do this)',
    )
    parser.add_argument(
        '--allow-leftover',
        action='store_true',
        help='write the output even if some source keys match no rule',
    )
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='if the file cannot be loaded with weights_only=True, fall '
        'back to full unpickling (runs code from the file: trusted files '
        'only)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Convert one file.

    Returns:
        int: the exit status (0; 1 when the source is missing, has an
        unknown layout, or has unmatched keys without ``--allow-leftover``).
    """
    args = parse_args(argv)
    try:
        obj = load_checkpoint_file(args.src, trusted=args.trusted)
        state, report = convert_checkpoint(
            obj,
            source=args.src,
            layout=args.layout,
            backbone_prefix=args.backbone_prefix,
            fold_input_norm=args.fold_input_norm,
        )
    except (FileNotFoundError, CheckpointError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if report['leftover']:
        shown = ', '.join(report['leftover'][:SHOWN_KEYS])
        more = len(report['leftover']) - SHOWN_KEYS
        message = (
            f'{len(report["leftover"])} key(s) of {args.src} match no '
            f'{report["layout"]!r} rule: {shown}'
            + (f' (and {more} more)' if more > 0 else '')
        )
        if not args.allow_leftover:
            print(
                f'error: {message}; use --allow-leftover to drop them',
                file=sys.stderr,
            )
            return 1
        print(f'warning: {message}; dropped', file=sys.stderr)
    meta = dict(
        source=osp.basename(args.src),
        layout=report['layout'],
        converter='mmusot-convert-checkpoint',
        dropped_keys=len(report['dropped']),
        fold_input_norm=report['fold_input_norm'],
    )
    save_mmengine_checkpoint(state, args.dst, meta)
    print(
        f'{args.src} ({report["layout"]}): {len(state)} keys written to '
        f'{args.dst}; {len(report["dropped"])} dropped'
        + ('; input normalisation folded' if args.fold_input_norm else '')
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
