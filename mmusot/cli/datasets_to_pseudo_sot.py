# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Raw GOT-10k / LaSOT / ImageNet-VID / YouTube-VOS -> pseudo-labelled SOT.

The datasets' own labels are ignored: only their frames are read. Each
layout picks the preset of its official preprocessing script,
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` (flow
sub-sampling gap, initial T_f, fragment search gap, theta2 / theta3 of
Eq. (7), 2000-frame cap, LaSOT's 221-frame windows).

Examples::

    mmusot-datasets-to-pseudo got10k data/got10k data/got10k_pseudo \\
        --workers 8 --shard 0/4
    mmusot-datasets-to-pseudo lasot data/LaSOT/LaSOTBenchmark \\
        data/lasot_pseudo --exclude data/LaSOT/testing_set.txt

(``python data_converters/datasets_to_pseudo_sot.py`` is the same command.)

Layouts (relative to the given root):

* got10k: ``{train,val}/GOT-10k_*/*.jpg`` (preset got10k)
* lasot: ``<class>/<class>-<n>/img/*.jpg``; videos listed in
  ``--exclude`` (testing_set.txt) and coin-1 / coin-19 are skipped
  (preset lasot: windows of 221 frames, stride 200)
* vid: ``Data/VID/{train/ILSVRC2015_VID_train_000k,val}/<video>/*.JPEG``
  (preset vid)
* ytvos: ``train/JPEGImages/<video>/*.jpg`` (preset ytvos: gap 1)
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mmusot.pseudo_labels import VideoSource
from mmusot.pseudo_labels.video_io import list_images, safe_name

from .pseudo_label_args import add_common_args, run_conversion

# LaSOT training videos the official gen_json.py leaves out.
LASOT_DROPPED = ('coin-1', 'coin-19')
LAYOUTS = ('got10k', 'lasot', 'vid', 'ytvos')


def _folders(root: Path, pattern: str) -> List[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_dir())


def _source(root: Path, folder: Path, name: Optional[str] = None):
    files = list_images(folder)
    rel = name or folder.relative_to(root).as_posix()
    return VideoSource(safe_name(rel), str(folder), tuple(files))


def got10k_sources(root: Path) -> List[VideoSource]:
    """GOT-10k train and val videos (labels ignored)."""
    return [
        _source(root, f)
        for split in ('train', 'val')
        for f in _folders(root, f'{split}/GOT-10k_*')
    ]


def lasot_sources(
    root: Path, exclude: Optional[str] = None
) -> List[VideoSource]:
    """LaSOT videos not in the testing list (labels ignored)."""
    skip = set(LASOT_DROPPED)
    if exclude:
        skip |= {
            ln.strip()
            for ln in Path(exclude).read_text().splitlines()
            if ln.strip()
        }
    out = []
    for img in _folders(root, '*/*/img'):
        video = img.parent
        if video.name in skip:
            continue
        out.append(_source(root, img, video.relative_to(root).as_posix()))
    return out


def vid_sources(root: Path) -> List[VideoSource]:
    """ImageNet-VID train (all chunks) and val snippets (labels ignored)."""
    base = root / 'Data' / 'VID'
    folders = _folders(base, 'train/ILSVRC2015_VID_train_*/*') + _folders(
        base, 'val/*'
    )
    return [_source(base, f) for f in folders]


def ytvos_sources(root: Path) -> List[VideoSource]:
    """YouTube-VOS train videos (masks ignored)."""
    return [
        _source(root / 'train' / 'JPEGImages', f)
        for f in _folders(root, 'train/JPEGImages/*')
    ]


def main(argv: Optional[List[str]] = None) -> int:
    """Run the converter (``sys.argv[1:]`` when ``argv`` is None).

    Returns:
        int: the exit status (0; 1 when the root is missing or holds no
        video of the layout, or an annotation file is bad at merge; 2 when
        the output folder was made with other settings; 3 when another
        converter is writing the same videos).
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('layout', choices=LAYOUTS)
    parser.add_argument('root', help='dataset root')
    parser.add_argument(
        '--exclude',
        default=None,
        help='LaSOT: testing_set.txt (one video a line)',
    )
    add_common_args(parser, default_preset='')
    args = parser.parse_args(argv)
    if not args.preset:
        args.preset = args.layout
    root = Path(args.root)
    if not root.is_dir():
        print(
            f'error: dataset root {root} does not exist or is not a folder',
            file=sys.stderr,
        )
        return 1
    if args.layout == 'got10k':
        sources = got10k_sources(root)
    elif args.layout == 'lasot':
        sources = lasot_sources(root, args.exclude)
    elif args.layout == 'vid':
        sources = vid_sources(root)
    else:
        sources = ytvos_sources(root)
    sources = [s for s in sources if s.frame_files]
    if not sources:
        print(f'error: no {args.layout} videos under {root}', file=sys.stderr)
        return 1
    return run_conversion(
        args, sources, dict(layout=args.layout, root=str(root))
    )


if __name__ == '__main__':
    sys.exit(main())
