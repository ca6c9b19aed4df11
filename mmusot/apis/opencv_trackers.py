# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""OpenCV's trackers behind the :class:`~mmusot.apis.Tracker` interface.

Baselines for benchmarks: MIL (in every OpenCV build), KCF and CSRT (only
with opencv-contrib, an optional extra), and NanoTrack (OpenCV >= 4.7,
given its two ONNX files). ``init(frame, box)`` and ``track(frame) ->
(box, score)`` work as for the mmtrack models, so the same benchmark loop
runs both.
"""

import ctypes
import os.path as osp
from typing import Callable, Optional

import cv2
import numpy as np

from ..tracking import INIT_SCORE
from .tracker import BoxLike, TrackResult, check_box, check_frame

#: Tracker kinds and their OpenCV class names.
OPENCV_TRACKERS = {
    'MIL': 'TrackerMIL',
    'KCF': 'TrackerKCF',
    'CSRT': 'TrackerCSRT',
    'NanoTrack': 'TrackerNano',
}
#: NanoTrack's two networks (file names in the model folder).
NANOTRACK_BACKBONE = 'nanotrack_backbone_sim.onnx'
NANOTRACK_HEAD = 'nanotrack_head_sim.onnx'
#: ``cv2.setRNGSeed`` value before each init: OpenCV maps 0 to the
#: initial state of its generator.
OPENCV_RNG_SEED = 0
#: ``srand`` value of a fresh C library (MIL draws its Haar features with
#: C's ``rand()``).
C_RAND_SEED = 1
#: Score of a successful update for trackers without a score (MIL, KCF,
#: CSRT report only success or failure).
SUCCESS_SCORE, FAILURE_SCORE = 1.0, 0.0


def reset_random_state() -> bool:
    """Put OpenCV's and the C library's random generators in their
    start-up state, so that a tracker gives what it gives in a fresh
    process, whatever ran before (MIL samples patches with OpenCV's
    generator and draws Haar features with C's ``rand()``).

    Returns:
        bool: whether the C generator could be reset too (through ctypes;
        not possible on every platform).
    """
    cv2.setRNGSeed(OPENCV_RNG_SEED)
    try:
        ctypes.CDLL(None).srand(C_RAND_SEED)
    except (OSError, AttributeError, TypeError):
        return False
    return True


def opencv_factory(kind: str) -> Optional[Callable]:
    """The ``create`` function of an OpenCV tracker, or None if absent.

    Looks for ``cv2.<Class>_create``, ``cv2.<Class>.create`` and the
    contrib ``cv2.legacy`` variants.

    Args:
        kind (str): a key of ``OPENCV_TRACKERS``.

    Returns:
        Callable | None: the factory.

    Raises:
        KeyError: unknown kind.
    """
    if kind not in OPENCV_TRACKERS:
        raise KeyError(
            f'unknown OpenCV tracker {kind!r}; known: {list(OPENCV_TRACKERS)}'
        )
    name = OPENCV_TRACKERS[kind]
    for module in (cv2, getattr(cv2, 'legacy', None)):
        if module is None:
            continue
        factory = getattr(module, f'{name}_create', None)
        if factory is None:
            factory = getattr(getattr(module, name, None), 'create', None)
        if factory is not None:
            return factory
    return None


def nanotrack_files(model_dir: str) -> tuple:
    """The backbone and head ONNX files of a NanoTrack folder.

    Raises:
        FileNotFoundError: naming the missing file.
    """
    files = (
        osp.join(model_dir, NANOTRACK_BACKBONE),
        osp.join(model_dir, NANOTRACK_HEAD),
    )
    for path in files:
        if not osp.isfile(path):
            raise FileNotFoundError(f'NanoTrack model file not found: {path}')
    return files


class OpenCVTracker:
    """One OpenCV tracker, with mmusot's ``init``/``track`` interface.

    OpenCV starts from an integer rectangle: the init box values are cut
    to integers with ``int()`` (truncation, as OpenCV's Python samples do),
    width and height at least 1. This is how the reference sot_eval
    numbers were made: NanoTrack gives them exactly (69.5 / 93.1 success
    AUC / precision@20; rounding gives 69.6 / 93.0).

    The random generators are reset at each :meth:`init`
    (:func:`reset_random_state`): MIL is randomised, and its results then
    do not depend on what ran before in the process, so cached and fresh
    sequences agree. (Carrying the generators over from sequence to
    sequence, in name order, gives the reference MIL numbers, 33.2 / 50.1;
    with the reset MIL gets 34.4 / 50.0.)

    The box OpenCV returns is used even when it reports a failure
    (NanoTrack still moves its box then); when it returns no box with an
    area, the previous box is kept, as OPE needs a box on every frame.

    Args:
        kind (str): ``'MIL'``, ``'KCF'``, ``'CSRT'`` or ``'NanoTrack'``.
        nanotrack_dir (str, optional): folder with NanoTrack's two ONNX
            files (required for ``'NanoTrack'``).

    Raises:
        RuntimeError: this OpenCV build lacks the tracker (KCF and CSRT
            need opencv-contrib).
        FileNotFoundError: NanoTrack's model files are missing.
    """

    def __init__(self, kind: str, nanotrack_dir: Optional[str] = None):
        factory = opencv_factory(kind)
        if factory is None:
            hint = (
                ' (it is in opencv-contrib-python)'
                if kind in ('KCF', 'CSRT')
                else ''
            )
            raise RuntimeError(
                f'OpenCV {cv2.__version__} has no {OPENCV_TRACKERS[kind]}'
                f'{hint}'
            )
        self.kind = kind
        self._factory = factory
        self._params = None
        if kind == 'NanoTrack':
            if nanotrack_dir is None:
                raise FileNotFoundError(
                    'NanoTrack needs the folder of its ONNX files'
                )
            backbone, head = nanotrack_files(nanotrack_dir)
            self._params = cv2.TrackerNano_Params()
            self._params.backbone = backbone
            self._params.neckhead = head
        self._tracker = None
        self.box: Optional[np.ndarray] = None
        self.score: Optional[float] = None

    def init(self, frame: np.ndarray, box: BoxLike) -> None:
        """Start on ``box`` (``[x, y, w, h]``) in ``frame`` (BGR uint8).

        The previous target is dropped first: after a failed call the
        tracker is not initialised and :meth:`track` raises (as for
        :meth:`mmusot.apis.Tracker.init`).
        """
        self._tracker = None
        self.box, self.score = None, None
        frame = check_frame(frame)
        box = check_box(box, frame.shape)
        x, y, w, h = (int(v) for v in box)
        rect = (x, y, max(w, 1), max(h, 1))
        reset_random_state()
        self._tracker = (
            self._factory(self._params)
            if self._params is not None
            else self._factory()
        )
        self._tracker.init(frame, rect)
        self.box, self.score = box.copy(), INIT_SCORE

    def track(self, frame: np.ndarray) -> TrackResult:
        """Update on the next frame.

        Returns:
            tuple[np.ndarray, float]: the box (4,) ``[x, y, w, h]``
            float64 and a score (NanoTrack's tracking score; 1 / 0 for
            success / failure of the others).
        """
        if self._tracker is None:
            raise RuntimeError(
                f'{self.kind}: track called before init (or after an init '
                'that failed): call init with a frame and a box first'
            )
        ok, rect = self._tracker.update(check_frame(frame))
        rect = np.asarray(rect, dtype=np.float64).reshape(-1)
        if rect.size == 4 and rect[2] > 0 and rect[3] > 0:
            self.box = rect
        if self.kind == 'NanoTrack':
            self.score = float(self._tracker.getTrackingScore())
        else:
            self.score = SUCCESS_SCORE if ok else FAILURE_SCORE
        return self.box.copy(), self.score
