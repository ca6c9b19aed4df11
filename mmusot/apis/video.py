# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track one target through a video, a frame folder or a webcam stream.

The library behind ``mmusot-track`` and ``mmusot-demo``'s tracking step:
:func:`open_source` reads the frames, :func:`track_video` tracks them with
a :class:`~mmusot.apis.Tracker` and writes the annotated mp4
(:func:`mmusot.visualization.draw_tracking`) and one ``x,y,w,h`` line per
frame. Every input problem is a :class:`TrackingError` whose message says
what to do; a frame that cannot be tracked stops the run after the boxes
tracked so far and the video up to it are written.
"""

import os
import os.path as osp
import re
import sys
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
OTB_IMG_DIR = 'img'
OTB_GT_NAME = 'groundtruth_rect.txt'
#: Output frame rate when the source does not tell one (webcams, folders).
DEFAULT_FPS = 30.0


class TrackingError(Exception):
    """Bad tracking input or output; the message is for the user.

    The one error type of tracking a video (``mmusot-track``,
    ``mmusot-demo``): unreadable inputs, bad boxes or ground truth,
    outputs that cannot be written, weights that cannot be loaded.
    """


class FrameError(TrackingError):
    """A frame that cannot be used (the message says why, not where)."""


# --------------------------------------------------------------- sources
class FrameSource:
    """Frames (BGR uint8) of a video file, a folder or a webcam.

    Args:
        frames (Iterator[np.ndarray]): the frames.
        name (str): for output file names.
        fps (float): frame rate of the source (0 if unknown).
        length (int, optional): number of frames, if known.
        gt_file (str, optional): an OTB-style folder's ground truth.
        description (str): what the frames come from, for messages
            (``'video clip.mp4'``, ``'folder frames/'``).
        paths (list[str], optional): the image files of a folder, in
            frame order (then ``length`` is exact).
    """

    def __init__(
        self,
        frames: Iterator[np.ndarray],
        name: str,
        fps: float = 0.0,
        length: Optional[int] = None,
        gt_file: Optional[str] = None,
        description: str = 'the input',
        paths: Optional[List[str]] = None,
    ) -> None:
        self.frames = frames
        self.name = name
        self.fps = fps
        self.length = length
        self.gt_file = gt_file
        self.description = description
        self.paths = paths

    def frame_label(self, index: int) -> str:
        """``'frame #3 (img/0004.jpg)'`` or ``'frame #3 of video a.mp4'``
        (0-based, as numbered on the output video)."""
        if self.paths is not None and index < len(self.paths):
            return f'frame #{index} ({self.paths[index]})'
        return f'frame #{index} of {self.description}'


def natural_key(name: str) -> list:
    """Sort key with numbers compared as numbers (``2.jpg`` < ``10.jpg``)."""
    return [
        int(part) if part.isdigit() else part.lower()
        for part in re.split(r'(\d+)', name)
    ]


def _capture_frames(capture: cv2.VideoCapture, first: np.ndarray):
    try:
        yield first
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield frame
    finally:
        capture.release()


def open_capture(target, description: str) -> FrameSource:
    """A video file or a webcam through ``cv2.VideoCapture``."""
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise TrackingError(f'cannot open {description}')
    ok, first = capture.read()
    if not ok or first is None:
        capture.release()
        raise TrackingError(f'cannot read a frame from {description}')
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    name = (
        f'webcam{target}'
        if isinstance(target, int)
        else osp.splitext(osp.basename(target))[0]
    )
    return FrameSource(
        _capture_frames(capture, first),
        name,
        fps if np.isfinite(fps) else 0.0,
        count if count > 0 else None,
        description=description,
    )


def _folder_frames(paths: List[str]):
    for path in paths:
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            size = osp.getsize(path) if osp.isfile(path) else None
            what = (
                'the file is gone'
                if size is None
                else 'an empty file (0 bytes)'
                if size == 0
                else f'not a readable image ({size} bytes, damaged?)'
            )
            raise FrameError(
                f'cannot read the image: {what}; replace or remove it'
            )
        yield frame


def open_folder(folder: str) -> FrameSource:
    """A folder of images, or an OTB-style sequence folder."""
    gt_file = None
    img_dir = folder
    if osp.isdir(osp.join(folder, OTB_IMG_DIR)):
        img_dir = osp.join(folder, OTB_IMG_DIR)
        if osp.isfile(osp.join(folder, OTB_GT_NAME)):
            gt_file = osp.join(folder, OTB_GT_NAME)
    names = sorted(
        (
            f
            for f in os.listdir(img_dir)
            if f.lower().endswith(IMAGE_SUFFIXES)
            and osp.isfile(osp.join(img_dir, f))
        ),
        key=natural_key,
    )
    if not names:
        raise TrackingError(
            f'no image ({"/".join(IMAGE_SUFFIXES)}) in folder {img_dir}'
        )
    paths = [osp.join(img_dir, n) for n in names]
    return FrameSource(
        _folder_frames(paths),
        osp.basename(osp.normpath(folder)),
        0.0,
        len(paths),
        gt_file,
        description=f'folder {img_dir}',
        paths=paths,
    )


def open_source(
    path: Optional[str] = None, webcam: Optional[int] = None
) -> FrameSource:
    """The frames of a video file, an image folder (OTB-style or not) or,
    with ``webcam``, a camera.

    Raises:
        TrackingError: the input is missing or unreadable.
    """
    if webcam is not None:
        return open_capture(webcam, f'webcam {webcam}')
    if path is None or not osp.exists(path):
        raise TrackingError(f'input not found: {path}')
    if osp.isdir(path):
        return open_folder(path)
    return open_capture(path, f'video {path}')


# ------------------------------------------------------------------ boxes
def parse_box(text: str) -> np.ndarray:
    """``'x,y,w,h'`` (commas or spaces) → (4,) float64."""
    fields = [v for v in re.split(r'[,\s]+', text.strip()) if v]
    try:
        values = [float(v) for v in fields]
    except ValueError:
        values = []
    if len(values) != 4:
        raise TrackingError(
            f'--init-box must be x,y,w,h (4 numbers), got {text!r}'
        )
    return np.array(values)


def read_gt(path: str) -> np.ndarray:
    """A ground-truth file: one ``x,y,w,h`` line per frame."""
    from mmusot.datasets.otb_folder_dataset import parse_groundtruth

    if not osp.isfile(path):
        raise TrackingError(f'ground-truth file not found: {path}')
    try:
        return parse_groundtruth(path, osp.basename(path))
    except ValueError as err:
        raise TrackingError(str(err)) from None


def check_gt_length(gt: np.ndarray, gt_path: str, source: FrameSource) -> None:
    """Refuse a folder whose frame count differs from its ground truth.

    A missing or extra frame puts every later box out of step with its
    ground truth (the scores would compare shifted boxes), so this is an
    error, as in ``tools/test.py`` (``OTBFolderDataset``). Videos are
    checked while they are read (their frame count is only an estimate).

    Raises:
        TrackingError: naming the folder, the file and both counts.
    """
    if source.paths is None or len(gt) == len(source.paths):
        return
    kind = 'short' if len(gt) < len(source.paths) else 'long'
    raise TrackingError(
        f'ground truth is {kind}: {gt_path} has {len(gt)} boxes for '
        f'{len(source.paths)} frames in {source.description}; each frame '
        'needs its box (a frame missing or extra, or the ground truth of '
        'another clip?). Fix the folder or the file, or track without '
        'ground truth (--init-box)'
    )


def gt_mismatch(
    gt: np.ndarray, gt_path: str, frames: int, ended: bool, where: str
) -> Optional[str]:
    """Why ``frames`` frames read so far do not fit ``gt`` (None if fine).

    Args:
        gt (np.ndarray): the ground truth, (N, 4).
        gt_path (str): its file, for the message.
        frames (int): frames read.
        ended (bool): whether the input ended (else the run stopped at
            ``--max-frames`` and more frames may follow).
        where (str): the input, for the message.
    """
    if frames > len(gt) or (ended and frames != len(gt)):
        more = '' if ended else 'at least '
        return (
            f'ground truth and frames are out of step: {gt_path} has '
            f'{len(gt)} boxes but {where} has {more}{frames} frames; the '
            'IoU is not reported. Give the ground truth of this video '
            '(one box per frame), or none'
        )
    return None


def check_output(path: str, what: str) -> None:
    """Fail now, not after tracking, if ``path`` cannot be written.

    Creates the missing folders of ``path``; the file itself is left as
    it was.

    Raises:
        TrackingError: ``path`` is a folder, its folder cannot be created, or
            is not writable.
    """
    if osp.isdir(path):
        raise TrackingError(
            f'{what} {path} is a folder; give a file name (e.g. '
            f'{osp.join(path, "out" + (osp.splitext(path)[1] or ".mp4"))})'
        )
    folder = osp.dirname(osp.abspath(path))
    parent = folder
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise TrackingError(
            f'cannot write {what} {path}: {parent} is a file, not a folder'
        )
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise TrackingError(
            f'cannot create the folder of {what} {path}: {err.strerror}'
        ) from None
    existed = osp.exists(path)
    try:
        with open(path, 'ab'):
            pass
    except OSError as err:
        raise TrackingError(
            f'cannot write {what} {path}: {err.strerror}; choose another path'
        ) from None
    if not existed:
        os.remove(path)


def iou_xywh(pred: np.ndarray, gt: np.ndarray) -> Optional[float]:
    """IoU of two ``[x, y, w, h]`` boxes (mmdet's ``bbox_overlaps``, as
    mmtrack's OPE success); None when the ground truth has no area."""
    from mmdet.evaluation.functional import bbox_overlaps

    if not (np.isfinite(gt).all() and gt[2] > 0 and gt[3] > 0):
        return None
    if not np.isfinite(pred).all():
        return 0.0
    to_xyxy = lambda b: np.array([[b[0], b[1], b[0] + b[2], b[1] + b[3]]])  # noqa: E731
    return float(bbox_overlaps(to_xyxy(gt), to_xyxy(pred))[0, 0])


# -------------------------------------------------------------- tracking
def load_tracker(
    config: str,
    checkpoint: Optional[str] = None,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
    allow_partial: bool = False,
):
    """:meth:`mmusot.apis.Tracker.from_config`, its errors as
    :class:`TrackingError`.

    Raises:
        TrackingError: the config or checkpoint is missing or cannot be
            loaded, or the device is not available.
    """
    from mmusot.apis import Tracker
    from mmusot.apis.builder import DeviceError
    from mmusot.utils.safe_load import CheckpointLoadError

    try:
        return Tracker.from_config(
            config,
            checkpoint,
            device,
            cfg_options,
            allow_partial=allow_partial,
        )
    except (FileNotFoundError, CheckpointLoadError, DeviceError) as err:
        raise TrackingError(str(err)) from None


def _first_box(
    init_box: Union[str, Sequence[float], None], gt: Optional[np.ndarray]
) -> np.ndarray:
    if isinstance(init_box, str):
        return parse_box(init_box)
    if init_box is not None:
        return np.asarray(init_box, np.float64)
    if gt is not None:
        return gt[0]
    raise TrackingError(
        'no initial box: give --init-box x,y,w,h, or --gt FILE (its '
        'first line is used)'
    )


def _first_frame(
    source: FrameSource, frames: Iterator[np.ndarray], box: np.ndarray
):
    """(the first frame, ``box`` checked against it)."""
    from mmusot.apis import check_box

    try:
        first = next(frames)
    except FrameError as err:
        raise TrackingError(f'{source.frame_label(0)}: {err}') from None
    try:
        return first, check_box(box, first.shape)
    except ValueError as err:
        raise TrackingError(f'initial box: {err}') from None


def _output_paths(
    source: FrameSource, out: Optional[str], out_txt: Optional[str]
):
    """(video, boxes file), both checked writable."""
    out = out or osp.join('work_dirs', 'demo', f'{source.name}.mp4')
    out_txt = out_txt or osp.splitext(out)[0] + '.txt'
    if osp.abspath(out) == osp.abspath(out_txt):
        raise TrackingError(
            f'the video and the boxes would both be written to {out}; give '
            '--out-txt another name'
        )
    check_output(out, 'output video')
    check_output(out_txt, 'boxes file')
    return out, out_txt


def _progress(total: Optional[int]):
    try:
        from tqdm import tqdm
    except ImportError:  # optional: no bar without tqdm
        return None
    return tqdm(total=total, unit='frame', dynamic_ncols=True)


class _Run:
    """The frames of one run as they are tracked: boxes, IoUs, timing."""

    def __init__(self, gt: Optional[np.ndarray]) -> None:
        self.gt = gt
        self.boxes: List[np.ndarray] = []
        self.ious: List[float] = []
        self.resized = 0
        self.track_seconds = 0.0
        self.frame_no = 0
        self.ended = False

    def gt_box(self) -> Optional[np.ndarray]:
        gt, k = self.gt, self.frame_no
        return gt[k] if gt is not None and k < len(gt) else None


def _track_frames(
    run: _Run,
    tracker,
    frames: Iterator[np.ndarray],
    first: np.ndarray,
    init_box: np.ndarray,
    writer: cv2.VideoWriter,
    max_frames: Optional[int],
    resize_frames: bool,
    bar,
) -> None:
    """Track from ``first`` on, drawing every frame into ``writer``."""
    from mmusot.visualization import draw_tracking

    height, width = first.shape[:2]
    frame = first
    while frame is not None:
        if frame.shape[:2] != (height, width):
            if not resize_frames:
                raise FrameError(
                    f'its size {frame.shape[1]}x{frame.shape[0]} '
                    f'differs from the first frame ({width}x{height}); '
                    'the tracker needs one size (--resize-frames '
                    "resizes such frames to the first frame's size)"
                )
            frame = cv2.resize(
                frame, (width, height), interpolation=cv2.INTER_AREA
            )
            run.resized += 1
        start = time.perf_counter()
        if run.frame_no == 0:
            tracker.init(frame, init_box)
            box, score = tracker.box, tracker.score
        else:
            box, score = tracker.track(frame)
        run.track_seconds += time.perf_counter() - start
        gt_box = run.gt_box()
        iou = iou_xywh(box, gt_box) if gt_box is not None else None
        if iou is not None:
            run.ious.append(iou)
        run.boxes.append(box)
        writer.write(
            draw_tracking(frame, run.frame_no, box, score, gt_box, iou)
        )
        if bar is not None:
            bar.update(1)
        run.frame_no += 1
        if max_frames is not None and run.frame_no >= max_frames:
            return
        frame = next(frames, None)
    run.ended = True


def track_video(
    source: FrameSource,
    build_tracker: Callable[[], object],
    init_box: Union[str, Sequence[float], None] = None,
    gt_path: Optional[str] = None,
    out: Optional[str] = None,
    out_txt: Optional[str] = None,
    max_frames: Optional[int] = None,
    fps: Optional[float] = None,
    resize_frames: bool = False,
) -> Dict:
    """Track one target through ``source``; write the video and the boxes.

    Everything that can be checked is checked before the tracker is built
    (the ground truth and its length for a folder, the first box, the
    first frame, the output paths). A frame that cannot be tracked
    (unreadable, another size) and a ground truth out of step with a
    video raise :class:`TrackingError` after the boxes tracked so far are
    written and the video is closed.

    Args:
        source (FrameSource): from :func:`open_source`.
        build_tracker (Callable): returns the tracker (e.g.
            ``lambda: load_tracker(config, checkpoint)``), called once the
            inputs are checked.
        init_box (str | Sequence[float], optional): the first box,
            ``'x,y,w,h'`` or four numbers. Defaults to the ground truth's
            first box.
        gt_path (str, optional): ground truth, one ``x,y,w,h`` line per
            frame. Defaults to an OTB-style folder's own.
        out (str, optional): the annotated video. Defaults to
            ``work_dirs/demo/<source name>.mp4``.
        out_txt (str, optional): the boxes. Defaults to ``out`` with
            ``.txt``.
        max_frames (int, optional): stop after this many frames.
        fps (float, optional): the video's frame rate. Defaults to the
            source's, else 30.
        resize_frames (bool): resize frames of another size than the first
            to its size instead of stopping. Defaults to False.

    Returns:
        dict: ``frames``, ``fps`` (model calls), ``overall_fps``,
        ``mean_iou`` and ``iou_frames`` (None / 0 without ground truth),
        ``video`` and ``boxes`` (the files written).

    Raises:
        TrackingError: a bad input or output (the message says which).
    """
    from mmusot.evaluation import write_track_results
    from mmusot.visualization import VisualizationError, open_video_writer

    gt_path = gt_path or source.gt_file
    gt = read_gt(gt_path) if gt_path else None
    if gt is not None:
        check_gt_length(gt, gt_path, source)
    frames = iter(source.frames)
    first, box = _first_frame(source, frames, _first_box(init_box, gt))
    out, out_txt = _output_paths(source, out, out_txt)
    tracker = build_tracker()
    height, width = first.shape[:2]
    try:
        writer = open_video_writer(
            out, fps or source.fps or DEFAULT_FPS, (width, height)
        )
    except VisualizationError as err:
        raise TrackingError(str(err)) from None
    total = source.length
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    bar = _progress(total)
    run = _Run(gt)
    start_all = time.perf_counter()
    failure: Optional[BaseException] = None
    try:
        _track_frames(
            run, tracker, frames, first, box, writer, max_frames,
            resize_frames, bar,
        )  # fmt: skip
    except BaseException as err:  # save what was tracked, then report
        failure = err
    finally:
        writer.release()
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start_all
    write_track_results(out_txt, np.array(run.boxes).reshape(-1, 4))
    _report(run, source, failure, gt_path, out, out_txt, (width, height))
    frames_done = len(run.boxes)
    return dict(
        frames=frames_done,
        fps=frames_done / run.track_seconds if run.track_seconds > 0 else None,
        overall_fps=frames_done / elapsed if elapsed > 0 else None,
        mean_iou=float(np.mean(run.ious)) if run.ious else None,
        iou_frames=len(run.ious),
        video=out,
        boxes=out_txt,
    )


def _report(
    run: _Run,
    source: FrameSource,
    failure: Optional[BaseException],
    gt_path: Optional[str],
    out: str,
    out_txt: str,
    size,
) -> None:
    """Raise the run's failure, or warn of what went unusually."""
    saved = (
        f'the {len(run.boxes)} boxes tracked before it are in {out_txt}, '
        f'the video up to it in {out}'
    )
    where = source.frame_label(run.frame_no)
    if isinstance(failure, (FrameError, ValueError, TypeError)):
        raise TrackingError(
            f'{where}: {failure}. Stopped there; {saved}'
        ) from None
    if failure is not None:
        print(f'error at {where}; {saved}', file=sys.stderr)
        raise failure
    if run.resized:
        print(
            f'warning: {run.resized} frames of another size were resized '
            f'to {size[0]}x{size[1]} (--resize-frames)',
            file=sys.stderr,
        )
    tracked = len(run.boxes)
    if run.ended and source.paths is None and source.length:
        if tracked < source.length:
            print(
                f'warning: {source.description} ended after {tracked} '
                f'frames, its header announces {source.length}: the rest '
                'could not be decoded (a damaged or truncated file?)',
                file=sys.stderr,
            )
    if run.gt is not None:
        mismatch = gt_mismatch(
            run.gt, gt_path, tracked, run.ended, source.description
        )
        if mismatch:
            raise TrackingError(
                f'{mismatch}. The {tracked} boxes are in {out_txt}, the '
                f'video in {out}'
            )


def _fps(value: Optional[float]) -> str:
    return 'n/a fps' if value is None else f'{value:.1f} fps'


def format_summary(summary: Dict, gt_path: Optional[str] = None) -> str:
    """The lines ``mmusot-track`` prints for :func:`track_video`'s
    summary: frames and speed, the mean IoU (with the ground truth of
    ``gt_path``), the files."""
    lines = [
        f'{summary["frames"]} frames; tracking {_fps(summary["fps"])} '
        f'(model calls), {_fps(summary["overall_fps"])} overall (with '
        'decoding and drawing)'
    ]
    if summary['mean_iou'] is not None:
        lines.append(
            f'mean IoU {summary["mean_iou"]:.3f} over '
            f'{summary["iou_frames"]} frames with ground truth '
            f'({gt_path})'
        )
    lines.append(f'video: {summary["video"]}\nboxes: {summary["boxes"]}')
    return '\n'.join(lines)
