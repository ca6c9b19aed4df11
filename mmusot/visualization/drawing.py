# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Boxes on frames, annotated videos and contact sheets (OpenCV, BGR).

The one place where mmusot draws: the tracking demo's frames
(:func:`draw_tracking`), pseudo labels on their frames
(:func:`draw_pseudo_label`, :func:`pseudo_label_videos`) or against ground
truth (:func:`draw_label_check`, :func:`film_strip`), the mp4 writer
(:func:`open_video_writer`) and the grid of frames of a video
(:func:`contact_sheet`). mmtrack's ``TrackLocalVisualizer`` draws through
mmengine's matplotlib canvas, one image at a time; these tools write
videos frame by frame with OpenCV, whose pixels the demo's outputs have
always been made of. Errors are :class:`VisualizationError`.
"""

import os
import os.path as osp
from typing import List, Optional, Sequence, Set, Tuple

import cv2
import numpy as np

#: Tracking frames: BGR colours, line width and text size relative to the
#: frame's larger side.
PRED_COLOR = (0, 0, 255)
GT_COLOR = (0, 255, 0)
TEXT_COLOR = (255, 255, 255)
LINE_WIDTH_FRACTION = 1 / 300
TEXT_SCALE_FRACTION = 1 / 900
MIN_TEXT_SCALE = 0.4
#: Pseudo labels: BGR colour, line width, and the frame rate of their
#: videos.
PSEUDO_BOX_COLOR = (0, 200, 255)
PSEUDO_BOX_WIDTH = 2
PSEUDO_VIDEO_FPS = 25
#: Pseudo labels checked against ground truth: the ground truth's colour
#: (the pseudo box is green).
LABEL_GT_COLOR = (0, 0, 255)
#: Contact sheets: frames shown, tile width (pixels) and tiles per row.
CONTACT_SHEET_FRAMES = 8
CONTACT_SHEET_WIDTH = 320
CONTACT_SHEET_COLUMNS = 4
#: The codec of every written video (OpenCV's ``mp4v``).
FOURCC = 'mp4v'


class VisualizationError(Exception):
    """A video cannot be written or read back; the message names it."""


def open_video_writer(
    path: str, fps: float, size: Tuple[int, int]
) -> cv2.VideoWriter:
    """An ``mp4v`` writer of ``size`` (width, height) frames.

    Raises:
        VisualizationError: OpenCV cannot write ``path``.
    """
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*FOURCC), fps, size)
    if not writer.isOpened():
        raise VisualizationError(
            f'cannot write video {path} (OpenCV writes {FOURCC}: give a '
            '.mp4, .mov or .avi name)'
        )
    return writer


def _has_area(box: Optional[np.ndarray]) -> bool:
    return (
        box is not None
        and bool(np.isfinite(box).all())
        and box[2] > 0
        and box[3] > 0
    )


def draw_tracking(
    frame: np.ndarray,
    frame_no: int,
    box: np.ndarray,
    score: float,
    gt: Optional[np.ndarray] = None,
    iou: Optional[float] = None,
) -> np.ndarray:
    """A tracked frame: ground truth (green), prediction (red) and a line
    of text (frame number, score or ``init``, IoU).

    Args:
        frame (np.ndarray): BGR image, not modified.
        frame_no (int): 0-based; frame 0 is the initialisation.
        box (np.ndarray): the tracked ``[x, y, w, h]``.
        score (float): its score.
        gt (np.ndarray, optional): the ground-truth ``[x, y, w, h]``.
        iou (float, optional): IoU of ``box`` and ``gt``.

    Returns:
        np.ndarray: the annotated copy.
    """
    out = frame.copy()
    height, width = out.shape[:2]
    thickness = max(1, int(round(max(height, width) * LINE_WIDTH_FRACTION)))
    scale = max(MIN_TEXT_SCALE, max(height, width) * TEXT_SCALE_FRACTION)
    for b, color in ((gt, GT_COLOR), (box, PRED_COLOR)):
        if _has_area(b):
            x, y, w, h = (int(round(v)) for v in b)
            cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
    text = f'#{frame_no}  ' + (
        'init' if frame_no == 0 else f'score {score:.3f}'
    )
    if iou is not None:
        text += f'  IoU {iou:.2f}'
    origin = (5, int(30 * scale) + 5)
    # a dark outline under the text keeps it readable on any background
    for color, line in (((0, 0, 0), thickness + 2), (TEXT_COLOR, thickness)):
        cv2.putText(
            out,
            text,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            color,
            line,
            cv2.LINE_AA,
        )
    return out


def draw_pseudo_label(
    frame: np.ndarray, box_xywh: np.ndarray, text: str
) -> np.ndarray:
    """Draw a pseudo box (rounded to pixels) and a caption, in place.

    Args:
        frame (np.ndarray): BGR image, drawn on.
        box_xywh (np.ndarray): ``[x, y, w, h]``.
        text (str): the caption at the top left.

    Returns:
        np.ndarray: ``frame``.
    """
    x, y, w, h = np.asarray(box_xywh).round().astype(int)
    cv2.rectangle(
        frame, (x, y), (x + w, y + h), PSEUDO_BOX_COLOR, PSEUDO_BOX_WIDTH
    )
    cv2.putText(
        frame,
        text,
        (5, 18),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        PSEUDO_BOX_COLOR,
        1,
        cv2.LINE_AA,
    )
    return frame


def draw_label_check(
    frame: np.ndarray,
    caption: str,
    gt_xyxy: Optional[np.ndarray] = None,
    pseudo_xyxy: Optional[np.ndarray] = None,
) -> np.ndarray:
    """A pseudo label against the ground truth (``eval_pseudo_labels``):
    ground truth red, pseudo box green, both truncated to pixels, and a
    white caption.

    Args:
        frame (np.ndarray): BGR image, not modified.
        caption (str): e.g. the frame number and the IoU.
        gt_xyxy (np.ndarray, optional): ``[x1, y1, x2, y2]``.
        pseudo_xyxy (np.ndarray, optional): ``[x1, y1, x2, y2]``; not
            drawn unless finite.

    Returns:
        np.ndarray: the annotated copy.
    """
    out = frame.copy()
    for box, color in ((gt_xyxy, LABEL_GT_COLOR), (pseudo_xyxy, GT_COLOR)):
        if box is not None and np.isfinite(box).all():
            b = np.asarray(box).astype(int)
            cv2.rectangle(out, tuple(b[:2]), tuple(b[2:]), color, 2)
    cv2.putText(
        out, caption, (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, TEXT_COLOR, 2
    )
    return out


def film_strip(images: Sequence[np.ndarray], height: int = 240) -> np.ndarray:
    """``images`` scaled to ``height`` pixels (aspect kept), side by side."""
    tiles = [
        cv2.resize(
            img, None, fx=height / img.shape[0], fy=height / img.shape[0]
        )
        for img in images
    ]
    return np.concatenate(tiles, 1)


def pseudo_label_videos(
    pseudo_root: str, dest: str, infos_name: str = 'pseudo'
) -> List[str]:
    """Every track of a pseudo-label dataset drawn on its frames.

    One mp4 per infos line, named after its annotation file (``name.mp4``,
    or ``name.sNNN.mp4`` per shot); a video that exists is kept (written
    through a temporary file, so only finished ones exist). A track whose
    frames run out early stops there.

    Args:
        pseudo_root (str): the dataset root (``data_root``).
        dest (str): the folder of the videos (created).
        infos_name (str): the infos file is ``<infos_name>_infos.txt``.
            Defaults to 'pseudo'.

    Returns:
        list[str]: the videos, in infos order.
    """
    from mmusot.pseudo_labels.writer import (
        frame_file,
        read_boxes_xywh,
        read_infos,
    )

    os.makedirs(dest, exist_ok=True)
    written = []
    infos = read_infos(osp.join(pseudo_root, f'{infos_name}_infos.txt'))
    for video_path, ann_path, start, end in infos:
        name = osp.splitext(osp.basename(ann_path))[0]
        out = osp.join(dest, f'{name}.mp4')
        written.append(out)
        if osp.isfile(out):
            continue
        boxes = read_boxes_xywh(osp.join(pseudo_root, ann_path))
        frames = osp.join(pseudo_root, video_path)
        writer = None
        for frame_id in range(start, end + 1):
            frame = cv2.imread(frame_file(frames, frame_id))
            if frame is None:
                break
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = open_video_writer(
                    out + '.tmp.mp4', PSEUDO_VIDEO_FPS, size
                )
            caption = f'pseudo label  {name}  #{frame_id}'
            writer.write(
                draw_pseudo_label(frame, boxes[frame_id - start], caption)
            )
        if writer is not None:
            writer.release()
            os.replace(out + '.tmp.mp4', out)
    return written


def _spread(count: int, num: int) -> Set[int]:
    """``num`` evenly spaced indices of ``count`` frames (first and last
    included)."""
    return set(
        np.linspace(0, max(count - 1, 0), num).round().astype(int).tolist()
    )


def contact_sheet(
    video: str,
    dest: str,
    num_frames: int = CONTACT_SHEET_FRAMES,
    tile_width: int = CONTACT_SHEET_WIDTH,
    columns: int = CONTACT_SHEET_COLUMNS,
) -> str:
    """A grid of evenly spaced frames of ``video``, written as an image.

    Args:
        video (str): the video to read.
        dest (str): the image to write (PNG, JPEG, ...).
        num_frames (int): frames shown. Defaults to 8.
        tile_width (int): width of a tile; its height keeps the aspect.
            Defaults to 320.
        columns (int): tiles per row; the last row is padded with black.
            Defaults to 4.

    Returns:
        str: ``dest``.

    Raises:
        VisualizationError: no frame of ``video`` can be read.
    """
    capture = cv2.VideoCapture(video)
    wanted = _spread(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), num_frames)
    tiles, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index in wanted:
            height = round(frame.shape[0] * tile_width / frame.shape[1])
            tiles.append(cv2.resize(frame, (tile_width, height)))
        index += 1
    capture.release()
    if not tiles:
        raise VisualizationError(f'cannot read back {video}')
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [
        np.hstack(tiles[i : i + columns])
        for i in range(0, len(tiles), columns)
    ]
    cv2.imwrite(dest, np.vstack(rows))
    return dest
