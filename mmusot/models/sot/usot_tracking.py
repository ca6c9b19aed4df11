# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT online tracking: the ``init``/``track`` half of the tracker.

Implements the inference of `USOT <https://arxiv.org/abs/2108.12711>`_
(paper Sec. 4.1, "Inference"; official ``lib/tracker/usot_tracker.py``) as
:class:`USOTTrackingMixin`, the ``init``/``track`` half of the
:class:`mmtrack.models.sot.base.BaseSingleObjectTracker` contract. The
network half (``forward_template``, ``forward_search`` and ``self.head``)
comes from :class:`mmusot.models.sot.USOT`. The pieces live beside it:

* the crops: :mod:`mmusot.models.sot.usot_crop`;
* the response decoding, penalties and cosine window:
  :meth:`USOTHead.predict_by_feat
  <mmusot.models.track_heads.USOTHead.predict_by_feat>`;
* the memory queue: :class:`~mmusot.models.sot.usot_memory.USOTMemoryQueue`;
* the VOT overlap: :func:`mmusot.structures.region_overlap`.

With the default ``crop_mode='exact'`` everything per frame runs on the
model's device as tensor operations and no value is read back to the host
while tracking, so CUDA frames pipeline. ``crop_mode='official'`` crops on
the host with OpenCV on uint8, as the official tracker does.

Inference settings are :class:`USOTTestConfig` (the single place of their
defaults); a model's ``test_cfg`` overrides any of them.
"""

import dataclasses
import math
from typing import List, Optional, Tuple, Union

import addict
import numpy as np
import torch
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh
from mmengine.structures import InstanceData
from mmtrack.structures.bbox import quad2bbox_cxcywh
from torch import Tensor

from ...structures import context_side, region_overlap
from ..track_heads.usot_head import cosine_window
from .usot_crop import (
    CROP_MODES,
    box_in_crop,
    crop_official,
    crop_siamfc,
    frame_to_uint8,
    official_pad_value,
    patch_to_tensor,
    python2round,
)
from .usot_memory import MEMORY_INDEX_MODES, USOTMemoryQueue

#: ``test_cfg.size_smoothing`` values.
SIZE_SMOOTHING_MODES = ('double', 'single')
#: ``test_cfg.test_mode`` values (mmtrack's OPE and VOT protocols).
TEST_MODES = ('OPE', 'VOT')
#: VOT protocol states written instead of a box (mmtrack / pysot).
VOT_INIT, VOT_FAILURE, VOT_SKIPPED = 1.0, 2.0, 0.0
#: VOT: frames skipped after a failure before re-initialising.
VOT_SKIP_FRAMES = 5
#: The score reported on an initialisation frame (mmtrack convention).
INIT_SCORE = -1.0
#: 1-based (MATLAB) box files start counting pixels here.
ONE_BASED_ORIGIN = 1.0
#: Smallest crop side in frame pixels (a sub-pixel box still crops).
MIN_CROP_SIDE = 1.0


@dataclasses.dataclass(frozen=True)
class USOTTestConfig:
    """USOT inference settings and their defaults.

    The defaults are the official tracker's (``experiments/test/USOT.yaml``
    and constants of ``lib/tracker/usot_tracker.py``), except
    ``crop_mode`` and ``one_based_gt``, which default to mmtrack's
    conventions (see ``configs/usot/README.md`` for the configs that
    reproduce the official tracker). A model's ``test_cfg`` may set any of
    these keys; other keys are rejected.

    Args:
        test_mode (str): ``'OPE'`` or ``'VOT'`` (supervised resets).
        exemplar_size (int): template crop side (127).
        instance_size (int): search crop side (255).
        big_instance_size (int): search crop side for small targets (271).
        small_object_area_ratio (float): a target covering less than this
            fraction of the first frame is searched with
            ``big_instance_size`` for the whole video (0.004).
        context_amount (float): SiamFC context factor (0.5).
        window_influence (float): cosine-window weight (0.321).
        penalty_k (float): size/ratio change penalty factor (0.021).
        lr (float): size update rate, times penalty × score (0.73).
        offline_weight (float): weight of the offline branch in the fused
            score, ``w σ(cls) + (1 - w) σ(mem)`` (0.3).
        memory_queue_size (int): N_q kernels of the memory head (7).
        init_memory_score (float): score of the first history entry (0.9).
        memory_clamp_margin (float): memory pooling boxes are clamped to
            the response grid ± this many search pixels (8).
        memory_index (str): ``'official'`` reproduces the reference's queue
            index bug (see :class:`USOTMemoryQueue`); ``'corrected'`` picks
            one best-scored entry per equal history segment (the paper's
            design).
        size_smoothing (str): ``'double'`` reproduces the reference's size
            update smoothed twice (rate lr², see :func:`update_size`);
            ``'single'`` applies lr once.
        min_size (float): minimum box side in frame pixels (10).
        dedupe_memory (bool): speed only: queue entries that are the same
            history entry go through the memory head once, weighted by
            their count in the fusion softmax (same response up to float
            rounding). Defaults to True.
        crop_mode (str): ``'exact'`` (default): the exact float crop on the
            model's device, :func:`~mmusot.models.sot.usot_crop.crop_siamfc`;
            ``'official'``: the official uint8 OpenCV crop on the host,
            :func:`~mmusot.models.sot.usot_crop.crop_official`, slower,
            needed to reproduce the official trajectories exactly.
        one_based_gt (bool): the dataset's boxes are 1-based (MATLAB)
            pixel coordinates, as in the OTB, LaSOT and UAV123 files. The
            official evaluation then starts the tracker from ``box - (1, 1)``
            and reports ``box + (1, 1)``, so that the metric compares in
            the coordinates of the ground-truth files. OPE only.
            Defaults to False (boxes used as given, mmtrack's convention).
    """

    test_mode: str = 'OPE'
    exemplar_size: int = 127
    instance_size: int = 255
    big_instance_size: int = 271
    small_object_area_ratio: float = 0.004
    context_amount: float = 0.5
    window_influence: float = 0.321
    penalty_k: float = 0.021
    lr: float = 0.73
    offline_weight: float = 0.3
    memory_queue_size: int = 7
    init_memory_score: float = 0.9
    memory_clamp_margin: float = 8.0
    memory_index: str = 'official'
    size_smoothing: str = 'double'
    min_size: float = 10.0
    dedupe_memory: bool = True
    crop_mode: str = 'exact'
    one_based_gt: bool = False

    def __post_init__(self) -> None:
        for key, choices in (
            ('test_mode', TEST_MODES),
            ('memory_index', MEMORY_INDEX_MODES),
            ('size_smoothing', SIZE_SMOOTHING_MODES),
            ('crop_mode', CROP_MODES),
        ):
            value = getattr(self, key)
            if value not in choices:
                raise ValueError(
                    f'test_cfg.{key} must be one of {choices}, got {value!r}'
                )

    @classmethod
    def from_cfg(cls, test_cfg: Optional[dict] = None) -> 'USOTTestConfig':
        """The defaults overridden by the keys of ``test_cfg``.

        Args:
            test_cfg (dict, optional): a model's ``test_cfg``.

        Returns:
            USOTTestConfig: the effective settings.

        Raises:
            ValueError: for an unknown key or an invalid mode.
        """
        test_cfg = dict(test_cfg or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(test_cfg) - known)
        if unknown:
            raise ValueError(
                f'unknown USOT test_cfg key(s) {unknown}; known keys: '
                f'{sorted(known)} (the response stride and size come from '
                'the head)'
            )
        return cls(**test_cfg)


def update_size(
    size: Tensor, pred_size: Tensor, lr: Tensor, mode: str = 'double'
) -> Tensor:
    """Smooth the target size towards a prediction.

    Official ``lib/tracker/usot_tracker.py`` (inherited from Ocean/TracKit),
    which smooths twice.

    Args:
        size (Tensor): of shape (2,), the current ``[w, h]``.
        pred_size (Tensor): of shape (2,), the predicted ``[w, h]``.
        lr (Tensor): of shape (), ``penalty * score * lr`` at the best cell.
        mode (str): ``'double'`` (reference: ``R = lr p + (1 - lr) T`` then
            ``T = (1 - lr) T + lr R``, i.e. rate lr²) or ``'single'``
            (``T = (1 - lr) T + lr p``). Defaults to ``'double'``.

    Returns:
        Tensor: of shape (2,), the new size.
    """
    if mode not in SIZE_SMOOTHING_MODES:
        raise ValueError(
            f'size_smoothing must be one of '
            f'{SIZE_SMOOTHING_MODES}, got {mode!r}'
        )
    smoothed = lr * pred_size + (1 - lr) * size
    if mode == 'single':
        return smoothed
    return (1 - lr) * size + lr * smoothed


class USOTTrackingMixin:
    """USOT inference for a :class:`BaseSingleObjectTracker`.

    The host class provides ``forward_template(img)`` ((N, 3, 127, 127) →
    (N, 256, 15, 15)), ``forward_search(img)`` ((N, 3, I, I) → (N, 256, F,
    F)), ``self.head`` (:class:`~mmusot.models.track_heads.USOTHead`:
    ``template_kernel``, ``search_box_to_cells``, ``pool``,
    ``response_size``, ``response_extent``, ``stride``, ``encode_search``,
    ``forward_offline``, ``forward_memory``, ``predict_by_feat``) and
    ``self.test_cfg`` (keys of :class:`USOTTestConfig`).

    Per video the state lives in ``self.memo`` (set up by
    :meth:`predict_ope` / :meth:`predict_vot`): ``cfg`` (the
    :class:`USOTTestConfig` read at init), ``center``/``size`` (the
    reference's target position and size, kept apart from ``memo.bbox``
    because the output rectangle is shifted inside the image), the template
    kernel, the memory queue and the crop constants.
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
    def _crop_source(
        self, img: Tensor, first: bool = False
    ) -> Union[Tensor, np.ndarray]:
        """What :meth:`_crop` cuts from: the frame in the crop's numerics.

        Args:
            img (Tensor): of shape (1, 3, H, W), BGR 0-255.
            first (bool): the first frame of a video (the official crop
                then checks the frame is 8-bit). Defaults to False.

        Returns:
            Tensor | np.ndarray: ``img`` itself (``'exact'``) or the frame
            as (H, W, 3) uint8 on the host (``'official'``).
        """
        if self.memo.cfg.crop_mode == 'official':
            return frame_to_uint8(img, check=first)
        return img

    def _crop(
        self,
        source: Union[Tensor, np.ndarray],
        center: Tensor,
        side: Tensor,
        out_size: int,
        device: torch.device,
    ) -> Tensor:
        """One SiamFC crop in the video's ``crop_mode``.

        Args:
            source (Tensor | np.ndarray): from :meth:`_crop_source`.
            center (Tensor): of shape (2,) as ``[cx, cy]``, frame pixels.
            side (Tensor): of shape (), integral crop side in frame pixels.
            out_size (int): side of the output patch.
            device (torch.device): the model's device.

        Returns:
            Tensor: of shape (1, 3, out_size, out_size), float32, BGR.
        """
        if isinstance(source, Tensor):
            return crop_siamfc(
                source, center[None], side[None], out_size, self.memo.pad_value
            )
        patch = crop_official(
            source,
            center.tolist(),
            float(side),
            out_size,
            self.memo.pad_value,
        )
        return patch_to_tensor(patch, device)

    # ------------------------------------------------------------- init
    def init(self, img: Tensor) -> None:
        """Start a video from ``self.memo.bbox`` on the first frame.

        Crops the 127 template, pools its 7×7 kernel, crops the search-size
        window (and its horizontal flip) around the target for the two
        permanent memory entries, and fixes the search size for the video
        (``big_instance_size`` when the target covers less than
        ``small_object_area_ratio`` of the frame).

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor (C = 1 is treated as grey).

        Raises:
            ValueError: for a malformed frame (or, with ``crop_mode=
                'official'``, one that is not 8-bit), an invalid
                ``test_cfg``, or an init box that is not finite, has no area
                or lies outside the frame.
        """
        cfg = self.usot_test_cfg()
        memo = self.memo
        memo.cfg = cfg
        img = self._to_bgr(img)
        height, width = img.shape[-2:]
        bbox = memo.bbox.reshape(-1)[:4].float().to(img.device)
        self._check_init_box(bbox, width, height)
        center, size = bbox[:2].clone(), bbox[2:].clone()

        area_ratio = float(size[0] * size[1]) / float(width * height)
        instance_size = (
            cfg.big_instance_size
            if area_ratio < cfg.small_object_area_ratio
            else cfg.instance_size
        )
        exemplar_size = cfg.exemplar_size
        source = self._crop_source(img, first=True)
        if cfg.crop_mode == 'official':
            memo.pad_value = official_pad_value(source)
        else:
            memo.pad_value = img.mean(dim=(0, 2, 3))

        # template: side rounded half-to-even, box by the reference formula
        s_z_raw = context_side(size, cfg.context_amount)
        s_z = torch.round(s_z_raw).clamp(min=MIN_CROP_SIDE)
        z_crop = self._crop(source, center, s_z, exemplar_size, img.device)
        z_feat = self.forward_template(z_crop)
        z_box = box_in_crop(center, size, s_z, exemplar_size)
        z_kernel = self.head.template_kernel(z_feat, z_box[None])

        # permanent memory: search-size crop and its horizontal flip
        s_x = python2round(s_z_raw * instance_size / exemplar_size).clamp(
            min=MIN_CROP_SIDE
        )
        x_crop = self._crop(source, center, s_x, instance_size, img.device)
        x_crops = torch.cat((x_crop, x_crop.flip(-1)))
        x_feat = self.forward_search(x_crops)
        score_size = self.head.response_size(x_feat.shape[-1])
        x_box = box_in_crop(center, size, s_x, instance_size)
        flip_box = torch.stack(
            (
                instance_size - x_box[2],
                x_box[1],
                instance_size - x_box[0],
                x_box[3],
            )
        )
        flip_box = flip_box.clamp(0, instance_size)
        clamp = self._memory_clamp(score_size)
        cells = self.head.search_box_to_cells(
            torch.stack((x_box, flip_box)), clamp=clamp
        )
        init_feats = self.head.pool(x_feat, cells)
        queue = USOTMemoryQueue(
            cfg.memory_queue_size, cfg.memory_index, cfg.init_memory_score
        )
        queue.reset(init_feats[0], init_feats[1])

        memo.center = center
        memo.size = size
        memo.z_kernel = z_kernel
        memo.instance_size = instance_size
        memo.score_size = score_size
        memo.window = cosine_window(score_size, img.device)
        memo.memory = queue

    def _memory_clamp(self, score_size: int) -> Tuple[float, float]:
        """Pixel range for memory boxes: the response extent ± a margin."""
        margin_cells = self.memo.cfg.memory_clamp_margin / self.head.stride
        return self.head.response_extent(score_size, margin_cells)

    # ------------------------------------------------------------ track
    def track(self, img: Tensor, data_samples=None) -> List[InstanceData]:
        """Track the target into ``img``.

        With ``crop_mode='exact'`` all on the device, nothing read back.

        Args:
            img (Tensor): of shape (1, C, H, W), BGR 0-255 after the data
                preprocessor.
            data_samples (list[TrackDataSample], optional): unused; part of
                the base-class contract.

        Returns:
            list[InstanceData]: one item with ``bboxes`` of shape (1, 4) in
            ``[x1, y1, x2, y2]`` format, original-image pixels, and
            ``scores`` of shape (1,), the fused score of the chosen cell.
        """
        memo = self.memo
        if 'memory' not in memo:
            raise RuntimeError('USOT.track called before init')
        img = self._to_bgr(img)
        x_crop, scale_z = self._search_crop(img)
        x_feat = self.forward_search(x_crop)
        search_enc = self.head.encode_search(x_feat)
        cls_logits, reg = self.head.forward_offline(search_enc, memo.z_kernel)
        if memo.cfg.dedupe_memory:
            mem_kernels, counts = memo.memory.build_distinct_queue()
        else:
            mem_kernels, counts = memo.memory.build_queue(), None
        mem_logits = self.head.forward_memory(
            search_enc, mem_kernels[None], counts
        )
        return [
            self._update_state(
                img, x_feat, cls_logits, mem_logits, reg, scale_z
            )
        ]

    def _search_crop(self, img: Tensor) -> Tuple[Tensor, Tensor]:
        """The search crop of ``self.memo``'s target and its scale.

        Returns:
            tuple[Tensor, Tensor]: the crop (1, 3, S, S) and ``scale_z``,
            crop pixels per frame pixel.
        """
        memo = self.memo
        cfg = memo.cfg
        s_z = context_side(memo.size, cfg.context_amount)
        scale_z = cfg.exemplar_size / s_z
        s_x = python2round(s_z * memo.instance_size / cfg.exemplar_size)
        x_crop = self._crop(
            self._crop_source(img),
            memo.center,
            s_x,
            memo.instance_size,
            img.device,
        )
        return x_crop, scale_z

    def _update_state(
        self,
        img: Tensor,
        x_feat: Tensor,
        cls_logits: Tensor,
        mem_logits: Tensor,
        reg: Tensor,
        scale_z: Tensor,
    ) -> InstanceData:
        """Pick the box, move ``self.memo``'s state, grow its memory.

        Args:
            img (Tensor): the frame, (1, 3, H, W).
            x_feat (Tensor): the target's search feature, (1, C, F, F).
            cls_logits, mem_logits (Tensor): (1, 1, S, S) responses.
            reg (Tensor): (1, 4, S, S) distances.
            scale_z (Tensor): from :meth:`_search_crop`.

        Returns:
            InstanceData: ``bboxes`` (1, 4) xyxy frame pixels, ``scores``
            (1,).
        """
        memo = self.memo
        cfg = memo.cfg
        height, width = img.shape[-2:]
        center, size = memo.center, memo.size
        best = self.head.predict_by_feat(
            cls_logits,
            mem_logits,
            reg,
            target_wh=size * scale_z,
            window=memo.window,
            offline_weight=cfg.offline_weight,
            penalty_k=cfg.penalty_k,
            window_influence=cfg.window_influence,
        )

        box = best.bboxes[0]
        score = best.scores[0]
        pred_center = (box[:2] + box[2:]) / 2
        pred_size = (box[2:] - box[:2]) / scale_z
        lr = best.penalties[0] * score * cfg.lr
        new_center = center + (pred_center - memo.instance_size // 2) / scale_z
        new_size = update_size(size, pred_size, lr, cfg.size_smoothing)
        # python-scalar clamps: no host-to-device copy (a CUDA sync point)
        new_center = torch.stack(
            (new_center[0].clamp(0, width), new_center[1].clamp(0, height))
        )
        new_size = torch.stack(
            (
                new_size[0].clamp(cfg.min_size, width),
                new_size[1].clamp(cfg.min_size, height),
            )
        )
        memo.center, memo.size = new_center, new_size

        cells = self.head.search_box_to_cells(
            box[None], clamp=self._memory_clamp(memo.score_size)
        )
        memo.memory.append(self.head.pool(x_feat, cells), score)

        top_left = (new_center - new_size / 2).clamp(min=0)
        bboxes = torch.cat((top_left, top_left + new_size))[None]
        return InstanceData(bboxes=bboxes, scores=best.scores)

    # ------------------------------------------------------ many targets
    def track_batch(
        self, inputs: dict, data_samples: list, memos: list
    ) -> List[InstanceData]:
        """Track several targets of one frame through one network pass.

        The opt-in batching hook of :class:`mmusot.apis.MultiTracker`: each
        target keeps its own state (``memos[k]``, as :meth:`init` made it);
        the search crops of targets with the same search size go through
        the backbone, neck and heads together (the memory head with each
        target's full queue). Results equal per-target :meth:`predict`
        calls up to float rounding.

        Args:
            inputs (dict[str, Tensor]): ``img`` of shape (1, 1, C, H, W).
            data_samples (list[TrackDataSample]): one per target, with
                ``metainfo['frame_id'] > 0``.
            memos (list[addict.Dict]): the targets' states, updated in
                place (``frame_id``, ``bbox`` and the tracking state).

        Returns:
            list[InstanceData]: per target, ``bboxes`` (1, 4) xyxy frame
            pixels (in the ground truth's convention) and ``scores`` (1,).
        """
        if len(data_samples) != len(memos):
            raise ValueError(
                f'{len(data_samples)} data samples for {len(memos)} targets'
            )
        img = self._to_bgr(self._single_frame(inputs))
        saved = getattr(self, 'memo', None)
        try:
            crops = []
            for memo in memos:
                if 'memory' not in memo:
                    raise RuntimeError('USOT.track_batch before init')
                self.memo = memo
                crops.append(self._search_crop(img))
            results: List[Optional[InstanceData]] = [None] * len(memos)
            sizes = [memo.instance_size for memo in memos]
            for size in sorted(set(sizes)):
                group = [k for k, s in enumerate(sizes) if s == size]
                x_feat = self.forward_search(
                    torch.cat([crops[k][0] for k in group])
                )
                enc = self.head.encode_search(x_feat)
                cls_logits, reg = self.head.forward_offline(
                    enc, torch.cat([memos[k].z_kernel for k in group])
                )
                queues = torch.stack(
                    [memos[k].memory.build_queue() for k in group]
                )
                mem_logits = self.head.forward_memory(enc, queues)
                for j, k in enumerate(group):
                    self.memo = memos[k]
                    part = slice(j, j + 1)
                    result = self._update_state(
                        img,
                        x_feat[part],
                        cls_logits[part],
                        mem_logits[part],
                        reg[part],
                        crops[k][1],
                    )
                    memos[k].frame_id = self._frame_id([data_samples[k]])
                    memos[k].bbox = bbox_xyxy_to_cxcywh(result.bboxes[0])
                    if memos[k].cfg.one_based_gt:
                        result.bboxes = result.bboxes + ONE_BASED_ORIGIN
                    results[k] = result
        finally:
            if saved is None:
                self.__dict__.pop('memo', None)
            else:
                self.memo = saved
        return results

    # -------------------------------------------------------------- OPE
    def predict_ope(
        self, inputs: dict, data_samples: list
    ) -> List[InstanceData]:
        """One-pass evaluation, with the 1-based box convention.

        :meth:`BaseSingleObjectTracker.predict_ope`, plus
        ``test_cfg.one_based_gt``: the first-frame box is moved by ``(-1,
        -1)`` before init and every output box by ``(+1, +1)``, as the
        official test script does with 1-based ground truth (OTB, LaSOT,
        TrackingNet, GOT-10k), so the metric compares in the coordinates
        of the ground-truth files.

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
        img = self._single_frame(inputs)
        frame_id = self._frame_id(data_samples)
        if frame_id == 0:
            cfg = self.usot_test_cfg()
        elif 'memory' in getattr(self, 'memo', {}):
            cfg = self.memo.cfg
        else:
            raise RuntimeError(
                f'USOT got frame {frame_id} of a video before its frame 0'
            )
        origin = ONE_BASED_ORIGIN if cfg.one_based_gt else 0.0
        if frame_id == 0:
            gt_bboxes = data_samples[0].gt_instances['bboxes']
            self.memo = addict.Dict()
            self.memo.frame_id = frame_id
            bbox = quad2bbox_cxcywh(gt_bboxes).reshape(-1)[:4].clone()
            bbox[:2] -= origin
            self.memo.bbox = bbox
            self.init(img)
            result = InstanceData(
                bboxes=bbox_cxcywh_to_xyxy(bbox)[None],
                scores=gt_bboxes.new_tensor([INIT_SCORE]),
            )
        else:
            self.memo.frame_id = frame_id
            result = self.track(img, data_samples)[0]
            self.memo.bbox = bbox_xyxy_to_cxcywh(result.bboxes[0])
        if origin:
            result.bboxes = result.bboxes + origin
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
            self.memo = addict.Dict()
            self.memo.frame_id = frame_id
            self.memo.bbox = quad2bbox_cxcywh(gt_bboxes)
            self.init(img)
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
        self.memo.bbox = torch.cat(
            ((bbox[:2] + bbox[2:]) / 2, bbox[2:] - bbox[:2])
        )
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
