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
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import AnnotationError

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


def box_problems(
    boxes_xywh: np.ndarray, frame_size: Optional[Sequence[float]] = None
) -> Dict[int, str]:
    """The rows of a box array that cannot be a training label, and why.

    A box is usable when its four values are finite, its width and height
    are positive and it overlaps the frame (a box partly outside is fine).

    Args:
        boxes_xywh (np.ndarray): of shape (N, 4) in [x, y, w, h] format,
            pixels of the original frame.
        frame_size (Sequence[float], optional): (W, H) of the frame; None
            skips the overlap test. Defaults to None.

    Returns:
        dict[int, str]: row index -> problem, for the bad rows only.
    """
    b = np.asarray(boxes_xywh, np.float64).reshape(-1, 4)
    out: Dict[int, str] = {}
    finite = np.isfinite(b).all(1)
    for k in np.flatnonzero(~finite).tolist():
        values = ','.join(f'{v:g}' for v in b[k])
        out[k] = f'box x,y,w,h = {values} is not finite (NaN or inf)'
    with np.errstate(invalid='ignore'):
        small = finite & ((b[:, 2] <= 0) | (b[:, 3] <= 0))
    for k in np.flatnonzero(small).tolist():
        out[k] = (
            f'width and height must be > 0, got w={b[k, 2]:g}, h={b[k, 3]:g}'
        )
    if frame_size is not None:
        width, height = float(frame_size[0]), float(frame_size[1])
        x, y, w, h = b.T
        with np.errstate(invalid='ignore'):
            outside = (
                finite
                & ~small
                & ((x >= width) | (y >= height) | (x + w <= 0) | (y + h <= 0))
            )
        for k in np.flatnonzero(outside).tolist():
            out[k] = (
                f'box x={b[k, 0]:g}, y={b[k, 1]:g}, w={b[k, 2]:g}, '
                f'h={b[k, 3]:g} lies outside the {width:g}x{height:g} frame'
            )
    return out


def read_annotation(
    path: str, frame_size: Optional[Sequence[float]] = None
) -> Tuple[np.ndarray, List[Tuple[int, int, str]]]:
    """Read a pseudo-label ``x,y,w,h`` file and check every line.

    Values are separated by commas, tabs or spaces, as in
    :func:`read_boxes_xywh`; blank lines are skipped (but counted in the
    line numbers). A line is bad when it does not hold exactly four
    numbers, or its box fails :func:`box_problems`.

    Args:
        path (str): the annotation file.
        frame_size (Sequence[float], optional): (W, H) of the video's
            frames, for the overlap test. Defaults to None.

    Returns:
        tuple[np.ndarray, list[tuple[int, int, str]]]: the boxes (N, 4)
        float64 xywh, one row per non-blank line (NaN rows for lines that
        are not four numbers), and ``(row, line number, problem)`` for
        every bad line, in file order.
    """
    with open(path) as f:
        lines = [(k, v.strip()) for k, v in enumerate(f, start=1)]
    lines = [(k, v) for k, v in lines if v]
    line_nos = [k for k, _ in lines]
    boxes = _parse_plain_csv([v for _, v in lines])
    bad: Dict[int, str] = {}
    if boxes is None:  # some line is not four comma-separated numbers
        rows: List[List[float]] = []
        nan_row = [float('nan')] * 4
        for row, (_, line) in enumerate(lines):
            fields = [
                v
                for v in line.replace('\t', ',').replace(' ', ',').split(',')
                if v != ''
            ]
            if len(fields) != 4:
                bad[row] = (
                    f'expected 4 values x,y,w,h, got {len(fields)}: {line!r}'
                )
                rows.append(nan_row)
                continue
            try:
                rows.append([float(v) for v in fields])
            except ValueError:
                bad[row] = f'not a number in {line!r}'
                rows.append(nan_row)
        boxes = np.asarray(rows, np.float64).reshape(-1, 4)
    checked = box_problems(boxes, frame_size)
    for row, why in checked.items():
        bad.setdefault(row, why)
    problems = [(r, line_nos[r], bad[r]) for r in sorted(bad)]
    return boxes, problems


def _parse_plain_csv(lines: List[str]) -> Optional[np.ndarray]:
    """(N, 4) float64 from lines of exactly ``a,b,c,d`` numbers (the
    converter's format, parsed in one numpy call), else None."""
    if any(
        line.count(',') != 3 or ' ' in line or '\t' in line for line in lines
    ):
        return None
    try:
        return np.array(','.join(lines).split(','), np.float64).reshape(-1, 4)
    except ValueError:
        return None


def annotation_error(
    path: str, problems: Sequence[Tuple[int, int, str]], hint: str = ''
) -> AnnotationError:
    """An :class:`AnnotationError` for the first bad line of a file.

    Args:
        path (str): the annotation file.
        problems (Sequence[tuple]): from :func:`read_annotation`, non-empty.
        hint (str): what to do, appended to the message. Defaults to ''.

    Returns:
        AnnotationError: the error to raise.
    """
    _, line_no, why = problems[0]
    more = (
        f' ({len(problems)} bad lines in this file)'
        if len(problems) > 1
        else ''
    )
    msg = f'{path} line {line_no}: {why}{more}'
    return AnnotationError(msg + (f'; {hint}' if hint else ''))


def frame_file(video_path: str, frame_id: int) -> str:
    """The image of frame ``frame_id`` (1-based, as in the infos file) in a
    converted video's frame folder ``video_path``."""
    return os.path.join(video_path, FRAME_TEMPLATE % frame_id)


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
