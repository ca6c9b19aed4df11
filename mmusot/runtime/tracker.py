# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT trackers on the exported ONNX graphs, without torch.

:class:`RuntimeEngine` does what ``USOT.init_target`` / ``track_targets``
do in PyTorch, with the same per-target state
(:class:`~mmusot.tracking.USOTTrackState`, here on numpy arrays), crop
(:mod:`mmusot.tracking.crops`, both ``crop_mode`` values) and memory
queue (:class:`~mmusot.tracking.memory.NumpyMemoryQueue`); the network
runs on ONNX Runtime or OpenVINO (:mod:`.backends`). :class:`Tracker` and
:class:`MultiTracker` have the API of :class:`mmusot.apis.Tracker` and
:class:`mmusot.apis.MultiTracker`.

Example::

    from mmusot.runtime import Tracker

    tracker = Tracker('work_dirs/usot_onnx')        # mmusot-export output
    tracker.init(first_frame, (x, y, w, h))
    for frame in frames:
        (x, y, w, h), score = tracker.track(frame)
"""

import dataclasses
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from ..tracking import INIT_SCORE, USOTTestConfig, USOTTrackState
from ..tracking.crops import (
    crop_exact,
    crop_official,
    exact_pad_value,
    official_pad_value,
)
from ..tracking.memory import NumpyMemoryQueue
from ..tracking.trackers import BaseMultiTracker, BaseTracker, TrackResult
from .backends import make_backend
from .package import DeployPackage

PackageLike = Union[str, DeployPackage]


def _xywh(box_xyxy: np.ndarray) -> np.ndarray:
    """(4,) ``[x1, y1, x2, y2]`` → float64 ``[x, y, w, h]``."""
    box = np.asarray(box_xyxy, dtype=np.float64).reshape(4)
    return np.array([box[0], box[1], box[2] - box[0], box[3] - box[1]])


class RuntimeEngine:
    """USOT's network on an exported folder, for numpy states.

    Args:
        package (str | DeployPackage): the folder written by
            ``mmusot-export`` (or it, loaded).
        backend (str): ``'onnxruntime'``, ``'openvino'`` or ``'opencv'``.
            Defaults to 'onnxruntime'.
        threads (int, optional): inference threads. Defaults to the CPUs
            this process may use.
        device (str): ``'cpu'`` (or ``'cuda'`` with onnxruntime-gpu).
            Defaults to 'cpu'.
        test_cfg (dict, optional): settings that override the exported
            ones (e.g. ``dict(crop_mode='official')``).

    Raises:
        DeployError: a bad folder, or a backend that is not installed or
            cannot load a graph.
    """

    def __init__(
        self,
        package: PackageLike,
        backend: str = 'onnxruntime',
        threads: Optional[int] = None,
        device: str = 'cpu',
        test_cfg: Optional[dict] = None,
    ) -> None:
        if not isinstance(package, DeployPackage):
            package = DeployPackage.load(package)
        self.package = package
        self.geometry = package.geometry
        cfg = dataclasses.asdict(package.test_cfg)
        cfg.update(test_cfg or {})
        self.cfg = USOTTestConfig.from_cfg(cfg)
        self.backend = make_backend(package, backend, threads, device)

    # ------------------------------------------------------------ crops
    def _crop(
        self,
        frame: np.ndarray,
        state: USOTTrackState,
        side: np.ndarray,
        out_size: int,
    ) -> np.ndarray:
        """One (3, S, S) float32 crop around the state's centre."""
        if state.cfg.crop_mode == 'official':
            patch = crop_official(
                frame,
                state.center.tolist(),
                float(side),
                out_size,
                state.pad_value,
            ).astype(np.float32)
        else:
            patch = crop_exact(
                frame, state.center, side, out_size, state.pad_value
            )
        return np.ascontiguousarray(patch.transpose(2, 0, 1))

    # ------------------------------------------------------------ cells
    def _template_cells(self, box: np.ndarray) -> np.ndarray:
        """Template-crop pixels → template-feature cells (clamped)."""
        geo = self.geometry
        cells = geo.feature_sizes[self.cfg.exemplar_size]
        lo = geo.feature_offset
        hi = geo.feature_offset + geo.stride * (cells - 1)
        return (np.clip(box, lo, hi) - geo.feature_offset) / geo.stride

    def _search_cells(
        self, boxes: np.ndarray, clamp: Tuple[float, float]
    ) -> np.ndarray:
        """Search-crop pixels → search-feature cells, clamped to ``clamp``."""
        geo = self.geometry
        boxes = np.clip(boxes, clamp[0], clamp[1])
        return (boxes - geo.search_axis_offset) / geo.stride

    def _kernels(
        self, features: np.ndarray, cells: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        cls_kernel, reg_kernel = self.backend.run(
            'kernel',
            dict(
                features=np.ascontiguousarray(features, dtype=np.float32),
                cells=np.ascontiguousarray(cells, dtype=np.float32),
            ),
        )
        return cls_kernel, reg_kernel

    # ------------------------------------------------------------- init
    def init_state(
        self, frame: np.ndarray, bbox: np.ndarray, frame_id: int = 0
    ) -> USOTTrackState:
        """Start a target at ``bbox`` (``[cx, cy, w, h]``, 0-based).

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR.
            bbox (np.ndarray): of shape (4,), float32.
            frame_id (int): the frame's id. Defaults to 0.

        Returns:
            USOTTrackState: on numpy arrays.
        """
        cfg = self.cfg
        geo = self.geometry
        height, width = frame.shape[:2]
        state = USOTTrackState.start(cfg, bbox, (height, width), frame_id)
        if cfg.crop_mode == 'official':
            state.pad_value = official_pad_value(frame)
        else:
            state.pad_value = exact_pad_value(frame)
        s_z, z_box, s_x, x_boxes = state.init_windows()
        z_crop = self._crop(frame, state, s_z, cfg.exemplar_size)
        (z_feat,) = self.backbone(z_crop[None])
        state.z_kernel = self._kernels(
            z_feat[None], self._template_cells(z_box)[None]
        )
        x_crop = self._crop(frame, state, s_x, state.instance_size)
        x_feat = self.backbone(np.stack((x_crop, x_crop[..., ::-1])))
        score_size = x_feat.shape[-1] - geo.pool_size + 1
        margin = cfg.memory_clamp_margin / geo.stride
        clamp = (
            float(geo.response_offset - margin * geo.stride),
            float(
                geo.response_offset + (score_size - 1 + margin) * geo.stride
            ),
        )
        axis = (
            np.arange(score_size, dtype=np.float32) * geo.stride
            + geo.response_offset
        ).astype(np.float32)
        state.set_response(score_size, axis, clamp)
        mem_kernels, _ = self._kernels(
            x_feat, self._search_cells(x_boxes, clamp)
        )
        state.memory = NumpyMemoryQueue(
            cfg.memory_queue_size, cfg.memory_index, cfg.init_memory_score
        )
        state.memory.reset(mem_kernels[0], mem_kernels[1])
        return state

    def backbone(self, crops: np.ndarray) -> np.ndarray:
        """Features (N, C, F, F) of crops (N, 3, S, S) float32."""
        (features,) = self.backend.run(
            'backbone', dict(image=np.ascontiguousarray(crops))
        )
        return features

    # ------------------------------------------------------------ track
    def _memory(
        self, states: List[USOTTrackState], dedupe: bool
    ) -> Tuple[np.ndarray, np.ndarray]:
        if dedupe and states[0].cfg.dedupe_memory:
            kernels, counts = states[0].memory.build_distinct_queue()
            return kernels[None], counts[None]
        queues = np.stack([state.memory.build_queue() for state in states])
        return queues, np.ones(queues.shape[:2], dtype=np.float32)

    def track_states(
        self, frame: np.ndarray, states: Sequence[USOTTrackState]
    ) -> List[Tuple[np.ndarray, np.float32]]:
        """Track targets into ``frame``, one network pass per search size.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR.
            states (Sequence[USOTTrackState]): updated in place (not
                ``frame_id``).

        Returns:
            list[tuple[np.ndarray, np.float32]]: per state, the box (4,)
            ``[x1, y1, x2, y2]`` in 0-based frame pixels and its score.
        """
        frame_hw = frame.shape[:2]
        crops, scales = [], []
        for state in states:
            s_x, scale_z = state.search_window()
            crops.append(self._crop(frame, state, s_x, state.instance_size))
            scales.append(scale_z)
        results = [None] * len(states)
        sizes = [state.instance_size for state in states]
        for size in sorted(set(sizes)):
            group = [k for k, s in enumerate(sizes) if s == size]
            members = [states[k] for k in group]
            features = self.backbone(np.stack([crops[k] for k in group]))
            memory, counts = self._memory(members, dedupe=len(states) == 1)
            cls_logits, reg, mem_logits = self.backend.run(
                'head',
                dict(
                    features=features,
                    cls_kernel=np.concatenate(
                        [s.z_kernel[0] for s in members]
                    ),
                    reg_kernel=np.concatenate(
                        [s.z_kernel[1] for s in members]
                    ),
                    memory=np.ascontiguousarray(memory, dtype=np.float32),
                    memory_counts=counts,
                ),
            )
            cells, scores = [], []
            for j, k in enumerate(group):
                state = states[k]
                part = slice(j, j + 1)
                best = state.select(
                    cls_logits[part], mem_logits[part], reg[part], scales[k]
                )
                box = state.advance(best, scales[k], frame_hw)
                cells.append(
                    self._search_cells(best.bboxes[0], state.memory_clamp)
                )
                scores.append(best.scores[0])
                results[k] = (box[0], best.scores[0])
            mem_kernels, _ = self._kernels(features, np.stack(cells))
            for j, k in enumerate(group):
                states[k].memory.append(mem_kernels[j], scores[j])
        return results

    # ----------------------------------------------------- the API's
    def init_target(
        self, frame: np.ndarray, box: np.ndarray
    ) -> Tuple[USOTTrackState, TrackResult]:
        """Start a target at ``box`` ``[x, y, w, h]`` in ``frame``.

        The box is in the convention of the exported settings (1-based
        with ``one_based_gt``), as :meth:`mmusot.apis.Tracker.init` takes
        it.

        Returns:
            tuple: the state and the first frame's (box, ``INIT_SCORE``).
        """
        xyxy = np.array(
            [box[0], box[1], box[0] + box[2], box[1] + box[3]],
            dtype=np.float32,
        )
        cxcywh = np.array(
            [
                (xyxy[0] + xyxy[2]) / 2,
                (xyxy[1] + xyxy[3]) / 2,
                xyxy[2] - xyxy[0],
                xyxy[3] - xyxy[1],
            ],
            dtype=np.float32,
        )
        cxcywh[:2] -= np.float32(self.cfg.origin)
        state = self.init_state(frame, cxcywh)
        return state, (_xywh(xyxy), INIT_SCORE)

    def track_targets(
        self,
        frame: np.ndarray,
        states: Sequence[USOTTrackState],
        batch: bool = True,
    ) -> List[TrackResult]:
        """Track targets into ``frame``: per state, (box ``[x, y, w, h]``,
        score), in the exported settings' box convention."""
        if batch:
            found = self.track_states(frame, states)
        else:
            found = [self.track_states(frame, [s])[0] for s in states]
        results = []
        for state, (box, score) in zip(states, found):
            state.frame_id += 1
            results.append((_xywh(state.report(box)), float(score)))
        return results


class _Runtime:
    """What :class:`Tracker` and :class:`MultiTracker` share."""

    engine: RuntimeEngine

    @property
    def package(self) -> DeployPackage:
        """DeployPackage: the exported folder."""
        return self.engine.package


class Tracker(_Runtime, BaseTracker):
    """Follow one target on an exported USOT (ONNX Runtime / OpenVINO).

    The API of :class:`mmusot.apis.Tracker`: ``init(frame, box)``,
    ``track(frame) -> (box, score)``, ``box``, ``score``, ``frame_id``,
    ``state``.

    Args:
        package (str | DeployPackage): the ``mmusot-export`` folder.
        backend (str): ``'onnxruntime'``, ``'openvino'`` or ``'opencv'``.
        threads (int, optional): inference threads.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to 'cpu'.
        test_cfg (dict, optional): settings overriding the exported ones.
    """

    def __init__(
        self,
        package: PackageLike,
        backend: str = 'onnxruntime',
        threads: Optional[int] = None,
        device: str = 'cpu',
        test_cfg: Optional[dict] = None,
    ) -> None:
        BaseTracker.__init__(
            self, RuntimeEngine(package, backend, threads, device, test_cfg)
        )


class MultiTracker(_Runtime, BaseMultiTracker):
    """Several targets on an exported USOT, batched per search size.

    The API of :class:`mmusot.apis.MultiTracker`: ``init_many``,
    ``track_many``, ``remove``, ``state``, ``target_ids``.

    Args:
        package (str | DeployPackage): the ``mmusot-export`` folder.
        backend (str): ``'onnxruntime'``, ``'openvino'`` or ``'opencv'``.
        threads (int, optional): inference threads.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to 'cpu'.
        test_cfg (dict, optional): settings overriding the exported ones.
        batch (bool): one network pass per frame for all targets.
            Defaults to True.
    """

    def __init__(
        self,
        package: PackageLike,
        backend: str = 'onnxruntime',
        threads: Optional[int] = None,
        device: str = 'cpu',
        test_cfg: Optional[dict] = None,
        batch: bool = True,
    ) -> None:
        BaseMultiTracker.__init__(
            self,
            RuntimeEngine(package, backend, threads, device, test_cfg),
            batch,
        )
