# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track objects in frames held in memory, as ``tools/test.py`` would.

:class:`Tracker` follows one target, :class:`MultiTracker` several targets
with one network. Both feed the model exactly what the test Runner feeds
it for an OPE benchmark (mmtrack's ``BaseSingleObjectTracker.predict``,
one frame at a time):

1. what ``LoadImageFromFile`` produces: the frame as (H, W, 3) uint8 BGR
   (grey frames are expanded to 3 channels, as ``cv2.imread`` does for a
   grey JPEG), ``img_shape`` and ``ori_shape`` ``(H, W)``;
2. ``instances``: the init box (``[x1, y1, x2, y2]``, float64) on the
   first frame; no box afterwards (OPE trackers only read the first);
3. the rest of the config's test pipeline (``LoadTrackAnnotations``,
   ``PackTrackInputs(pack_single_img=True)``), ``pseudo_collate`` (the
   Runner's default ``collate_fn``), then ``model.test_step`` (the
   ``TrackDataPreprocessor``, then ``model.predict``) under
   ``torch.no_grad``.

So, for the same weights and the same first box, the boxes equal those
``tools/test.py`` reports for the sequence. Boxes are given and returned
in the convention of the config's datasets (e.g. a USOT config with
``test_cfg.one_based_gt=True`` takes and reports 1-based OTB boxes).

Per-target state is the model's ``memo`` (mmtrack's
``BaseSingleObjectTracker`` keeps a video's state there): each tracker
object holds its own and swaps it into the model around each call, so
several trackers (or targets) can share one network instance.
"""

import math
from typing import (
    Callable,
    Dict,
    Hashable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import cv2
import numpy as np
import torch
from mmengine.config import Config

#: The test-pipeline transforms the tracker replaces (it gets decoded
#: frames, not files).
IMAGE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile')
#: The pipeline used when a config has no ``test_dataloader``: mmtrack's
#: SOT test pipeline without its image loader.
DEFAULT_INFERENCE_PIPELINE = (
    dict(type='LoadTrackAnnotations', with_instance_id=False),
    dict(type='PackTrackInputs', pack_single_img=True),
)
#: Model attributes that hold one video's tracking state.
STATE_ATTRIBUTES = ('memo',)
#: Score reported for the frame a target is initialised on (mmtrack).
INIT_SCORE = -1.0

BoxLike = Union[Sequence[float], np.ndarray]
TrackResult = Tuple[np.ndarray, float]


# ---------------------------------------------------------------- checks
def check_frame(frame: np.ndarray) -> np.ndarray:
    """A frame as ``LoadImageFromFile`` gives it: (H, W, 3) uint8 BGR.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 BGR as OpenCV reads it, or a
            grey (H, W) / (H, W, 1) uint8 image.

    Returns:
        np.ndarray: of shape (H, W, 3), uint8, C-contiguous.

    Raises:
        TypeError: not a uint8 numpy array.
        ValueError: empty, or not 1 or 3 channels.
    """
    if not isinstance(frame, np.ndarray):
        raise TypeError(
            f'a frame must be a numpy array, got {type(frame).__name__}'
        )
    if frame.dtype != np.uint8:
        raise TypeError(
            'a frame must be uint8 (as cv2.imread / VideoCapture give it), '
            f'got {frame.dtype}'
        )
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            'a frame must be (H, W, 3) BGR or (H, W) grey, got shape '
            f'{frame.shape}'
        )
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f'empty frame of shape {frame.shape}')
    return np.ascontiguousarray(frame)


def check_box(box: BoxLike, frame_shape: Sequence[int]) -> np.ndarray:
    """Validate an ``[x, y, w, h]`` box against the frame it starts in.

    A box may stick out of the frame (a target partly out of view) as long
    as its centre lies inside; a box wider or taller than the whole frame
    is refused: no target seen in the frame is larger than the frame, so
    such a box is a mistake (coordinates for another resolution, x2,y2
    given as w,h ...), and clipping it would silently start the tracker on
    a box the user never drew.

    Args:
        box (Sequence[float] | np.ndarray): ``[x, y, w, h]``: top-left
            corner and size, pixels.
        frame_shape (Sequence[int]): ``(H, W, ...)`` of the frame.

    Returns:
        np.ndarray: of shape (4,), float64, ``[x, y, w, h]``.

    Raises:
        ValueError: not 4 numbers, not finite, zero or negative width or
            height, its centre outside the frame, or wider or taller than
            the frame.
    """
    try:
        values = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(
            f'box must be 4 numbers x, y, w, h; got {box!r}'
        ) from None
    if values.size != 4:
        raise ValueError(
            f'box must be 4 numbers x, y, w, h; got {values.size}: {box!r}'
        )
    x, y, w, h = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f'box x, y, w, h is not finite: {values.tolist()}')
    if w <= 0 or h <= 0:
        raise ValueError(
            f'box has no area: w={w:g}, h={h:g} (x, y, w, h = '
            f'{values.tolist()})'
        )
    height, width = int(frame_shape[0]), int(frame_shape[1])
    cx, cy = x + w / 2, y + h / 2
    if not (0 <= cx < width and 0 <= cy < height):
        raise ValueError(
            f'box x, y, w, h = {values.tolist()} is outside the '
            f'{width}x{height} frame (its centre ({cx:g}, {cy:g}) must lie '
            'inside it)'
        )
    if w > width or h > height:
        raise ValueError(
            f'box x, y, w, h = {values.tolist()} is {w:g}x{h:g}, larger than '
            f'the {width}x{height} frame; give a box in pixels of this frame '
            '(x, y, w, h: top-left corner, width, height), clipped to the '
            'frame if the target fills the view'
        )
    return values


def xywh_to_xyxy(box: np.ndarray) -> np.ndarray:
    """``[x, y, w, h]`` → ``[x1, y1, x2, y2]`` (float64, as the datasets)."""
    box = np.asarray(box, dtype=np.float64)
    return np.concatenate((box[..., :2], box[..., :2] + box[..., 2:]), -1)


def xyxy_to_xywh(box: np.ndarray) -> np.ndarray:
    """``[x1, y1, x2, y2]`` → ``[x, y, w, h]`` (float64)."""
    box = np.asarray(box, dtype=np.float64)
    return np.concatenate((box[..., :2], box[..., 2:] - box[..., :2]), -1)


# ------------------------------------------------------------ the engine
class InferenceEngine:
    """One model, its test pipeline, and per-target state swapping.

    Shared by :class:`Tracker` and :class:`MultiTracker`; use those.

    Args:
        model (torch.nn.Module): an mmtrack single object tracker (from
            :func:`~mmusot.apis.build_tracker`, or any model with
            ``test_step`` and ``cfg``).
        pipeline (list[dict], optional): the transforms after image
            loading. Defaults to the config's test pipeline without
            ``LoadImageFromFile`` (or mmtrack's SOT test pipeline when the
            config has no ``test_dataloader``, or the model no ``cfg``).
    """

    def __init__(
        self, model: torch.nn.Module, pipeline: Optional[List[dict]] = None
    ) -> None:
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope

        self.model = model
        cfg = getattr(model, 'cfg', None)
        if pipeline is None:
            pipeline = inference_pipeline(cfg)
        scope = cfg.get('default_scope', 'mmtrack') if cfg else 'mmtrack'
        init_default_scope(scope)
        self.pipeline = Compose([dict(t) for t in pipeline])
        self._use_ope()

    def _use_ope(self) -> None:
        """Without ground truth only OPE is possible (VOT resets need it)."""
        from mmengine.logging import print_log

        test_cfg = getattr(self.model, 'test_cfg', None)
        if test_cfg is not None and test_cfg.get('test_mode') == 'VOT':
            print_log(
                "test_cfg.test_mode 'VOT' needs the ground truth of every "
                "frame; tracking with 'OPE' instead",
                logger='current',
            )
            test_cfg['test_mode'] = 'OPE'

    def pack(
        self,
        frame: np.ndarray,
        frame_id: int,
        init_box: Optional[np.ndarray] = None,
    ) -> dict:
        """One frame through the pipeline, collated as the Runner does.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR (see
                :func:`check_frame`).
            frame_id (int): frames since the target's first frame.
            init_box (np.ndarray, optional): (4,) ``[x, y, w, h]``, on the
                first frame only.

        Returns:
            dict: ``inputs`` and ``data_samples`` (one
            ``TrackDataSample``), before the data preprocessor.
        """
        from mmengine.dataset import pseudo_collate

        shape = frame.shape[:2]
        instances = []
        if init_box is not None:
            instances.append(
                dict(
                    bbox=xywh_to_xyxy(init_box),
                    bbox_label=np.array([0], dtype=np.int32),
                    visible=True,
                )
            )
        results = dict(
            img=frame,
            img_shape=shape,
            ori_shape=shape,
            frame_id=frame_id,
            video_id=0,
            instances=instances,
        )
        return pseudo_collate([self.pipeline(results)])

    def predict(self, batch: dict, state: dict):
        """``model.test_step`` on one packed frame, in a target's state.

        Args:
            batch (dict): from :meth:`pack`.
            state (dict): the target's saved model attributes (see
                ``STATE_ATTRIBUTES``); updated in place.

        Returns:
            TrackDataSample: with ``pred_track_instances``.
        """
        with self.swapped_in(state), torch.no_grad():
            return self.model.test_step(batch)[0]

    def swapped_in(self, state: dict) -> '_StateSwap':
        """Context manager: ``state`` becomes the model's, and back."""
        return _StateSwap(self.model, state)


class _StateSwap:
    """Swap per-target attributes into a model for one call."""

    def __init__(self, model: torch.nn.Module, state: dict) -> None:
        self.model = model
        self.state = state
        self.saved: Dict[str, object] = {}

    def __enter__(self) -> dict:
        for name in STATE_ATTRIBUTES:
            if hasattr(self.model, name):
                self.saved[name] = getattr(self.model, name)
            if name in self.state:
                setattr(self.model, name, self.state[name])
            elif hasattr(self.model, name):
                delattr(self.model, name)
        return self.state

    def __exit__(self, *exc) -> None:
        for name in STATE_ATTRIBUTES:
            if hasattr(self.model, name):
                self.state[name] = getattr(self.model, name)
                delattr(self.model, name)
            if name in self.saved:
                setattr(self.model, name, self.saved[name])


def inference_pipeline(cfg: Optional[Config]) -> List[dict]:
    """The config's test pipeline without its image loader.

    Args:
        cfg (Config, optional): a tracker config.

    Returns:
        list[dict]: transform configs, starting after ``LoadImageFromFile``.
    """
    pipeline = None
    if cfg is not None:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
    if not pipeline:
        return [dict(t) for t in DEFAULT_INFERENCE_PIPELINE]
    return [dict(t) for t in pipeline if t.get('type') not in IMAGE_LOADERS]


def _result(sample) -> TrackResult:
    pred = sample.pred_track_instances
    box = pred.bboxes[0].detach().cpu().double().numpy()
    score = float(pred.scores[0])
    return xyxy_to_xywh(box), score


# ------------------------------------------------------------ trackers
class _Wrapper:
    """What :class:`Tracker` and :class:`MultiTracker` share: the engine."""

    engine: InferenceEngine

    @classmethod
    def from_config(
        cls,
        config: Union[str, Config],
        checkpoint: Optional[str] = None,
        device: Union[str, torch.device] = 'cpu',
        cfg_options: Optional[dict] = None,
        allow_partial: bool = False,
    ) -> '_Wrapper':
        """Build the model (:func:`~mmusot.apis.build_tracker`) and wrap it.

        Args:
            config (str | Config): config file, ``package::path`` name or
                ``Config``.
            checkpoint (str, optional): weights; without, the config's
                ``init_cfg``. Defaults to None.
            device (str | torch.device): Defaults to 'cpu'.
            cfg_options (dict, optional): config overrides.
            allow_partial (bool): load a checkpoint that does not fit the
                network (see :func:`~mmusot.apis.build_tracker`). Defaults
                to False: such a checkpoint is an error.

        Returns:
            Tracker | MultiTracker: a tracker not yet initialised, or a
            multi-tracker with no target yet.

        Raises:
            CheckpointLoadError: the checkpoint cannot be read, does not fit
                the network or holds non-finite weights.
            DeviceError: ``device`` is not on this machine.
        """
        from .builder import build_tracker

        return cls(
            build_tracker(
                config,
                checkpoint,
                device,
                cfg_options,
                allow_partial=allow_partial,
            )
        )

    @property
    def model(self) -> torch.nn.Module:
        """torch.nn.Module: the network."""
        return self.engine.model


class Tracker(_Wrapper):
    """Follow one target through frames, with any mmtrack SOT model.

    Example::

        tracker = Tracker.from_config('configs/usot/usot_r50_test-'
                                      'otb-folder.py', 'usot.pth')
        tracker.init(first_frame, (x, y, w, h))
        for frame in frames:
            (x, y, w, h), score = tracker.track(frame)

    Args:
        model (torch.nn.Module): from :func:`~mmusot.apis.build_tracker`.
        pipeline (list[dict], optional): see :class:`InferenceEngine`.
    """

    def __init__(
        self, model: torch.nn.Module, pipeline: Optional[List[dict]] = None
    ) -> None:
        self.engine = InferenceEngine(model, pipeline)
        self._state: dict = {}
        self._frame_id = -1
        self._shape: Optional[Tuple[int, int]] = None
        self.box: Optional[np.ndarray] = None
        self.score: Optional[float] = None

    @property
    def frame_id(self) -> int:
        """int: frames since :meth:`init` (0 on the init frame, -1 before)."""
        return self._frame_id

    def init(self, frame: np.ndarray, box: BoxLike) -> None:
        """Start tracking ``box`` in ``frame`` (restarts if already on).

        The previous target is dropped first: when this call fails (a bad
        frame or box, or a model error), the tracker is left not
        initialised, and :meth:`track` raises until an :meth:`init`
        succeeds. It never goes on following the old target as if the new
        one had been taken.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR or (H, W) uint8 grey.
            box (Sequence[float]): ``[x, y, w, h]``, pixels.

        Raises:
            TypeError / ValueError: bad frame (:func:`check_frame`) or box
                (:func:`check_box`).
        """
        self._reset()
        frame = check_frame(frame)
        box = check_box(box, frame.shape)
        state: dict = {}
        sample = self.engine.predict(self.engine.pack(frame, 0, box), state)
        self._state = state
        self._frame_id = 0
        self._shape = frame.shape[:2]
        self.box, self.score = _result(sample)

    def _reset(self) -> None:
        """Forget the target: :meth:`track` raises until :meth:`init`."""
        self._state = {}
        self._frame_id = -1
        self._shape = None
        self.box = None
        self.score = None

    def track(self, frame: np.ndarray) -> TrackResult:
        """Locate the target in the next frame.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR or (H, W) uint8 grey,
                the size of the init frame.

        Returns:
            tuple[np.ndarray, float]: the box, of shape (4,), float64,
            ``[x, y, w, h]`` in pixels, and the model's score for it.

        Raises:
            RuntimeError: :meth:`init` was not called, or the last call
                failed.
            TypeError / ValueError: bad frame, or a frame size that differs
                from the init frame.
        """
        if self._frame_id < 0:
            raise RuntimeError(
                'Tracker.track called before Tracker.init (or after an init '
                'that failed): the tracker has no target; call init with a '
                'frame and a box first'
            )
        frame = check_frame(frame)
        _check_same_size(frame, self._shape)
        batch = self.engine.pack(frame, self._frame_id + 1)
        sample = self.engine.predict(batch, self._state)
        self._frame_id += 1
        self.box, self.score = _result(sample)
        return self.box, self.score


def _check_same_size(frame: np.ndarray, shape: Tuple[int, int]) -> None:
    if frame.shape[:2] != shape:
        raise ValueError(
            f'frame size {frame.shape[1]}x{frame.shape[0]} differs from the '
            f'{shape[1]}x{shape[0]} frame the target was initialised in'
        )


class MultiTracker(_Wrapper):
    """Several targets in the same frames, one network.

    Each target keeps its own tracking state (the model's ``memo``),
    swapped into the network for its turn, so results equal those of one
    :class:`Tracker` per target. Targets are tracked one after the other
    unless the model opts in to batching.

    **Batching hook.** A model may define::

        track_batch(inputs: dict, data_samples: list[TrackDataSample],
                    memos: list[addict.Dict]) -> list[InstanceData]

    It receives one pre-processed frame (``inputs['img']`` of shape
    (1, 1, C, H, W) after the data preprocessor), one data sample per
    target (``metainfo['frame_id'] > 0``, ``ori_shape``, ``img_shape``)
    and the targets' memos, and must do what ``model.predict`` does on a
    tracked frame for each target (including updating ``memo.frame_id``
    and ``memo.bbox``), in place on ``memos``, returning one
    ``InstanceData`` per target with ``bboxes`` (1, 4) ``[x1, y1, x2,
    y2]`` and ``scores`` (1,). :meth:`track_many` then calls it once per
    frame for all targets (first frames still go through ``predict``).

    mmusot's USOT implements the hook (targets with the same search size
    share one pass through the network).

    Args:
        model (torch.nn.Module): from :func:`~mmusot.apis.build_tracker`.
        pipeline (list[dict], optional): see :class:`InferenceEngine`.
        batch (bool): use the model's ``track_batch`` when it has one.
            Defaults to True.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        pipeline: Optional[List[dict]] = None,
        batch: bool = True,
    ) -> None:
        self.engine = InferenceEngine(model, pipeline)
        self.batch = batch
        self._targets: Dict[Hashable, dict] = {}
        self._next_id = 0
        self._shape: Optional[Tuple[int, int]] = None

    @property
    def target_ids(self) -> List[Hashable]:
        """list: the ids of the targets being tracked, in init order."""
        return list(self._targets)

    def _batch_hook(self) -> Optional[Callable]:
        if not self.batch:
            return None
        hook = getattr(self.model, 'track_batch', None)
        return hook if callable(hook) else None

    def init_many(
        self,
        frame: np.ndarray,
        boxes: Union[Mapping[Hashable, BoxLike], Sequence[BoxLike]],
    ) -> List[Hashable]:
        """Start tracking new targets in ``frame``.

        Call it after :meth:`track_many` for the same frame when targets
        are already being tracked (targets started here are tracked from
        the next frame on).

        A call that fails (a bad box, or a model error on any of its
        targets) starts none of its targets and uses up no id; the targets
        already tracked go on unchanged (this call only adds targets: to
        move one, :meth:`remove` it and start it again).

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR or (H, W) uint8 grey.
            boxes (Mapping | Sequence): ``[x, y, w, h]`` boxes, either by
                target id, or a sequence (ids are then given: 0, 1, ...).

        Returns:
            list: the ids of the new targets.

        Raises:
            ValueError: a bad box, an id already tracked, or a frame of
                another size than earlier ones.
        """
        frame = check_frame(frame)
        if self._shape is not None and self._targets:
            _check_same_size(frame, self._shape)
        if isinstance(boxes, Mapping):
            items = list(boxes.items())
        else:
            items = [(self._next_id + i, box) for i, box in enumerate(boxes)]
        checked = []
        for target_id, box in items:
            if target_id in self._targets:
                raise ValueError(f'target {target_id!r} is already tracked')
            try:
                checked.append((target_id, check_box(box, frame.shape)))
            except ValueError as err:
                raise ValueError(f'target {target_id!r}: {err}') from None
        started: Dict[Hashable, dict] = {}
        for target_id, box in checked:
            state: dict = {}
            sample = self.engine.predict(
                self.engine.pack(frame, 0, box), state
            )
            result = _result(sample)
            started[target_id] = dict(
                state=state, frame_id=0, box=result[0], score=result[1]
            )
        self._targets.update(started)
        if not isinstance(boxes, Mapping):
            self._next_id += len(items)
        self._shape = frame.shape[:2]
        return [target_id for target_id, _ in checked]

    def remove(self, target_id: Hashable) -> None:
        """Stop tracking a target.

        Raises:
            KeyError: unknown id.
        """
        if target_id not in self._targets:
            raise KeyError(f'no target {target_id!r}')
        del self._targets[target_id]

    def track_many(self, frame: np.ndarray) -> Dict[Hashable, TrackResult]:
        """Locate every target in the next frame.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR or (H, W) uint8 grey.

        Returns:
            dict: target id → (box (4,) ``[x, y, w, h]`` float64, score).

        Raises:
            RuntimeError: no target was initialised.
        """
        if not self._targets:
            raise RuntimeError(
                'MultiTracker.track_many called before init_many'
            )
        frame = check_frame(frame)
        _check_same_size(frame, self._shape)
        hook = self._batch_hook()
        if hook is not None and len(self._targets) > 1:
            results = self._track_batched(frame, hook)
        else:
            results = {}
            for target_id, target in self._targets.items():
                batch = self.engine.pack(frame, target['frame_id'] + 1)
                sample = self.engine.predict(batch, target['state'])
                results[target_id] = _result(sample)
        for target_id, (box, score) in results.items():
            target = self._targets[target_id]
            target['frame_id'] += 1
            target['box'], target['score'] = box, score
        return results

    def _track_batched(
        self, frame: np.ndarray, hook: Callable
    ) -> Dict[Hashable, TrackResult]:
        """All targets of a frame through the model's ``track_batch``."""
        ids = list(self._targets)
        batch = self.engine.pack(frame, 1)
        with torch.no_grad():
            data = self.model.data_preprocessor(batch, False)
            samples = []
            for target_id in ids:
                sample = data['data_samples'][0].clone()
                sample.set_metainfo(
                    dict(frame_id=self._targets[target_id]['frame_id'] + 1)
                )
                samples.append(sample)
            memos = [self._targets[t]['state']['memo'] for t in ids]
            preds = hook(data['inputs'], samples, memos)
        if len(preds) != len(ids):
            raise RuntimeError(
                f'{type(self.model).__name__}.track_batch returned '
                f'{len(preds)} results for {len(ids)} targets'
            )
        results = {}
        for target_id, pred in zip(ids, preds):
            box = pred.bboxes[0].detach().cpu().double().numpy()
            results[target_id] = (xyxy_to_xywh(box), float(pred.scores[0]))
        return results


def track_sequence(
    tracker: Tracker,
    frames,
    init_box: BoxLike,
    max_frames: Optional[int] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Run a tracker over a sequence of frames (OPE).

    Args:
        tracker (Tracker): the tracker.
        frames (Iterable[np.ndarray]): the frames, the first one with the
            target at ``init_box``.
        init_box (Sequence[float]): ``[x, y, w, h]`` in the first frame.
        max_frames (int, optional): stop after this many frames.

    Returns:
        tuple[np.ndarray, np.ndarray]: boxes of shape (N, 4), ``[x, y, w,
        h]`` (the first is ``init_box``), and scores of shape (N,) (-1 on
        the first frame).
    """
    boxes, scores = [], []
    for i, frame in enumerate(frames):
        if max_frames is not None and i >= max_frames:
            break
        if i == 0:
            tracker.init(frame, init_box)
            box, score = tracker.box, tracker.score
        else:
            box, score = tracker.track(frame)
        boxes.append(box)
        scores.append(score)
    return np.array(boxes).reshape(-1, 4), np.array(scores)
