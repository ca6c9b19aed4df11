# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Reading frames from video files and frame folders, and finding them."""

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence

import cv2
import numpy as np

from .errors import VideoReadError

VIDEO_EXTENSIONS = (
    '.mp4',
    '.avi',
    '.mov',
    '.mkv',
    '.webm',
    '.m4v',
    '.mpg',
    '.mpeg',
    '.wmv',
    '.flv',
    '.3gp',
    '.ts',
)
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoSource:
    """One input video.

    Args:
        name (str): output name, '/'-separated, unique in a dataset.
        path (str): a video file or a folder of frame images.
        frame_files (tuple[str], optional): explicit frame images in order
            (frame folders); None for video files.
    """

    name: str
    path: str
    frame_files: Optional[Sequence[str]] = None

    @property
    def is_folder(self) -> bool:
        return self.frame_files is not None


def to_bgr(image: np.ndarray, where: str) -> np.ndarray:
    """Coerce a decoded image (gray, BGRA, 16-bit) to uint8 BGR (H, W, 3)."""
    if image is None or image.size == 0:
        raise VideoReadError(f'{where}: empty image')
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        else:
            image = cv2.normalize(
                image.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX
            ).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def iter_frames(
    source: VideoSource, max_frames: Optional[int] = None
) -> Iterator[np.ndarray]:
    """Yield the frames of a source in order as uint8 BGR (H, W, 3).

    Args:
        source (VideoSource): the input.
        max_frames (int, optional): stop after this many frames.

    Yields:
        np.ndarray: one frame at a time.

    Raises:
        VideoReadError: the file cannot be opened or a frame is unreadable.
    """
    limit = max_frames if max_frames is not None else float('inf')
    if source.is_folder:
        for k, f in enumerate(source.frame_files):
            if k >= limit:
                return
            img = cv2.imread(f, cv2.IMREAD_UNCHANGED)
            if img is None:
                raise VideoReadError(
                    f'{f}: cannot decode image (frame {k} of {source.name})'
                )
            yield to_bgr(img, f)
        return
    if not os.path.isfile(source.path):
        raise VideoReadError(f'{source.path}: no such file')
    cap = cv2.VideoCapture(source.path)
    if not cap.isOpened():
        raise VideoReadError(f'{source.path}: cannot open video')
    try:
        k = 0
        while k < limit:
            ok, frame = cap.read()
            if not ok:
                return
            yield to_bgr(frame, f'{source.path} frame {k}')
            k += 1
    finally:
        cap.release()


def count_frames(source: VideoSource) -> int:
    """Number of frames, exact (video files are scanned with grab())."""
    if source.is_folder:
        return len(source.frame_files)
    cap = cv2.VideoCapture(source.path)
    if not cap.isOpened():
        raise VideoReadError(f'{source.path}: cannot open video')
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n


_BAD_CHARS = re.compile(r'[^A-Za-z0-9._/-]')


def safe_name(relative: str) -> str:
    """An output name from a relative path: '/'-separated, no commas,
    spaces or other characters that would break an infos file."""
    parts = [p for p in relative.replace(os.sep, '/').split('/') if p]
    parts = [_BAD_CHARS.sub('_', p).strip('.') or '_' for p in parts]
    return '/'.join(parts)


def list_images(folder: Path) -> List[str]:
    """Image files directly in ``folder``, lexicographic order."""
    return sorted(
        str(p)
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def discover_sources(
    root: str, min_folder_images: int = 1, exclude: Iterable[str] = ()
) -> List[VideoSource]:
    """Find video files and frame folders under ``root`` (recursive).

    A folder that directly contains image files is one frame-folder video
    (its sub-folders are not searched further). Names are the relative
    paths without the extension; clashes (``a.mp4`` and ``a.avi``) get the
    extension appended. The order is sorted and deterministic, so every
    shard of a run sees the same list.

    Symbolic links to folders are followed. A folder reached a second time
    (a link loop, or two links to the same folder) is skipped with a
    logged warning: the first path in sorted order keeps it.

    Args:
        root (str): a folder, or a single video file.
        min_folder_images (int): a folder needs this many images to count
            as a video. Defaults to 1.
        exclude (Iterable[str]): folders left out of the search, with
            everything under them (the converter's own output folder when
            it lies inside ``root``). Defaults to ().

    Returns:
        list[VideoSource]: sorted by name.

    Raises:
        FileNotFoundError: ``root`` does not exist.
    """
    root_path = Path(root)
    if root_path.is_file():
        return [VideoSource(safe_name(root_path.stem), str(root_path))]
    if not root_path.is_dir():
        raise FileNotFoundError(f'{root}: no such file or folder')
    skip = {os.path.realpath(p) for p in exclude}
    seen_dirs = {}  # real path -> the path it was first reached by
    found = []  # (relative stem, ext, path, frames)
    for dirpath, dirnames, filenames in os.walk(root_path, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in skip:
            dirnames[:] = []
            continue
        if real in seen_dirs:
            logger.warning(
                f'{dirpath}: skipped, it is {seen_dirs[real]} again (a '
                'symbolic link loop or a second link to the same folder)'
            )
            dirnames[:] = []
            continue
        seen_dirs[real] = dirpath
        dirnames.sort()
        here = Path(dirpath)
        images = [
            f
            for f in filenames
            if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
        ]
        rel_dir = here.relative_to(root_path).as_posix()
        if len(images) >= min_folder_images and images:
            rel = rel_dir if rel_dir != '.' else root_path.name
            found.append((rel, '', str(here), list_images(here)))
            dirnames[:] = []
            continue  # videos inside a frame folder are not inputs
        for f in sorted(filenames):
            stem, ext = os.path.splitext(f)
            if ext.lower() in VIDEO_EXTENSIONS:
                rel = stem if rel_dir == '.' else f'{rel_dir}/{stem}'
                found.append(
                    (rel, ext.lower().lstrip('.'), str(here / f), None)
                )
    found.sort(key=lambda x: (x[0], x[1]))
    names = [safe_name(rel) for rel, *_ in found]
    counts = Counter(names)
    sources, seen = [], set()
    for (rel, ext, path, frames), name in zip(found, names):
        if counts[name] > 1 and ext:
            name = f'{name}_{ext}'
        while name in seen:
            name = f'{name}_'
        seen.add(name)
        sources.append(
            VideoSource(name, path, tuple(frames) if frames else None)
        )
    return sources
