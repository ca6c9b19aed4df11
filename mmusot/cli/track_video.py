# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track one object in a video, a frame folder or a webcam stream.

Writes an annotated mp4 (the box, its score, the frame number and, when
ground truth is given, the ground-truth box and the live IoU) and a text
file with one ``x,y,w,h`` box per frame; prints the speed and the mean IoU.
Runs headless (nothing is shown on screen).

The first box comes from ``--init-box x,y,w,h``, else from the first line
of ``--gt FILE``, else, for an OTB-style sequence folder
(``<seq>/img/*.jpg`` + ``<seq>/groundtruth_rect.txt``), from its
ground-truth file, which also gives the live IoU.

Examples::

    python tools/demo.py clip.mp4 --init-box 120,80,60,90 \\
        --config configs/usot/usot_r50_test-otb-folder.py \\
        --checkpoint usot.pth
    python tools/demo.py ../shared/data/sot_eval/Crossing \\
        --config CONFIG --checkpoint CKPT        # OTB folder: box + IoU
    python tools/demo.py frames/ --gt frames_gt.txt --config ... --out a.mp4
    python tools/demo.py --webcam 0 --init-box 200,150,80,80 \\
        --max-frames 300 --config ... --checkpoint ...

Any mmtrack SOT config works (``mmtrack::sot/...`` names too); without
``--checkpoint`` the model has the config's initial weights (only useful
to check the plumbing).

Checks, so that nothing comes out silently wrong:

* the ground truth must have one box per frame: a folder whose frame
  count differs from its ground-truth lines is refused before tracking
  (as ``tools/test.py`` refuses it), a video whose frames turn out to
  outnumber, or to fall short of, the ``--gt`` lines is an error once
  that is known (the boxes tracked are still written);
* the output files are checked before the model is built (a folder where
  a file is expected, a folder that cannot be created or written);
* a frame that cannot be read (a damaged or empty image file) or that has
  another size than the first frame stops the run with an error naming
  the frame; the boxes and the video up to it are written first.
  ``--resize-frames`` resizes frames of another size to the first
  frame's size instead (boxes are then in the first frame's pixels);
* the first box must lie in the first frame: its centre inside, and not
  larger than the frame (:func:`mmusot.apis.check_box`; a box may stick
  out on one side, for a target partly out of view).
"""

import argparse
import os
import os.path as osp
import re
import sys
import time
from typing import Iterator, List, Optional

import cv2
import numpy as np

from mmusot.cli.tracker_args import add_allow_partial_arg
from mmusot.package_data import CONFIG_DIR

#: USOT-MobileNetV2, the model `make demo` and the CPU configs train.
DEFAULT_CONFIG = osp.join(
    CONFIG_DIR, 'usot', 'usot_mobilenetv2_test-otb-folder.py'
)
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
OTB_IMG_DIR = 'img'
OTB_GT_NAME = 'groundtruth_rect.txt'
#: Output frame rate when the source does not tell one (webcams, folders).
DEFAULT_FPS = 30.0
#: Drawing: BGR colours, line width and text size relative to the frame.
PRED_COLOR = (0, 0, 255)
GT_COLOR = (0, 255, 0)
TEXT_COLOR = (255, 255, 255)
LINE_WIDTH_FRACTION = 1 / 300
TEXT_SCALE_FRACTION = 1 / 900
MIN_TEXT_SCALE = 0.4


class DemoError(Exception):
    """Bad input: the message is shown to the user, the exit code is 1."""


class FrameError(DemoError):
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
        raise DemoError(f'cannot open {description}')
    ok, first = capture.read()
    if not ok or first is None:
        capture.release()
        raise DemoError(f'cannot read a frame from {description}')
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
        raise DemoError(
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


def open_source(args: argparse.Namespace) -> FrameSource:
    """The frame source the arguments name."""
    if args.webcam is not None:
        return open_capture(args.webcam, f'webcam {args.webcam}')
    if not osp.exists(args.input):
        raise DemoError(f'input not found: {args.input}')
    if osp.isdir(args.input):
        return open_folder(args.input)
    return open_capture(args.input, f'video {args.input}')


# ------------------------------------------------------------------ boxes
def parse_box(text: str) -> np.ndarray:
    """``'x,y,w,h'`` (commas or spaces) → (4,) float64."""
    fields = [v for v in re.split(r'[,\s]+', text.strip()) if v]
    try:
        values = [float(v) for v in fields]
    except ValueError:
        values = []
    if len(values) != 4:
        raise DemoError(
            f'--init-box must be x,y,w,h (4 numbers), got {text!r}'
        )
    return np.array(values)


def read_gt(path: str) -> np.ndarray:
    """A ground-truth file: one ``x,y,w,h`` line per frame."""
    from mmusot.datasets.otb_folder_dataset import parse_groundtruth

    if not osp.isfile(path):
        raise DemoError(f'ground-truth file not found: {path}')
    try:
        return parse_groundtruth(path, osp.basename(path))
    except ValueError as err:
        raise DemoError(str(err)) from None


def check_gt_length(gt: np.ndarray, gt_path: str, source: FrameSource) -> None:
    """Refuse a folder whose frame count differs from its ground truth.

    A missing or extra frame puts every later box out of step with its
    ground truth (the scores would compare shifted boxes), so this is an
    error, as in ``tools/test.py`` (``OTBFolderDataset``). Videos are
    checked while they are read (their frame count is only an estimate).

    Raises:
        DemoError: naming the folder, the file and both counts.
    """
    if source.paths is None or len(gt) == len(source.paths):
        return
    kind = 'short' if len(gt) < len(source.paths) else 'long'
    raise DemoError(
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
        DemoError: ``path`` is a folder, its folder cannot be created, or
            is not writable.
    """
    if osp.isdir(path):
        raise DemoError(
            f'{what} {path} is a folder; give a file name (e.g. '
            f'{osp.join(path, "out" + (osp.splitext(path)[1] or ".mp4"))})'
        )
    folder = osp.dirname(osp.abspath(path))
    parent = folder
    while not osp.exists(parent):
        parent = osp.dirname(parent)
    if not osp.isdir(parent):
        raise DemoError(
            f'cannot write {what} {path}: {parent} is a file, not a folder'
        )
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise DemoError(
            f'cannot create the folder of {what} {path}: {err.strerror}'
        ) from None
    existed = osp.exists(path)
    try:
        with open(path, 'ab'):
            pass
    except OSError as err:
        raise DemoError(
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


# ---------------------------------------------------------------- drawing
def draw(
    frame: np.ndarray,
    frame_no: int,
    box: np.ndarray,
    score: float,
    gt: Optional[np.ndarray],
    iou: Optional[float],
) -> np.ndarray:
    """The annotated frame: ground truth (green), prediction (red), text."""
    out = frame.copy()
    height, width = out.shape[:2]
    thickness = max(1, int(round(max(height, width) * LINE_WIDTH_FRACTION)))
    scale = max(MIN_TEXT_SCALE, max(height, width) * TEXT_SCALE_FRACTION)
    for b, color in ((gt, GT_COLOR), (box, PRED_COLOR)):
        if b is not None and np.isfinite(b).all() and b[2] > 0 and b[3] > 0:
            x, y, w, h = (int(round(v)) for v in b)
            cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
    text = f'#{frame_no}  ' + (
        'init' if frame_no == 0 else f'score {score:.3f}'
    )
    if iou is not None:
        text += f'  IoU {iou:.2f}'
    origin = (5, int(30 * scale) + 5)
    # a dark outline under the text keeps it readable on any background
    for color, width in (((0, 0, 0), thickness + 2), (TEXT_COLOR, thickness)):
        cv2.putText(
            out,
            text,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            color,
            width,
            cv2.LINE_AA,
        )
    return out


# -------------------------------------------------------------------- CLI
def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Track one object in a video, a frame folder or a '
        'webcam; write an annotated mp4 and the boxes.'
    )
    parser.add_argument(
        'input',
        nargs='?',
        help='video file, image folder or OTB-style sequence folder',
    )
    parser.add_argument(
        '--webcam', type=int, help='webcam index (instead of an input)'
    )
    parser.add_argument('--init-box', help='first box: x,y,w,h in pixels')
    parser.add_argument(
        '--gt', help='ground truth: one x,y,w,h line per frame'
    )
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='tracker config (default: USOT-MobileNetV2 test config)',
    )
    parser.add_argument('--checkpoint', help='tracker weights')
    add_allow_partial_arg(parser)
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    parser.add_argument(
        '--out',
        help='annotated video (default: work_dirs/demo/<input name>.mp4)',
    )
    parser.add_argument(
        '--out-txt',
        help='boxes, x,y,w,h per line (default: the video name with .txt)',
    )
    parser.add_argument('--max-frames', type=int, help='stop after N frames')
    parser.add_argument(
        '--fps', type=float, help='output video frame rate (default: input)'
    )
    parser.add_argument(
        '--resize-frames',
        action='store_true',
        help='resize frames whose size differs from the first frame to its '
        'size (boxes are then in pixels of the first frame); by default '
        'such a frame stops the run with an error (the boxes so far are '
        'written)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides key=value (as tools/test.py)',
    )
    args = parser.parse_args(argv)
    if (args.input is None) == (args.webcam is None):
        parser.error('give either an input (video/folder) or --webcam N')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error('--max-frames must be >= 1')
    return args


def _progress(total: Optional[int]):
    try:
        from tqdm import tqdm
    except ImportError:  # optional: no bar without tqdm
        return None
    return tqdm(total=total, unit='frame', dynamic_ncols=True)


def _fps(value: Optional[float]) -> str:
    return 'n/a fps' if value is None else f'{value:.1f} fps'


def run(args: argparse.Namespace) -> dict:
    """Run the demo; raises :class:`DemoError` on bad input.

    A frame that cannot be tracked (unreadable, another size) and a
    ground truth out of step with a video raise :class:`DemoError` after
    the boxes tracked so far are written and the video is closed.
    """
    from mmusot.apis import Tracker, check_box
    from mmusot.apis.builder import DeviceError
    from mmusot.utils.safe_load import CheckpointLoadError

    source = open_source(args)
    gt_path = args.gt or source.gt_file
    gt = read_gt(gt_path) if gt_path else None
    if gt is not None:
        check_gt_length(gt, gt_path, source)
    if args.init_box is not None:
        init_box = parse_box(args.init_box)
    elif gt is not None:
        init_box = gt[0]
    else:
        raise DemoError(
            'no initial box: give --init-box x,y,w,h, or --gt FILE (its '
            'first line is used)'
        )
    frames = iter(source.frames)
    try:
        first = next(frames)
    except FrameError as err:
        raise DemoError(f'{source.frame_label(0)}: {err}') from None
    try:
        init_box = check_box(init_box, first.shape)
    except ValueError as err:
        raise DemoError(f'initial box: {err}') from None

    out = args.out or osp.join('work_dirs', 'demo', f'{source.name}.mp4')
    out_txt = args.out_txt or osp.splitext(out)[0] + '.txt'
    if osp.abspath(out) == osp.abspath(out_txt):
        raise DemoError(
            f'the video and the boxes would both be written to {out}; give '
            '--out-txt another name'
        )
    check_output(out, 'output video')
    check_output(out_txt, 'boxes file')
    try:
        tracker = Tracker.from_config(
            args.config,
            args.checkpoint,
            args.device,
            args.cfg_options,
            allow_partial=args.allow_partial,
        )
    except (FileNotFoundError, CheckpointLoadError, DeviceError) as err:
        raise DemoError(str(err)) from None

    if args.checkpoint is None:
        print(
            "warning: no --checkpoint: the tracker has its config's "
            'initial weights, its boxes mean nothing',
            file=sys.stderr,
        )
    height, width = first.shape[:2]
    fps_out = args.fps or source.fps or DEFAULT_FPS
    writer = cv2.VideoWriter(
        out, cv2.VideoWriter_fourcc(*'mp4v'), fps_out, (width, height)
    )
    if not writer.isOpened():
        raise DemoError(
            f'cannot write video {out} (OpenCV writes mp4v: give a .mp4, '
            '.mov or .avi name)'
        )
    total = source.length
    if args.max_frames is not None:
        total = min(total or args.max_frames, args.max_frames)
    bar = _progress(total)
    boxes, ious = [], []
    resized = 0
    track_seconds = 0.0
    start_all = time.perf_counter()
    frame_no = 0
    ended = False
    failure: Optional[BaseException] = None
    try:
        frame = first
        while frame is not None:
            if frame.shape[:2] != (height, width):
                if not args.resize_frames:
                    raise FrameError(
                        f'its size {frame.shape[1]}x{frame.shape[0]} '
                        f'differs from the first frame ({width}x{height}); '
                        'the tracker needs one size (--resize-frames '
                        "resizes such frames to the first frame's size)"
                    )
                frame = cv2.resize(
                    frame, (width, height), interpolation=cv2.INTER_AREA
                )
                resized += 1
            start = time.perf_counter()
            if frame_no == 0:
                tracker.init(frame, init_box)
                box, score = tracker.box, tracker.score
            else:
                box, score = tracker.track(frame)
            track_seconds += time.perf_counter() - start
            gt_box = (
                gt[frame_no] if gt is not None and frame_no < len(gt) else None
            )
            iou = iou_xywh(box, gt_box) if gt_box is not None else None
            if iou is not None:
                ious.append(iou)
            boxes.append(box)
            writer.write(draw(frame, frame_no, box, score, gt_box, iou))
            if bar is not None:
                bar.update(1)
            frame_no += 1
            if args.max_frames is not None and frame_no >= args.max_frames:
                break
            frame = next(frames, None)
        else:
            ended = True
    except BaseException as err:  # save what was tracked, then report
        failure = err
    finally:
        writer.release()
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - start_all
    from mmusot.evaluation import write_track_results

    write_track_results(out_txt, np.array(boxes).reshape(-1, 4))
    saved = (
        f'the {len(boxes)} boxes tracked before it are in {out_txt}, the '
        f'video up to it in {out}'
    )
    if isinstance(failure, (FrameError, ValueError, TypeError)):
        raise DemoError(
            f'{source.frame_label(frame_no)}: {failure}. Stopped there; '
            f'{saved}'
        ) from None
    if failure is not None:
        print(
            f'error at {source.frame_label(frame_no)}; {saved}',
            file=sys.stderr,
        )
        raise failure
    if resized:
        print(
            f'warning: {resized} frames of another size were resized to '
            f'{width}x{height} (--resize-frames)',
            file=sys.stderr,
        )
    if ended and source.paths is None and source.length:
        if len(boxes) < source.length:
            print(
                f'warning: {source.description} ended after {len(boxes)} '
                f'frames, its header announces {source.length}: the rest '
                'could not be decoded (a damaged or truncated file?)',
                file=sys.stderr,
            )
    if gt is not None:
        mismatch = gt_mismatch(
            gt, gt_path, len(boxes), ended, source.description
        )
        if mismatch:
            raise DemoError(
                f'{mismatch}. The {len(boxes)} boxes are in {out_txt}, the '
                f'video in {out}'
            )
    summary = dict(
        frames=len(boxes),
        fps=len(boxes) / track_seconds if track_seconds > 0 else None,
        overall_fps=len(boxes) / elapsed if elapsed > 0 else None,
        mean_iou=float(np.mean(ious)) if ious else None,
        iou_frames=len(ious),
        video=out,
        boxes=out_txt,
    )
    print(
        f'{summary["frames"]} frames; tracking {_fps(summary["fps"])} '
        f'(model calls), {_fps(summary["overall_fps"])} overall (with '
        'decoding and drawing)'
    )
    if summary['mean_iou'] is not None:
        print(
            f'mean IoU {summary["mean_iou"]:.3f} over {len(ious)} frames '
            f'with ground truth ({gt_path})'
        )
    print(f'video: {out}\nboxes: {out_txt}')
    return summary


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the tool; returns the summary (exits with 1 on a bad input)."""
    args = parse_args(argv)
    try:
        return run(args)
    except DemoError as err:
        sys.exit(f'error: {err}')


def cli_main(argv: Optional[List[str]] = None) -> int:
    """Console entry point ``mmusot-track``: exit status 0 on success."""
    main(argv)
    return 0
