# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Single- and multi-target trackers over an inference engine.

An engine starts a target and tracks targets into a frame::

    engine.init_target(frame, box) -> (state, (box, score))
    engine.track_targets(frame, states, batch=True) -> [(box, score), ...]

with frames (H, W, 3) uint8 BGR and boxes ``[x, y, w, h]`` float64. The
PyTorch engine is :class:`mmusot.apis.tracker.InferenceEngine` (any
mmtrack SOT model), the ONNX one :class:`mmusot.runtime.RuntimeEngine`.
:class:`BaseTracker` and :class:`BaseMultiTracker` add the input checks and
the bookkeeping, the same for both. numpy and OpenCV only.
"""

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

import numpy as np

from .inputs import BoxLike, check_box, check_frame

#: (box ``[x, y, w, h]`` float64 of shape (4,), score).
TrackResult = Tuple[np.ndarray, float]
#: What :class:`BaseTracker` runs on (see the module docstring).
Engine = Any


class BaseTracker:
    """Follow one target through frames, on any :data:`Engine`.

    The PyTorch tracker (:class:`mmusot.apis.Tracker`) and the ONNX
    runtime's (:class:`mmusot.runtime.Tracker`) are this class on their
    engine.

    Args:
        engine (Engine): runs the network for the target.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
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


class BaseMultiTracker:
    """Several targets in the same frames, one network.

    Each target keeps its own tracking state, so results equal those of
    one tracker per target. With ``batch`` all targets of a frame go to
    the engine in one call (USOT: targets with the same search size share
    one network pass; results equal per-target tracking up to float
    rounding).

    Args:
        engine (Engine): runs the network for the targets.
        batch (bool): track a frame's targets in one engine call when the
            engine can. Defaults to True.
    """

    def __init__(self, engine, batch: bool = True) -> None:
        self.engine = engine
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
    tracker: BaseTracker,
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
