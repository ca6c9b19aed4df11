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

Each tracker holds its targets' states; the network holds none, so
several trackers (or targets) share one network instance. USOT's states
are :class:`~mmusot.tracking.USOTTrackState` objects, given to the
model's ``init_target`` / ``track_targets`` (several targets: one batched
network call). Other mmtrack trackers (SiamRPN++ ...) keep a video's state
in the model's ``memo``; for them :class:`MemoTarget` holds it and swaps
it into the model around each call (mmtrack's own contract).
"""

import math
from typing import (
    Any,
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

from ..pseudo_labels.boxes import xywh_to_xyxy, xyxy_to_xywh

#: The test-pipeline transforms the tracker replaces (it gets decoded
#: frames, not files).
IMAGE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile')
#: The pipeline used when a config has no ``test_dataloader``: mmtrack's
#: SOT test pipeline without its image loader.
DEFAULT_INFERENCE_PIPELINE = (
    dict(type='LoadTrackAnnotations', with_instance_id=False),
    dict(type='PackTrackInputs', pack_single_img=True),
)
#: Model attributes that hold one video's tracking state (mmtrack
#: trackers without ``init_target`` / ``track_targets``).
STATE_ATTRIBUTES = ('memo',)

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


# ------------------------------------------------------------ the engine
class InferenceEngine:
    """One model, its test pipeline, and its targets' init and tracking.

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

    @property
    def uses_states(self) -> bool:
        """bool: the model takes explicit target states (USOT)."""
        return callable(getattr(self.model, 'init_target', None)) and (
            callable(getattr(self.model, 'track_targets', None))
        )

    def init_target(
        self, frame: np.ndarray, box: np.ndarray
    ) -> Tuple[Any, TrackResult]:
        """Start a target: its state and the first frame's result.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR (see
                :func:`check_frame`).
            box (np.ndarray): (4,) ``[x, y, w, h]``, float64.

        Returns:
            tuple: the target's state (a ``USOTTrackState``, or a
            :class:`MemoTarget`) and its (box, score) on this frame.
        """
        batch = self.pack(frame, 0, box)
        if not self.uses_states:
            target = MemoTarget()
            return target, _result(target.predict(self.model, batch))
        with torch.no_grad():
            data = self.model.data_preprocessor(batch, False)
            state, pred = self.model.init_target(
                data['inputs'], data['data_samples'][0]
            )
        return state, _result(pred)

    def track_targets(
        self, frame: np.ndarray, states: Sequence[Any], batch: bool = True
    ) -> List[TrackResult]:
        """Track targets into the next frame; their states move on.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR.
            states (Sequence): from :meth:`init_target`.
            batch (bool): one model call for all targets (USOT: one
                network pass per search size). Defaults to True.

        Returns:
            list[tuple[np.ndarray, float]]: per state, (box, score).
        """
        if not self.uses_states:
            return [
                _result(
                    state.predict(
                        self.model, self.pack(frame, state.frame_id + 1)
                    )
                )
                for state in states
            ]
        with torch.no_grad():
            data = self.model.data_preprocessor(self.pack(frame, 1), False)
            if batch:
                preds = self.model.track_targets(data['inputs'], states)
            else:
                preds = [
                    self.model.track_targets(data['inputs'], [state])[0]
                    for state in states
                ]
        if len(preds) != len(states):
            raise RuntimeError(
                f'{type(self.model).__name__}.track_targets returned '
                f'{len(preds)} results for {len(states)} targets'
            )
        return [_result(pred) for pred in preds]


class MemoTarget:
    """One target of an mmtrack tracker that keeps its state in ``memo``.

    mmtrack's ``BaseSingleObjectTracker`` keeps a video's state in the
    model (``self.memo``); this adapter holds a target's copy and swaps it
    into the model around each ``test_step``, so that several targets can
    share the model. USOT does not need it (its states are explicit).
    """

    def __init__(self) -> None:
        self.saved: Dict[str, object] = {}
        self.frame_id = -1

    def predict(self, model: torch.nn.Module, batch: dict):
        """``model.test_step`` on one packed frame, in this target's state.

        Args:
            model (torch.nn.Module): the tracker.
            batch (dict): from :meth:`InferenceEngine.pack`.

        Returns:
            InstanceData: the frame's ``pred_track_instances``.
        """
        outer: Dict[str, object] = {}
        for name in STATE_ATTRIBUTES:
            if hasattr(model, name):
                outer[name] = getattr(model, name)
                delattr(model, name)
            if name in self.saved:
                setattr(model, name, self.saved[name])
        try:
            with torch.no_grad():
                sample = model.test_step(batch)[0]
        finally:
            for name in STATE_ATTRIBUTES:
                if hasattr(model, name):
                    self.saved[name] = getattr(model, name)
                    delattr(model, name)
                if name in outer:
                    setattr(model, name, outer[name])
        self.frame_id += 1
        return sample.pred_track_instances


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


def _result(pred) -> TrackResult:
    """(box ``[x, y, w, h]`` float64, score) of a model's prediction."""
    box = pred.bboxes[0].detach().cpu().double().numpy()
    return xyxy_to_xywh(box), float(pred.scores[0])


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
        self._state: Any = None
        self._shape: Optional[Tuple[int, int]] = None
        self.box: Optional[np.ndarray] = None
        self.score: Optional[float] = None

    @property
    def frame_id(self) -> int:
        """int: frames since :meth:`init` (0 on the init frame, -1 before)."""
        return -1 if self._state is None else self._state.frame_id

    @property
    def state(self) -> Any:
        """The target's tracking state (a ``USOTTrackState`` for USOT), or
        None before :meth:`init`."""
        return self._state

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
        state, (self.box, self.score) = self.engine.init_target(frame, box)
        self._state = state
        self._shape = frame.shape[:2]

    def _reset(self) -> None:
        """Forget the target: :meth:`track` raises until :meth:`init`."""
        self._state = None
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
        if self._state is None:
            raise RuntimeError(
                'Tracker.track called before Tracker.init (or after an init '
                'that failed): the tracker has no target; call init with a '
                'frame and a box first'
            )
        frame = check_frame(frame)
        _check_same_size(frame, self._shape)
        ((self.box, self.score),) = self.engine.track_targets(
            frame, [self._state]
        )
        return self.box, self.score


def _check_same_size(frame: np.ndarray, shape: Tuple[int, int]) -> None:
    if frame.shape[:2] != shape:
        raise ValueError(
            f'frame size {frame.shape[1]}x{frame.shape[0]} differs from the '
            f'{shape[1]}x{shape[0]} frame the target was initialised in'
        )


class MultiTracker(_Wrapper):
    """Several targets in the same frames, one network.

    Each target keeps its own tracking state, so results equal those of
    one :class:`Tracker` per target. For USOT (a model with
    ``init_target`` / ``track_targets``) all targets of a frame go through
    one batched model call (targets with the same search size share one
    network pass; results equal per-target tracking up to float rounding);
    other mmtrack trackers track them one after the other
    (:class:`MemoTarget`).

    Args:
        model (torch.nn.Module): from :func:`~mmusot.apis.build_tracker`.
        pipeline (list[dict], optional): see :class:`InferenceEngine`.
        batch (bool): track a frame's targets in one model call when the
            model takes states. Defaults to True.
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
            state, (box, score) = self.engine.init_target(frame, box)
            started[target_id] = dict(state=state, box=box, score=score)
        self._targets.update(started)
        if not isinstance(boxes, Mapping):
            self._next_id += len(items)
        self._shape = frame.shape[:2]
        return [target_id for target_id, _ in checked]

    def state(self, target_id: Hashable) -> Any:
        """A target's tracking state (a ``USOTTrackState`` for USOT).

        Raises:
            KeyError: unknown id.
        """
        if target_id not in self._targets:
            raise KeyError(f'no target {target_id!r}')
        return self._targets[target_id]['state']

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
        ids = list(self._targets)
        found = self.engine.track_targets(
            frame, [self._targets[t]['state'] for t in ids], self.batch
        )
        results = dict(zip(ids, found))
        for target_id, (box, score) in results.items():
            target = self._targets[target_id]
            target['box'], target['score'] = box, score
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
