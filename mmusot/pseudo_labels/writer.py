# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmtrack-format output, written atomically (temp file + rename).

Layout under an output root (paths in the infos file are relative to it,
so it is mmtrack's ``data_root`` / ``data_prefix.img_path``)::

    frames/<video>/00000001.jpg ...     decoded frames ('%08d.jpg' from 1)
    annotations/<video>.txt             x,y,w,h per frame (or <video>.wNNN.txt
                                        per LaSOT-style window)
    quality/<video>.json                quality sidecar for USOT's sampler
    status/<video>.json                 per-video record (resume, summary)
    <name>_infos.txt                    mmtrack infos file, kept tracks only
"""

import json
import os
import tempfile
from typing import Iterable, Sequence

import numpy as np

INFOS_HEADER = (
    'The format of each line in this txt is '
    '(video_path,annotation_path,start_frame_id,end_frame_id)'
)
FRAME_TEMPLATE = '%08d.jpg'


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and an
    atomic rename, so readers never see a half-written file."""
    folder = os.path.dirname(path) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp'
    )
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Atomic text write (UTF-8, '\\n' line ends)."""
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_json(path: str, obj) -> None:
    """Atomic JSON write with sorted keys (deterministic bytes)."""
    atomic_write_text(path, json.dumps(obj, sort_keys=True, indent=1) + '\n')


def format_boxes_xywh(boxes_xyxy: np.ndarray) -> str:
    """One ``x,y,w,h`` line per box (mmtrack's annotation txt).

    Args:
        boxes_xyxy (np.ndarray): of shape (N, 4), int, [x1, y1, x2, y2].

    Returns:
        str: N lines of integers, each ending in a newline.
    """
    b = np.asarray(boxes_xyxy, np.int64).reshape(-1, 4)
    return ''.join(
        f'{x1},{y1},{x2 - x1},{y2 - y1}\n' for x1, y1, x2, y2 in b.tolist()
    )


def read_boxes_xywh(path: str) -> np.ndarray:
    """Read an ``x,y,w,h`` txt (commas, tabs or spaces) to (N, 4) float64."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(
                    [
                        float(v)
                        for v in line.replace('\t', ',')
                        .replace(' ', ',')
                        .split(',')
                        if v != ''
                    ][:4]
                )
    return np.asarray(rows, np.float64).reshape(-1, 4)


def infos_line(
    video_path: str, ann_path: str, start_frame_id: int, end_frame_id: int
) -> str:
    """One infos line; the paths must not contain commas."""
    for p in (video_path, ann_path):
        if ',' in p:
            raise ValueError(
                f'path {p!r} contains a comma, which breaks the infos format'
            )
    return f'{video_path},{ann_path},{start_frame_id},{end_frame_id}'


def write_infos(path: str, lines: Iterable[Sequence]) -> None:
    """Write an mmtrack SOT infos txt: the header, then one line per track.

    Args:
        path (str): output file.
        lines (Iterable[Sequence]): (video_path, ann_path, start_frame_id,
            end_frame_id) tuples, written in the given order.
    """
    text = (
        INFOS_HEADER
        + '\n'
        + ''.join(infos_line(*line) + '\n' for line in lines)
    )
    atomic_write_text(path, text)


def read_infos(path: str) -> list:
    """Parse an infos txt written by :func:`write_infos` (header skipped)."""
    out = []
    with open(path) as f:
        next(f, None)
        for line in f:
            line = line.strip()
            if line:
                v, a, s, e = line.split(',')
                out.append((v, a, int(s), int(e)))
    return out
