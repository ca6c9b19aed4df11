# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT online tracking: the network's side of mmtrack's ``predict``.

Implements the inference of `USOT <https://arxiv.org/abs/2108.12711>`_
(paper Sec. 4.1, "Inference"; official ``lib/tracker/usot_tracker.py``) as
:class:`USOTTrackingMixin`, split as pysot splits ``ModelBuilder`` and
``SiamRPNTracker``:

* the per-target state and its box arithmetic (crop geometry, penalties,
  window, argmax, size update, clamps, 1-based boxes) is
  :class:`mmusot.tracking.USOTTrackState`, which needs no torch;
* this mixin runs the network for one or several states at once:
  :meth:`~USOTTrackingMixin.init_state` (template kernel, permanent
  memory) and :meth:`~USOTTrackingMixin.track_states` (one backbone pass
  for all targets with the same search size), plus mmtrack's
  ``predict_ope`` / ``predict_vot`` contract, which keeps the current
  video's state in ``self.memo``.

The crops are :mod:`mmusot.models.sot.usot_subwindow`, the memory queue
:class:`~mmusot.models.sot.usot_memory.USOTMemoryQueue`. With the default
``crop_mode='exact'`` everything per frame runs on the model's device and
no value is read back to the host while tracking, so CUDA frames
pipeline; ``crop_mode='official'`` crops on the host with OpenCV on uint8,
as the official tracker does.
"""

import math
import warnings
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.structures import InstanceData
from mmtrack.structures.bbox import quad2bbox_cxcywh
from torch import Tensor

from ...structures import region_overlap
from ...tracking import (  # noqa: F401  (USOTTestConfig etc. re-exported)
    INIT_SCORE,
    MIN_CROP_SIDE,
    ONE_BASED_ORIGIN,
    SIZE_SMOOTHING_MODES,
    TEST_MODES,
    USOTTestConfig,
    USOTTrackState,
    update_size,
)
from .usot_memory import USOTMemoryQueue
from .usot_subwindow import (
    crop_official,
    crop_siamfc,
    frame_to_uint8,
    official_pad_value,
    patch_to_tensor,
)

#: VOT protocol states written instead of a box (mmtrack / pysot).
VOT_INIT, VOT_FAILURE, VOT_SKIPPED = 1.0, 2.0, 0.0
#: VOT: frames skipped after a failure before re-initialising.
VOT_SKIP_FRAMES = 5

CropSource = Union[Tensor, np.ndarray]


def _cat(tensors: List[Tensor]) -> Tensor:
    """``torch.cat`` without the copy of a lone tensor."""
    return tensors[0] if len(tensors) == 1 else torch.cat(tensors)


class USOTTrackingMixin:
    """USOT inference for a :class:`BaseSingleObjectTracker`.

    The host class provides ``forward_template(img)`` ((N, 3, 127, 127) →
    (N, 256, 15, 15)), ``forward_search(img)`` ((N, 3, I, I) → (N, 256, F,
    F)), ``self.head`` (:class:`~mmusot.models.track_heads.USOTHead`:
    ``template_kernel``, ``search_box_to_cells``, ``pool``,
    ``response_size``, ``response_axis``, ``response_extent``, ``stride``,
    ``encode_search``, ``forward_offline``, ``forward_memory``) and
    ``self.test_cfg`` (keys of :class:`USOTTestConfig`).

    Targets are :class:`~mmusot.tracking.USOTTrackState` objects, held by
    the caller: :meth:`init_target` / :meth:`track_targets` (the API, any
    number of targets) or ``self.memo`` (mmtrack's :meth:`predict_ope` /
    :meth:`predict_vot`, one video at a time, as ``tools/test.py`` runs).
    """

    # ------------------------------------------------------------ config
    def usot_test_cfg(self) -> USOTTestConfig:
        """The effective inference settings: defaults, then ``test_cfg``.

        Returns:
            USOTTestConfig: validated settings.
        """
        return USOTTestConfig.from_cfg(getattr(self, 'test_cfg', None))

    # ------------------------------------------------------------- input
    @staticmethod
    def _to_bgr(img: Tensor) -> Tensor:
        """Check a (1, C, H, W) frame; grey (C = 1) becomes 3-channel."""
        if img.dim() != 4 or img.size(0) != 1:
            raise ValueError(
                'USOT tracks one frame of shape (1, C, H, W), '
                f'got {tuple(img.shape)}'
            )
        channels = img.size(1)
        if channels == 1:
            img = img.expand(-1, 3, -1, -1)
        elif channels != 3:
            raise ValueError(
                'USOT expects 3-channel BGR or 1-channel grey '
                f'frames, got {channels} channels'
            )
        return img if img.is_floating_point() else img.float()

    def _check_init_box(self, bbox: Tensor, width: int, height: int) -> None:
        """Reject an init box USOT cannot start from (one host read)."""
        cx, cy, w, h = (float(v) for v in bbox.detach().reshape(-1)[:4].cpu())
        if not all(math.isfinite(v) for v in (cx, cy, w, h)):
            raise ValueError(
                f'USOT init box is not finite: {(cx, cy, w, h)} (cx, cy, w, h)'
            )
        if w <= 0 or h <= 0:
            raise ValueError(
                'USOT init box has zero or negative area: '
                f'w={w:g}, h={h:g} (cx={cx:g}, cy={cy:g})'
            )
        if (
            cx + w / 2 <= 0
            or cy + h / 2 <= 0
            or cx - w / 2 >= width
            or cy - h / 2 >= height
        ):
            raise ValueError(
                'USOT init box lies outside the frame: '
                f'(cx, cy, w, h)=({cx:g}, {cy:g}, {w:g}, {h:g}), frame '
                f'{width}x{height}'
            )

    # -------------------------------------------------------------- crop
    @staticmethod
    def _crop_source(
        img: Tensor, cfg: USOTTestConfig, first: bool = False
    ) -> CropSource:
        """What the crops cut from: the frame in the crop's numerics.

        Args:
            img (Tensor): of shape (1, 3, H, W), BGR 0-255.
            cfg (USOTTestConfig): the target's settings (``crop_mode``).
            first (bool): the first frame of a video (the official crop
                then checks the frame is 8-bit). Defaults to False.

        Returns:
            Tensor | np.ndarray: ``img`` itself (``'exact'``) or the frame
            as (H, W, 3) uint8 on the host (``'official'``).
        """
        if cfg.crop_mode == 'official':
            return frame_to_uint8(img, check=first)
        return img

    @staticmethod
    def _crop(
        source: CropSource,
        state: USOTTrackState,
        side: Tensor,
        out_size: int,
        device: torch.device,
    ) -> Tensor:
        """One SiamFC crop around ``state.center`` in its ``crop_mode``.

        Args:
            source (Tensor | np.ndarray): from :meth:`_crop_source`.
            state (USOTTrackState): the target (centre, pad value).
            side (Tensor): of shape (), integral crop side in frame pixels.
            out_size (int): side of the output patch.
            device (torch.device): the model's device.

        Returns:
            Tensor: of shape (1, 3, out_size, out_size), float32, BGR.
        """
        center = state.center
        if isinstance(source, Tensor):
            return crop_siamfc(
                source, center[None], side[None], out_size, state.pad_value
            )
        patch = crop_official(
            source, center.tolist(), float(side), out_size, state.pad_value
        )
        return patch_to_tensor(patch, device)

    # ------------------------------------------------------------- init
    def init_state(
        self,
        img: Tensor,
        bbox: Tensor,
        cfg: Union[USOTTestConfig, None] = None,
        frame_id: int = 0,
    ) -> USOTTrackState:
        """Start a target at ``bbox`` in its first frame.

        Crops the 127 template and pools its 7×7 kernel, crops the
        search-size window (and its horizontal flip) around the target for
        the two permanent memory entries; the state fixes the search size
        for the video (:meth:`USOTTrackState.start`).

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor (C = 1 is treated as grey).
            bbox (Tensor): of shape (4,), ``[cx, cy, w, h]``, 0-based frame
                pixels.
            cfg (USOTTestConfig, optional): settings; defaults to
                :meth:`usot_test_cfg`.
            frame_id (int): the frame's id. Defaults to 0.

        Returns:
            USOTTrackState: the target's state.

        Raises:
            ValueError: for a malformed frame (or, with ``crop_mode=
                'official'``, one that is not 8-bit), an invalid
                ``test_cfg``, or an init box that is not finite, has no area
                or lies outside the frame.
        """
        cfg = cfg or self.usot_test_cfg()
        img = self._to_bgr(img)
        height, width = img.shape[-2:]
        bbox = bbox.reshape(-1)[:4].float().to(img.device)
        self._check_init_box(bbox, width, height)
        state = USOTTrackState.start(cfg, bbox, (height, width), frame_id)
        source = self._crop_source(img, cfg, first=True)
        if cfg.crop_mode == 'official':
            state.pad_value = official_pad_value(source)
        else:
            state.pad_value = img.mean(dim=(0, 2, 3))
        s_z, z_box, s_x, x_boxes = state.init_windows()

        z_crop = self._crop(source, state, s_z, cfg.exemplar_size, img.device)
        z_feat = self.forward_template(z_crop)
        state.z_kernel = self.head.template_kernel(z_feat, z_box[None])

        # permanent memory: search-size crop and its horizontal flip
        x_crop = self._crop(
            source, state, s_x, state.instance_size, img.device
        )
        x_feat = self.forward_search(torch.cat((x_crop, x_crop.flip(-1))))
        score_size = self.head.response_size(x_feat.shape[-1])
        clamp = self.head.response_extent(
            score_size, cfg.memory_clamp_margin / self.head.stride
        )
        state.set_response(
            score_size,
            self.head.response_axis(score_size, device=img.device),
            clamp,
        )
        cells = self.head.search_box_to_cells(x_boxes, clamp=clamp)
        init_feats = self.head.pool(x_feat, cells)
        state.memory = USOTMemoryQueue(
            cfg.memory_queue_size, cfg.memory_index, cfg.init_memory_score
        )
        state.memory.reset(init_feats[0], init_feats[1])
        return state

    # ------------------------------------------------------------ track
    def track_states(
        self, img: Tensor, states: Sequence[USOTTrackState]
    ) -> List[InstanceData]:
        """Track targets into ``img``, one network pass per search size.

        The search crops of targets with the same search size go through
        the backbone, neck and heads together (the memory head with each
        target's queue; a lone target with its deduplicated queue when
        ``dedupe_memory``); each state then picks its box and moves. With
        ``crop_mode='exact'`` all on the device, nothing read back.

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor.
            states (Sequence[USOTTrackState]): the targets, from
                :meth:`init_state`; updated in place (not ``frame_id``).

        Returns:
            list[InstanceData]: per state, ``bboxes`` (1, 4) ``[x1, y1, x2,
            y2]``, 0-based frame pixels, and ``scores`` (1,), the fused
            score of the chosen cell.
        """
        for state in states:
            if not isinstance(state, USOTTrackState) or state.memory is None:
                raise RuntimeError('USOT tracks a target before its init')
        img = self._to_bgr(img)
        frame_hw = tuple(img.shape[-2:])
        sources: Dict[str, CropSource] = {}
        crops = []
        for state in states:
            mode = state.cfg.crop_mode
            if mode not in sources:
                sources[mode] = self._crop_source(img, state.cfg)
            s_x, scale_z = state.search_window()
            crop = self._crop(
                sources[mode], state, s_x, state.instance_size, img.device
            )
            crops.append((crop, scale_z))
        results: List[InstanceData] = [None] * len(states)
        sizes = [state.instance_size for state in states]
        for size in sorted(set(sizes)):
            group = [k for k, s in enumerate(sizes) if s == size]
            x_feat = self.forward_search(_cat([crops[k][0] for k in group]))
            enc = self.head.encode_search(x_feat)
            cls_logits, reg = self.head.forward_offline(
                enc, _cat([states[k].z_kernel for k in group])
            )
            mem_logits = self._memory_logits(
                enc, [states[k] for k in group], dedupe=len(states) == 1
            )
            for j, k in enumerate(group):
                part = slice(j, j + 1)
                results[k] = self._update_state(
                    states[k],
                    frame_hw,
                    x_feat[part],
                    cls_logits[part],
                    mem_logits[part],
                    reg[part],
                    crops[k][1],
                )
        return results

    def _memory_logits(
        self, search_enc: dict, states: List[USOTTrackState], dedupe: bool
    ) -> Tensor:
        """The memory head's response for each state's queue."""
        if dedupe and states[0].cfg.dedupe_memory:
            kernels, counts = states[0].memory.build_distinct_queue()
            return self.head.forward_memory(search_enc, kernels[None], counts)
        queues = torch.stack([state.memory.build_queue() for state in states])
        return self.head.forward_memory(search_enc, queues)

    def _update_state(
        self,
        state: USOTTrackState,
        frame_hw: Tuple[int, int],
        x_feat: Tensor,
        cls_logits: Tensor,
        mem_logits: Tensor,
        reg: Tensor,
        scale_z: Tensor,
    ) -> InstanceData:
        """Pick the box, move the state, grow its memory.

        Args:
            state (USOTTrackState): the target.
            frame_hw (tuple[int, int]): the frame's height and width.
            x_feat (Tensor): the target's search feature, (1, C, F, F).
            cls_logits, mem_logits (Tensor): (1, 1, S, S) responses.
            reg (Tensor): (1, 4, S, S) distances.
            scale_z (Tensor): from :meth:`USOTTrackState.search_window`.

        Returns:
            InstanceData: ``bboxes`` (1, 4) xyxy 0-based frame pixels,
            ``scores`` (1,).
        """
        best = state.select(cls_logits, mem_logits, reg, scale_z)
        bboxes = state.advance(best, scale_z, frame_hw)
        cells = self.head.search_box_to_cells(
            best.bboxes, clamp=state.memory_clamp
        )
        state.memory.append(self.head.pool(x_feat, cells), best.scores[0])
        return InstanceData(bboxes=bboxes, scores=best.scores)

    # ------------------------------------------------------ the API's
    def init_target(
        self, inputs: dict, data_sample
    ) -> Tuple[USOTTrackState, InstanceData]:
        """Start a target from a packed first frame (OPE).

        What :meth:`predict_ope` does on frame 0, returning the state
        instead of keeping it: the box ``gt_instances.bboxes`` ((1, 4) xyxy
        or (1, 8) quad) is moved by ``(-1, -1)`` with
        ``test_cfg.one_based_gt``.

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W)
                after the data preprocessor.
            data_sample (TrackDataSample): ``gt_instances.bboxes`` and
                ``metainfo['frame_id']``.

        Returns:
            tuple[USOTTrackState, InstanceData]: the state and the first
            frame's result: the box itself ((1, 4) xyxy, in the ground
            truth's convention) and score ``INIT_SCORE``.
        """
        img = self._single_frame(inputs)
        cfg = self.usot_test_cfg()
        gt_bboxes = data_sample.gt_instances['bboxes']
        bbox = quad2bbox_cxcywh(gt_bboxes).reshape(-1)[:4].clone()
        bbox[:2] -= cfg.origin
        state = self.init_state(
            img, bbox, cfg, data_sample.metainfo.get('frame_id', 0)
        )
        result = InstanceData(
            bboxes=state.report(bbox_cxcywh_to_xyxy(bbox)[None]),
            scores=gt_bboxes.new_tensor([INIT_SCORE]),
        )
        return state, result

    def track_targets(
        self, inputs: dict, states: Sequence[USOTTrackState]
    ) -> List[InstanceData]:
        """Track several targets into one packed frame (batched).

        :meth:`track_states`, then each state's ``frame_id`` advances and
        its box is reported in the ground truth's convention. Results equal
        per-target :meth:`predict` calls up to float rounding (exactly for
        one target).

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W)
                after the data preprocessor.
            states (Sequence[USOTTrackState]): from :meth:`init_target`.

        Returns:
            list[InstanceData]: per state, ``bboxes`` (1, 4) ``[x1, y1, x2,
            y2]`` and ``scores`` (1,).
        """
        results = self.track_states(self._single_frame(inputs), states)
        for state, result in zip(states, results):
            state.frame_id += 1
            result.bboxes = state.report(result.bboxes)
        return results

    def track_batch(
        self, inputs: dict, data_samples: list, memos: list
    ) -> List[InstanceData]:
        """Deprecated: use :meth:`track_targets` with the states."""
        warnings.warn(
            'USOT.track_batch is deprecated; use track_targets(inputs, '
            'states)',
            DeprecationWarning,
            stacklevel=2,
        )
        if len(data_samples) != len(memos):
            raise ValueError(
                f'{len(data_samples)} data samples for {len(memos)} targets'
            )
        results = self.track_targets(inputs, memos)
        for state, sample in zip(memos, data_samples):
            state.frame_id = self._frame_id([sample])
        return results

    # --------------------------------------------- mmtrack's contract
    def init(self, img: Tensor) -> None:
        """mmtrack's ``init``: start ``self.memo`` from ``self.memo.bbox``.

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255.
        """
        memo = self.memo
        self.memo = self.init_state(
            img, memo.bbox, frame_id=memo.get('frame_id', 0)
        )

    def track(self, img: Tensor, data_samples=None) -> List[InstanceData]:
        """mmtrack's ``track``: move ``self.memo``'s target into ``img``.

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255.
            data_samples (list[TrackDataSample], optional): unused; part of
                the base-class contract.

        Returns:
            list[InstanceData]: one item, see :meth:`track_states`.
        """
        return self.track_states(img, [self._video_state()])

    def _video_state(self) -> USOTTrackState:
        state = getattr(self, 'memo', None)
        if not isinstance(state, USOTTrackState):
            raise RuntimeError('USOT.track called before init')
        return state

    def predict_ope(
        self, inputs: dict, data_samples: list
    ) -> List[InstanceData]:
        """One-pass evaluation, with the 1-based box convention.

        Frame 0 starts ``self.memo`` (:meth:`init_target`), later frames
        track it (:meth:`track_targets`). With ``test_cfg.one_based_gt``
        the first-frame box is moved by ``(-1, -1)`` before init and every
        output box by ``(+1, +1)``, as the official test script does with
        1-based ground truth (OTB, LaSOT, TrackingNet, GOT-10k), so the
        metric compares in the coordinates of the ground-truth files.

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W).
            data_samples (list[TrackDataSample]): one sample with
                ``gt_instances.bboxes`` ((1, 4) xyxy or (1, 8) quad; used on
                the first frame) and ``metainfo['frame_id']``.

        Returns:
            list[InstanceData]: one item with ``bboxes`` of shape (1, 4) in
            ``[x1, y1, x2, y2]`` format and ``scores`` of shape (1,) (-1 on
            the first frame).
        """
        self._single_frame(inputs)
        frame_id = self._frame_id(data_samples)
        if frame_id == 0:
            self.memo, result = self.init_target(inputs, data_samples[0])
            return [result]
        state = getattr(self, 'memo', None)
        if not isinstance(state, USOTTrackState):
            raise RuntimeError(
                f'USOT got frame {frame_id} of a video before its frame 0'
            )
        result = self.track_targets(inputs, [state])[0]
        state.frame_id = frame_id
        return [result]

    @staticmethod
    def _single_frame(inputs: dict) -> Tensor:
        img = inputs['img']
        if img.dim() != 5 or img.size(0) != 1:
            raise ValueError(
                'USOT tracks one video frame at a time: img must be of shape'
                f' (1, T, C, H, W), got {tuple(img.shape)}'
            )
        return img[0]

    @staticmethod
    def _frame_id(data_samples: list) -> int:
        frame_id = data_samples[0].metainfo.get('frame_id', -1)
        if frame_id < 0:
            raise ValueError('USOT needs metainfo frame_id >= 0')
        return frame_id

    # -------------------------------------------------------------- VOT
    def predict_vot(
        self, inputs: dict, data_samples: list
    ) -> List[InstanceData]:
        """VOT supervised reset protocol without the ``vot`` toolkit.

        Same states as :meth:`BaseSingleObjectTracker.predict_vot`: ``[[1]]``
        on (re)initialisation, ``[[2]]`` on failure (no overlap with the
        ground truth inside the image), ``[[0]]`` for the 5 skipped frames
        after a failure, otherwise the tracked box. The overlap is
        :func:`mmusot.structures.region_overlap` (one host read per frame,
        inherent to the protocol).

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W).
            data_samples (list[TrackDataSample]): one sample with
                ``gt_instances.bboxes`` ((1, 4) or (1, 8) quad) and
                ``frame_id``.

        Returns:
            list[InstanceData]: one item with ``bboxes`` (1, 4) or (1, 1)
            and ``scores`` (1,).
        """
        img = self._single_frame(inputs)
        frame_id = self._frame_id(data_samples)
        gt_bboxes = data_samples[0].gt_instances['bboxes']
        metainfo = data_samples[0].metainfo
        if frame_id == 0:
            if self.usot_test_cfg().one_based_gt:
                raise ValueError(
                    'test_cfg.one_based_gt applies to the OPE protocol only; '
                    'the VOT protocol uses the boxes as given'
                )
            self.init_frame_id = 0
        result = InstanceData()
        if self.init_frame_id == frame_id:
            self.memo = self.init_state(
                img, quad2bbox_cxcywh(gt_bboxes), frame_id=frame_id
            )
            result.bboxes = gt_bboxes.new_tensor([[VOT_INIT]])
            result.scores = gt_bboxes.new_tensor([INIT_SCORE])
            return [result]
        if self.init_frame_id > frame_id:
            self.memo.frame_id = frame_id
            result.bboxes = gt_bboxes.new_tensor([[VOT_SKIPPED]])
            result.scores = gt_bboxes.new_tensor([INIT_SCORE])
            return [result]
        self.memo.frame_id = frame_id
        results = self.track(img, data_samples)
        bbox = results[0].bboxes[0]
        shape = metainfo.get('img_shape', img.shape[-2:])
        overlap = region_overlap(
            bbox.detach().cpu().numpy(),
            gt_bboxes[0].detach().cpu().numpy(),
            bounds=(shape[1], shape[0]),
        )
        if overlap <= 0:
            self.init_frame_id = frame_id + VOT_SKIP_FRAMES
            results[0].bboxes = img.new_tensor([[VOT_FAILURE]])
        return results
