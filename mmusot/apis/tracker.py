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

from typing import (
    Any,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import numpy as np
import torch
from mmengine.config import Config

from ..pseudo_labels.boxes import xywh_to_xyxy, xyxy_to_xywh
from ..tracking.inputs import BoxLike, check_box, check_frame  # noqa: F401
from ..tracking.trackers import (  # noqa: F401  (re-exported)
    BaseMultiTracker,
    BaseTracker,
    TrackResult,
    track_sequence,
)

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


class Tracker(_Wrapper, BaseTracker):
    """Follow one target through frames, with any mmtrack SOT model.

    Example::

        tracker = Tracker.from_config('configs/usot/usot_r50_test-'
                                      'otb-folder.py', 'usot.pth')
        tracker.init(first_frame, (x, y, w, h))
        for frame in frames:
            (x, y, w, h), score = tracker.track(frame)

    ``init``, ``track``, ``box``, ``score``, ``frame_id`` and ``state``:
    see :class:`~mmusot.tracking.trackers.BaseTracker`.

    Args:
        model (torch.nn.Module): from :func:`~mmusot.apis.build_tracker`.
        pipeline (list[dict], optional): see :class:`InferenceEngine`.
    """

    def __init__(
        self, model: torch.nn.Module, pipeline: Optional[List[dict]] = None
    ) -> None:
        BaseTracker.__init__(self, InferenceEngine(model, pipeline))


class MultiTracker(_Wrapper, BaseMultiTracker):
    """Several targets in the same frames, one network.

    Each target keeps its own tracking state, so results equal those of
    one :class:`Tracker` per target. For USOT (a model with
    ``init_target`` / ``track_targets``) all targets of a frame go through
    one batched model call (targets with the same search size share one
    network pass; results equal per-target tracking up to float rounding);
    other mmtrack trackers track them one after the other
    (:class:`MemoTarget`). ``init_many``, ``track_many``, ``remove``,
    ``state``, ``target_ids``: see
    :class:`~mmusot.tracking.trackers.BaseMultiTracker`.

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
        BaseMultiTracker.__init__(
            self, InferenceEngine(model, pipeline), batch
        )
