# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The videos of raw GOT-10k / LaSOT / ImageNet-VID / YouTube-VOS folders.

Only the frames are read (the datasets' own labels are ignored); each
layout's videos become :class:`~.video_io.VideoSource` s named after their
folder, for :func:`~.convert.convert_sources` (``mmusot-datasets-to-pseudo``).
"""

from pathlib import Path
from typing import List, Optional

from .errors import InputError
from .video_io import VideoSource, list_images, safe_name

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


def dataset_sources(
    layout: str, root: str, exclude: Optional[str] = None
) -> List[VideoSource]:
    """The videos (with frames) of a raw dataset folder.

    Args:
        layout (str): one of :data:`LAYOUTS`.
        root (str): the dataset root.
        exclude (str, optional): LaSOT: testing_set.txt (one video a line).

    Returns:
        list[VideoSource]: not empty.

    Raises:
        InputError: ``root`` is not a folder or holds no video of
            ``layout``.
    """
    path = Path(root)
    if not path.is_dir():
        raise InputError(
            f'dataset root {path} does not exist or is not a folder'
        )
    if layout == 'got10k':
        sources = got10k_sources(path)
    elif layout == 'lasot':
        sources = lasot_sources(path, exclude)
    elif layout == 'vid':
        sources = vid_sources(path)
    elif layout == 'ytvos':
        sources = ytvos_sources(path)
    else:
        raise InputError(f'unknown layout {layout!r}; one of {LAYOUTS}')
    sources = [s for s in sources if s.frame_files]
    if not sources:
        raise InputError(f'no {layout} videos under {path}')
    return sources
