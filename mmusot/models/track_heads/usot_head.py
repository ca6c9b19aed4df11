# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT head: offline (cls + reg) and memory branches, losses.

Module and parameter names match the official checkpoints
(``lib/models/connect.py``, ``box_tower_reg``) after the ``connect_model.``
prefix is replaced by ``head.``, e.g. ``cls_encode.matrix11_k.0.weight``,
``cls_dw.weight``, ``conf_fusion.conf_gen.0.weight``,
``bbox_tower.0.weight``, ``adjust``, ``bias``.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from mmtrack.registry import MODELS
from torch import Tensor, nn

from ...tracking import postprocess as post
from ..layers import (
    ConfidenceValueFusion,
    MultiScaleDWFusion,
    MultiScaleEncoder,
    prroi_pool2d,
)

SEARCH_POOL_AXES = ('official', 'corrected')
REG_LOSS_NORMS = ('cell', 'sample')
#: The official heads scale their classification logits by 0.1.
CLS_LOGIT_SCALE = 0.1


def weighted_bce_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Class-balanced BCE of USOT (official ``_weighted_BCE``,
    ``lib/models/models.py``).

    ``0.5 * mean BCE over positives + 0.5 * mean BCE over negatives``,
    with positives and negatives pooled over the whole batch. A term with
    no cells contributes 0.

    Args:
        logits (Tensor): of any shape, e.g. (N, 1, 25, 25).
        labels (Tensor): of the same number of elements; 1 = positive,
            0 = negative, anything else is ignored.

    Returns:
        Tensor: the scalar loss.
    """
    logits = logits.reshape(-1)
    labels = labels.reshape(-1).to(logits.dtype)
    bce = nn.functional.binary_cross_entropy_with_logits(
        logits, labels, reduction='none'
    )
    loss = logits.sum() * 0
    for value in (1.0, 0.0):
        mask = labels == value
        count = mask.sum()
        term = (bce * mask).sum() / count.clamp(min=1)
        loss = loss + 0.5 * term
    return loss


def iou_loss(
    pred: Tensor, target: Tensor, weight: Tensor, norm: str = 'cell'
) -> Tensor:
    """UnitBox IoU loss with +1 smoothing (official ``_IOULoss``,
    ``lib/models/models.py``).

    ``mean over cells with weight > 0 of -log((I + 1) / (U + 1))``, where
    I and U are the intersection and union of the boxes described by the
    (l, t, r, b) distances of the prediction and the target.

    Every cell inside a target box counts, so with ``norm='cell'`` (the
    official mean over all counted cells of the batch) a sample weighs in
    proportion to its target's area in the search crop: a model that
    cannot yet tell sizes apart is pulled towards the larger targets.
    ``norm='sample'`` averages each sample's cells first, then the samples
    that have any (every target weighs the same).

    Args:
        pred (Tensor): of shape (N, 4, H, W), predicted (l, t, r, b)
            distances in search pixels.
        target (Tensor): of shape (N, 4, H, W), target distances.
        weight (Tensor): of shape (N, H, W) or (N, 1, H, W); cells with
            a positive weight count.
        norm (str): ``'cell'`` or ``'sample'``. Defaults to 'cell'.

    Returns:
        Tensor: the scalar loss (0 when no cell counts).
    """
    if norm not in REG_LOSS_NORMS:
        raise ValueError(
            f'reg loss norm must be one of {REG_LOSS_NORMS}, got {norm!r}'
        )
    num = pred.shape[0]
    pred = pred.permute(0, 2, 3, 1).reshape(-1, 4)
    target = target.permute(0, 2, 3, 1).reshape(-1, 4).to(pred.dtype)
    mask = weight.reshape(-1) > 0
    p_l, p_t, p_r, p_b = pred.unbind(dim=1)
    t_l, t_t, t_r, t_b = target.unbind(dim=1)
    area_p = (p_l + p_r) * (p_t + p_b)
    area_t = (t_l + t_r) * (t_t + t_b)
    inter = (torch.minimum(p_l, t_l) + torch.minimum(p_r, t_r)) * (
        torch.minimum(p_t, t_t) + torch.minimum(p_b, t_b)
    )
    union = area_p + area_t - inter
    # Unselected cells may hold anything; keep their logs finite.
    ratio = torch.where(
        mask, (inter + 1) / (union + 1), torch.ones_like(inter)
    )
    losses = -torch.log(ratio)
    if norm == 'sample':
        mask = mask.reshape(num, -1)
        per_sample = (losses.reshape(num, -1) * mask).sum(dim=1)
        counts = mask.sum(dim=1)
        counted = counts > 0
        per_sample = per_sample / counts.clamp(min=1)
        return per_sample.sum() / counted.sum().clamp(min=1)
    return (losses * mask).sum() / mask.sum().clamp(min=1)


def _tower(channels: int, num_convs: int) -> nn.Sequential:
    """``num_convs`` × [3×3 conv (padding 1, bias), BN, ReLU]."""
    layers = []
    for _ in range(num_convs):
        layers += [
            nn.Conv2d(channels, channels, 3, padding=1, bias=True),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers)


def first_boxes(data_samples: Sequence, field: str) -> Tensor:
    """The first box of ``field`` (e.g. ``'gt_instances'``) of each sample.

    Returns:
        Tensor: of shape (N, 4), float32, in the samples' box format.
    """
    boxes = []
    for i, sample in enumerate(data_samples):
        if field not in sample:
            raise KeyError(f'data sample {i} has no {field}')
        bboxes = sample.get(field).bboxes
        if bboxes.numel() < 4:
            raise ValueError(f'data sample {i}: {field}.bboxes is empty')
        boxes.append(torch.as_tensor(bboxes).reshape(-1, 4)[0])
    return torch.stack(boxes).float()


def search_shifts(data_samples: Sequence) -> Optional[Tensor]:
    """``metainfo['search_shift']`` of every sample as (N, 2), or None."""
    shifts = [s.metainfo.get('search_shift') for s in data_samples]
    if any(shift is None for shift in shifts):
        return None
    return torch.stack(
        [
            torch.as_tensor(shift, dtype=torch.float32).reshape(2)
            for shift in shifts
        ]
    )


def cosine_window(size: int, device: Optional[torch.device] = None) -> Tensor:
    """:func:`mmusot.tracking.cosine_window` as a tensor on ``device``.

    Args:
        size (int): side S of the response map.
        device (torch.device, optional): Defaults to None (CPU).

    Returns:
        Tensor: of shape (S, S), float32.
    """
    return post.cosine_window(size, torch.empty(0, device=device))


#: The SiamRPN size/ratio change penalty (torch-free, tensors or arrays).
size_change_penalty = post.size_change_penalty


@MODELS.register_module()
class USOTHead(BaseModule):
    """USOT head: multi-scale depthwise correlation, towers and memory.

    "Learning to Track Objects from Unlabeled Videos", ICCV 2021,
    https://arxiv.org/abs/2108.12711 (official code:
    ``lib/models/connect.py`` for the layers, ``lib/models/models.py`` for
    the training passes).

    Branches:

    * offline: cls/reg encoders → :class:`MultiScaleDWFusion` → tower →
      ``cls_pred`` (×0.1, logits) or ``bbox_pred`` → ``exp(adjust * x +
      bias)``, the (l, t, r, b) distances in search pixels;
    * memory: M memory kernels encoded by the *cls* kernel encoders,
      correlated with the cls search encodings through ``cls_dw``, fused by
      :class:`ConfidenceValueFusion` (Eq. 8) → ``cls_memory_tower`` →
      ``cls_memory_pred`` (×0.1).

    **Geometry.** Everything pixel-related derives from the backbone's
    ``stride`` and ``feature_offset`` (the input pixel of feature cell 0;
    see :func:`mmusot.models.utils.feature_geometry`, which the USOT model
    uses to set both): feature cell ``m`` sits on pixel ``offset +
    stride * m`` (ResNet-50: ``7 + 8m``). The encoders (3×3, no padding)
    and the ``pool_size`` kernel make response cell ``r`` sit on feature
    cell ``r + (pool_size - 1) / 2``, i.e. pixel :attr:`response_offset`
    ``+ stride * r`` (31 + 8r), and an F-cell search feature gives an
    ``F - pool_size + 1`` response (:meth:`response_size`: 25 for 31, 27
    for 33).

    Loss weights set per epoch (by ``USOTStageHook``): :attr:`lambda1` (λ1
    of Eq. 9; the memory weight λ2 is ``lambda_total - lambda1``) and
    :attr:`cls_ratio` (the forward-tracking blend of offline and memory
    logits, official ``CLS_RATIOS``).

    Args:
        in_channels (int): feature channels of the neck. Defaults to 256.
        num_tower_convs (int): convs per tower. Defaults to 4.
        pool_size (int): precise RoI pooling bins. Defaults to 7.
        stride (int): feature stride in input pixels. Defaults to 8.
        feature_offset (float): input pixel of feature cell 0. Defaults to
            7 (the SiamRPN++-style ResNet-50).
        search_pool_axis (str): pixel → cell mapping of boxes pooled from
            search features: ``'official'`` uses the response axis
            ``(v - response_offset) / stride``, which lands the pooled
            window ``(pool_size - 1) / 2`` cells up-left of the box (the
            official ``image_bbox_to_prpool_bbox``; needed by the official
            weights); ``'corrected'`` uses the feature axis ``(v -
            feature_offset) / stride``. Defaults to 'official'.
        memory_clip_cells (int): forward-tracked memory boxes are clamped
            to the response extent widened by this many cells (official:
            2, i.e. [15, 239] px). Defaults to 2.
        label_radius (int): L1 radius of the positive diamond. Defaults to
            2.
        naive_cls_weight (float): λ1 of the naive stage (Eq. 6). Defaults
            to 0.2.
        reg_loss_weight (float): IoU loss weight. Defaults to 1.0.
        reg_loss_norm (str): how the IoU loss averages its cells:
            ``'cell'`` (official: over all cells inside the targets of the
            batch, so large targets weigh more) or ``'sample'`` (each
            target weighs the same; see :func:`iou_loss`). Defaults to
            'cell'.
        lambda1 (float): λ1 of the cycle-memory stage (Eq. 9). Defaults to
            0.3.
        lambda_total (float): λ1 + λ2. Defaults to 0.9.
        cls_ratio (float): forward-tracking blend
            ``cls_ratio * offline + (1 - cls_ratio) * memory``. Defaults to
            0.6.
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (PyTorch default initialisation, as the official code).
    """

    def __init__(
        self,
        in_channels: int = 256,
        num_tower_convs: int = 4,
        pool_size: int = 7,
        stride: int = 8,
        feature_offset: float = 7.0,
        search_pool_axis: str = 'official',
        memory_clip_cells: int = 2,
        label_radius: int = 2,
        naive_cls_weight: float = 0.2,
        reg_loss_weight: float = 1.0,
        reg_loss_norm: str = 'cell',
        lambda1: float = 0.3,
        lambda_total: float = 0.9,
        cls_ratio: float = 0.6,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if search_pool_axis not in SEARCH_POOL_AXES:
            raise ValueError(
                f'search_pool_axis must be one of '
                f'{SEARCH_POOL_AXES}, got {search_pool_axis!r}'
            )
        if reg_loss_norm not in REG_LOSS_NORMS:
            raise ValueError(
                f'reg_loss_norm must be one of {REG_LOSS_NORMS}, '
                f'got {reg_loss_norm!r}'
            )
        if pool_size % 2 != 1 or pool_size < 5:
            raise ValueError(
                f'pool_size must be odd and >= 5, got {pool_size}'
            )
        self.pool_size = pool_size
        self.stride = stride
        self.feature_offset = float(feature_offset)
        self.search_pool_axis = search_pool_axis
        self.memory_clip_cells = memory_clip_cells
        self.label_radius = label_radius
        self.naive_cls_weight = naive_cls_weight
        self.reg_loss_weight = reg_loss_weight
        self.reg_loss_norm = reg_loss_norm
        self.lambda1 = lambda1
        self.lambda_total = lambda_total
        self.cls_ratio = cls_ratio

        # The first two parameters, in the official order.
        self.adjust = nn.Parameter(torch.full((1,), 0.1))
        self.bias = nn.Parameter(torch.ones(1, 4, 1, 1))
        self.cls_encode = MultiScaleEncoder(in_channels)
        self.reg_encode = MultiScaleEncoder(in_channels)
        self.cls_dw = MultiScaleDWFusion(3)
        self.reg_dw = MultiScaleDWFusion(3)
        self.conf_fusion = ConfidenceValueFusion(in_channels)
        self.bbox_tower = _tower(in_channels, num_tower_convs)
        self.cls_tower = _tower(in_channels, num_tower_convs)
        self.cls_memory_tower = _tower(in_channels, num_tower_convs)
        self.bbox_pred = nn.Conv2d(in_channels, 4, 3, padding=1)
        self.cls_pred = nn.Conv2d(in_channels, 1, 3, padding=1)
        self.cls_memory_pred = nn.Conv2d(in_channels, 1, 3, padding=1)

    # ------------------------------------------------------------------
    # Geometry
    # ------------------------------------------------------------------
    @property
    def response_offset(self) -> float:
        """float: input pixel of response cell 0 (31 for ResNet-50)."""
        return self.feature_offset + self.stride * (self.pool_size - 1) / 2

    def response_size(self, feature_size: int) -> int:
        """Response cells per axis for an F-cell search feature (F - P + 1).

        Args:
            feature_size (int): search feature cells per axis (31 for a 255
                search with ResNet-50, 33 for 271).

        Returns:
            int: 25 for 31, 27 for 33 (with ``pool_size`` 7).
        """
        size = int(feature_size) - self.pool_size + 1
        if size < 1:
            raise ValueError(
                f'a {feature_size}-cell search feature is smaller than the '
                f'{self.pool_size}-cell kernel'
            )
        return size

    def response_axis(
        self,
        size: int,
        device: Optional[torch.device] = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """Input pixel of each response cell along one axis.

        Args:
            size (int): response cells per axis.
            device (torch.device, optional): output device.
            dtype (torch.dtype): output dtype. Defaults to float32.

        Returns:
            Tensor: of shape (size,), ``response_offset + stride * r``
            (31, 39, ..., 223 for 25 cells).
        """
        index = torch.arange(size, device=device, dtype=dtype)
        return index * self.stride + self.response_offset

    def response_extent(
        self, size: int, margin_cells: float = 0
    ) -> Tuple[float, float]:
        """Pixel range of a ``size``-cell response, widened by a margin.

        Args:
            size (int): response cells per axis.
            margin_cells (float): cells added on both sides. Defaults to 0.

        Returns:
            tuple[float, float]: ``(first, last)`` cell pixels (31, 223 for
            25 cells).
        """
        lo = self.response_offset - margin_cells * self.stride
        hi = self.response_offset + (size - 1 + margin_cells) * self.stride
        return float(lo), float(hi)

    @property
    def search_axis_offset(self) -> float:
        """Pixel of search-feature cell 0 under :attr:`search_pool_axis`."""
        if self.search_pool_axis == 'official':
            return self.response_offset
        return self.feature_offset

    def template_box_to_cells(
        self, boxes_px: Tensor, feature_size: int = 15
    ) -> Tensor:
        """Map template-crop boxes to template-feature cells.

        Clamp to the pixels of the template feature's first and last cells
        ([7, 119] for 15 cells) and map ``v → (v - feature_offset) /
        stride`` (official ``lib/dataset_loader/datasets_usot.py``).

        Args:
            boxes_px (Tensor): of shape (N, 4), xyxy in template-crop pixels.
            feature_size (int): template feature cells per axis. Defaults
                to 15 (a 127 template).

        Returns:
            Tensor: of shape (N, 4), xyxy in template-feature cells.
        """
        lo = self.feature_offset
        hi = self.feature_offset + self.stride * (feature_size - 1)
        return (boxes_px.clamp(lo, hi) - self.feature_offset) / self.stride

    def search_box_to_cells(
        self,
        boxes_px: Tensor,
        clamp: Optional[Tuple[float, float]] = None,
    ) -> Tensor:
        """Map search-crop boxes to search-feature cells.

        Clamp to ``clamp`` (pixels) when given, then map
        ``v → (v - search_axis_offset) / stride`` (see
        :attr:`search_pool_axis`). The same mapping holds for 255 and 271
        searches.

        Args:
            boxes_px (Tensor): of shape (N, 4), xyxy in search-crop pixels.
            clamp (tuple[float, float], optional): pixel range to clamp to,
                e.g. :meth:`response_extent`. Defaults to None.

        Returns:
            Tensor: of shape (N, 4), xyxy in search-feature cells.
        """
        if clamp is not None:
            boxes_px = boxes_px.clamp(float(clamp[0]), float(clamp[1]))
        return (boxes_px - self.search_axis_offset) / self.stride

    def pool(self, feat: Tensor, boxes: Tensor) -> Tensor:
        """Precise RoI pooling of one box per feature map.

        Args:
            feat (Tensor): of shape (N, C, H, W).
            boxes (Tensor): of shape (N, 4), xyxy in FEATURE CELLS (see
                :meth:`template_box_to_cells`, :meth:`search_box_to_cells`),
                or (K, 5) ``[batch_index, x1, y1, x2, y2]``.

        Returns:
            Tensor: of shape (N, C, P, P) (or (K, C, P, P)).
        """
        return prroi_pool2d(feat, boxes, self.pool_size, 1.0)

    def template_kernel(self, z_feat: Tensor, boxes_px: Tensor) -> Tensor:
        """Pool the template kernels at template-crop boxes.

        Args:
            z_feat (Tensor): of shape (N, C, T, T), template features.
            boxes_px (Tensor): of shape (N, 4), xyxy in template-crop
                pixels.

        Returns:
            Tensor: of shape (N, C, P, P).
        """
        cells = self.template_box_to_cells(
            boxes_px.to(z_feat.device), z_feat.shape[-1]
        )
        return self.pool(z_feat, cells)

    # ------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------
    def encode_search(self, xf: Tensor) -> Dict[str, Tuple[Tensor, ...]]:
        """Search encodings of both branches, computed once per frame.

        Args:
            xf (Tensor): of shape (N, C, F, F), the search feature.

        Returns:
            dict: ``'cls'`` and ``'reg'``, each a tuple of the three
            dilation-branch encodings of shapes (N, C, F-2, F-2),
            (N, C, F-4, F-2), (N, C, F-2, F-4).
        """
        return dict(
            cls=self.cls_encode.encode_search(xf),
            reg=self.reg_encode.encode_search(xf),
        )

    def forward_offline(
        self, search_enc: Dict[str, Tuple[Tensor, ...]], z_kernel: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """Offline branch: classification and regression.

        Args:
            search_enc (dict): output of :meth:`encode_search` for N
                searches.
            z_kernel (Tensor): of shape (N, C, P, P), the pooled template
                kernels (one per search).

        Returns:
            tuple[Tensor, Tensor]: ``cls_logits`` of shape (N, 1, S, S)
            (×0.1 included) and ``reg`` of shape (N, 4, S, S), the
            (l, t, r, b) distances in search pixels from each cell's pixel.
        """
        cls_corr = self.cls_dw(
            search_enc['cls'], self.cls_encode.encode_kernel(z_kernel)
        )
        reg_corr = self.reg_dw(
            search_enc['reg'], self.reg_encode.encode_kernel(z_kernel)
        )
        cls_logits = CLS_LOGIT_SCALE * self.cls_pred(self.cls_tower(cls_corr))
        reg = torch.exp(
            self.adjust * self.bbox_pred(self.bbox_tower(reg_corr)) + self.bias
        )
        return cls_logits, reg

    def forward_memory(
        self,
        search_enc: Dict[str, Tuple[Tensor, ...]],
        mem_kernels: Tensor,
        kernel_counts: Optional[Tensor] = None,
    ) -> Tensor:
        """Memory branch with confidence-value fusion (Eq. 8).

        A queue with repeated kernels (e.g. the official one, {f₀, f₀′,
        best older, 4 × latest}) can be passed once per distinct kernel
        with ``kernel_counts``: the result equals that of the full queue
        (up to float rounding) for a fraction of the encoding and
        correlation work, see :class:`ConfidenceValueFusion`.

        Args:
            search_enc (dict): output of :meth:`encode_search` for N
                searches (only ``'cls'`` is used).
            mem_kernels (Tensor): of shape (N, M, C, P, P), M pooled memory
                kernels per search; their cls encodings are computed here.
            kernel_counts (Tensor, optional): of shape (M,) or (N, M), the
                positive multiplicity of each kernel in the queue it
                stands for. Defaults to None (each kernel counts once).

        Returns:
            Tensor: ``mem_logits`` of shape (N, 1, S, S) (×0.1 included).
        """
        if mem_kernels.dim() != 5:
            raise ValueError(
                'mem_kernels must be of shape (N, M, C, h, w), '
                f'got {tuple(mem_kernels.shape)}'
            )
        num, mem = mem_kernels.shape[:2]
        kernels = mem_kernels.reshape(num * mem, *mem_kernels.shape[2:])
        kernel_encs = self.cls_encode.encode_kernel(kernels)
        search_encs = tuple(
            enc.repeat_interleave(mem, dim=0) for enc in search_enc['cls']
        )
        corr = self.cls_dw(search_encs, kernel_encs)
        fused = self.conf_fusion(
            corr.reshape(num, mem, *corr.shape[1:]), kernel_counts
        )
        return CLS_LOGIT_SCALE * self.cls_memory_pred(
            self.cls_memory_tower(fused)
        )

    def forward(self, z_kernel: Tensor, xf: Tensor) -> Tuple[Tensor, Tensor]:
        """Offline head on a template kernel and a search feature.

        Args:
            z_kernel (Tensor): of shape (N, C, P, P).
            xf (Tensor): of shape (N, C, F, F).

        Returns:
            tuple[Tensor, Tensor]: cls logits (N, 1, S, S) and reg
            distances (N, 4, S, S); see :meth:`forward_offline`.
        """
        return self.forward_offline(self.encode_search(xf), z_kernel)

    # ------------------------------------------------------------------
    # Inference (online tracking, official lib/tracker/usot_tracker.py)
    # ------------------------------------------------------------------
    def fuse_scores(
        self, cls_logits: Tensor, mem_logits: Tensor, offline_weight: float
    ) -> Tensor:
        """Fused response ``w σ(cls) + (1 - w) σ(mem)``, w = offline weight.

        See :func:`mmusot.tracking.fuse_scores` (paper Sec. 4.1).

        Args:
            cls_logits (Tensor): of shape (1, 1, S, S), offline logits.
            mem_logits (Tensor): of shape (1, 1, S, S), memory logits.
            offline_weight (float): w.

        Returns:
            Tensor: of shape (S, S), float32 probabilities.
        """
        return post.fuse_scores(cls_logits, mem_logits, offline_weight)

    def decode_boxes(self, reg: Tensor) -> Tensor:
        """The box of every response cell.

        Cell ``(r, c)`` sits on pixel ``(gx, gy)`` of the search crop
        (:meth:`response_axis`, i.e. ``8 (c - S // 2) + I // 2`` for an
        I-pixel search) and predicts ``[gx - l, gy - t, gx + r, gy + b]``.

        Args:
            reg (Tensor): of shape (4, S, S), ``[l, t, r, b]`` distances in
                search-crop pixels.

        Returns:
            Tensor: of shape (4, S, S) in ``[x1, y1, x2, y2]`` format,
            search-crop pixels.
        """
        axis = self.response_axis(
            reg.size(-1), device=reg.device, dtype=reg.dtype
        )
        return post.decode_boxes(reg, axis)

    def penalized_scores(
        self,
        score: Tensor,
        boxes: Tensor,
        target_wh: Tensor,
        window: Tensor,
        penalty_k: float,
        window_influence: float,
    ) -> Tuple[Tensor, Tensor]:
        """The map the tracker maximises; see
        :func:`mmusot.tracking.penalized_scores`.

        Returns:
            tuple[Tensor, Tensor]: ``pscore`` and ``penalty``, each of shape
            (S, S).
        """
        return post.penalized_scores(
            score, boxes, target_wh, window, penalty_k, window_influence
        )

    def predict_by_feat(
        self,
        cls_logits: Tensor,
        mem_logits: Tensor,
        reg: Tensor,
        target_wh: Tensor,
        window: Tensor,
        offline_weight: float,
        penalty_k: float,
        window_influence: float,
    ) -> InstanceData:
        """Pick the best cell of one frame's response and decode its box.

        :func:`mmusot.tracking.select_best` on this head's response grid
        (the tracker state, :class:`mmusot.tracking.USOTTrackState`, calls
        that function itself, on tensors or numpy arrays). Everything stays
        on the input device; nothing is read back.

        Args:
            cls_logits (Tensor): of shape (1, 1, S, S), offline logits.
            mem_logits (Tensor): of shape (1, 1, S, S), memory logits.
            reg (Tensor): of shape (1, 4, S, S), ``[l, t, r, b]`` distances
                in search-crop pixels.
            target_wh (Tensor): of shape (2,), current target size scaled
                into the search crop.
            window (Tensor): of shape (S, S), :func:`cosine_window`.
            offline_weight (float): weight of the offline branch.
            penalty_k (float): size-change penalty factor.
            window_influence (float): weight of the cosine window.

        Returns:
            InstanceData: one instance: ``bboxes`` (1, 4) in ``[x1, y1, x2,
            y2]`` format, search-crop pixels; ``scores`` (1,), the fused
            score of the chosen cell (before penalty and window);
            ``penalties`` (1,), its size-change penalty; ``indices`` (1,),
            long, its flat index in the S × S map.
        """
        axis = self.response_axis(cls_logits.size(-1), device=reg.device)
        best = post.select_best(
            cls_logits,
            mem_logits,
            reg,
            axis,
            target_wh,
            window,
            offline_weight,
            penalty_k,
            window_influence,
        )
        return InstanceData(**best._asdict())

    # ------------------------------------------------------------------
    # Targets and losses
    # ------------------------------------------------------------------
    def get_targets(
        self,
        search_bboxes: Tensor,
        size: int,
        search_shift: Optional[Tensor] = None,
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Training labels on the response map.

        Official ``lib/dataset_loader/datasets_usot.py``. Classification: 1
        inside the L1 diamond ``|x - c_x| + |y - c_y| <= label_radius``
        around cell ``c``, else 0. With ``search_shift`` ``(t_x, t_y)`` (the
        crop-window shift in pixels of the source image) the centre is the
        official ``size // 2 + trunc(-t / stride)``, which ignores the scale
        jitter; without it the centre is the cell of the box centre,
        ``size // 2 + trunc((c - centre pixel) / stride)``.

        Regression: ``(gx - x1, gy - y1, x2 - gx, y2 - gy)`` at each cell's
        pixel ``(gx, gy)`` (:meth:`response_axis`); the regression weight is
        1 where all four are strictly positive.

        Args:
            search_bboxes (Tensor): of shape (N, 4), xyxy in search-crop
                pixels (augmented and clipped).
            size (int): response cells per axis (25 for a 255 search).
            search_shift (Tensor, optional): of shape (N, 2), (t_x, t_y).
                Defaults to None.

        Returns:
            tuple[Tensor, Tensor, Tensor]: cls label (N, 1, S, S) in {0, 1},
            reg target (N, 4, S, S) in pixels, reg weight (N, 1, S, S).
        """
        boxes = search_bboxes.to(torch.float32)
        device = boxes.device
        grid = self.response_axis(size, device=device)
        gx = grid[None, None, :]  # (1, 1, S) varies along columns
        gy = grid[None, :, None]  # (1, S, 1) varies along rows
        x1, y1, x2, y2 = (v[:, None, None] for v in boxes.unbind(dim=1))
        reg_target = torch.stack(
            [
                (gx - x1).expand(-1, size, -1),
                (gy - y1).expand(-1, -1, size),
                (x2 - gx).expand(-1, size, -1),
                (y2 - gy).expand(-1, -1, size),
            ],
            dim=1,
        )
        reg_weight = (reg_target.amin(dim=1, keepdim=True) > 0).to(
            torch.float32
        )

        half = size // 2
        if search_shift is not None:
            offset = torch.trunc(
                -search_shift.to(device, torch.float32) / self.stride
            )
        else:
            centre = torch.stack(
                [(x1 + x2).flatten() / 2, (y1 + y2).flatten() / 2], dim=1
            )
            offset = torch.trunc((centre - grid[half]) / self.stride)
        c_x = half + offset[:, 0, None, None]
        c_y = half + offset[:, 1, None, None]
        index = torch.arange(size, device=device, dtype=torch.float32)
        dist = (index[None, None, :] - c_x).abs() + (
            index[None, :, None] - c_y
        ).abs()
        cls_label = (dist <= self.label_radius).to(torch.float32)[:, None]
        return cls_label, reg_target, reg_weight

    def decode_best_boxes(self, score: Tensor, reg: Tensor) -> Tensor:
        """Box at the argmax cell of each response map.

        Args:
            score (Tensor): of shape (N, 1, S, S).
            reg (Tensor): of shape (N, 4, S, S), (l, t, r, b) in pixels.

        Returns:
            Tensor: of shape (N, 4), xyxy in search-crop pixels.
        """
        num, _, size, _ = score.shape
        best = score.reshape(num, -1).argmax(dim=1)
        row = torch.div(best, size, rounding_mode='floor')
        col = best - row * size
        grid = self.response_axis(size, device=score.device, dtype=reg.dtype)
        gx, gy = grid[col], grid[row]
        dist = reg.reshape(num, 4, -1).gather(
            2, best[:, None, None].expand(-1, 4, 1)
        )[..., 0]
        return torch.stack(
            [
                gx - dist[:, 0],
                gy - dist[:, 1],
                gx + dist[:, 2],
                gy + dist[:, 3],
            ],
            dim=1,
        )

    def loss_by_feat(
        self,
        cls_logits: Tensor,
        reg: Tensor,
        cls_label: Tensor,
        reg_target: Tensor,
        reg_weight: Tensor,
        mem_logits: Optional[Tensor] = None,
        lambda1: Optional[float] = None,
    ) -> Dict[str, Tensor]:
        """Weighted losses of one step.

        Naive stage (``mem_logits`` is None, Eq. 6):
        ``L = reg_loss_weight * L_reg + naive_cls_weight * L_cls``.
        Cycle-memory stage (Eq. 9): ``L = reg_loss_weight * L_reg +
        λ1 * L_cls + (lambda_total - λ1) * L_mem``.

        Args:
            cls_logits (Tensor): of shape (N, 1, S, S).
            reg (Tensor): of shape (N, 4, S, S), predicted distances.
            cls_label (Tensor): of shape (N, 1, S, S).
            reg_target (Tensor): of shape (N, 4, S, S).
            reg_weight (Tensor): of shape (N, 1, S, S).
            mem_logits (Tensor, optional): of shape (N, 1, S, S), the
                backward-tracking memory response. Defaults to None.
            lambda1 (float, optional): overrides :attr:`lambda1`.

        Returns:
            dict[str, Tensor]: ``loss_reg``, ``loss_cls`` and, in the cycle
            stage, ``loss_mem``; each already weighted.
        """
        loss_reg = iou_loss(
            reg, reg_target, reg_weight, norm=self.reg_loss_norm
        )
        loss_cls = weighted_bce_loss(cls_logits, cls_label)
        losses = dict(loss_reg=self.reg_loss_weight * loss_reg)
        if mem_logits is None:
            losses['loss_cls'] = self.naive_cls_weight * loss_cls
            return losses
        lam = self.lambda1 if lambda1 is None else float(lambda1)
        losses['loss_cls'] = lam * loss_cls
        losses['loss_mem'] = (self.lambda_total - lam) * weighted_bce_loss(
            mem_logits, cls_label
        )
        return losses

    def cycle_memory_logits(
        self,
        xf: Tensor,
        search_enc: Dict[str, Tuple[Tensor, ...]],
        z_kernel: Tensor,
        xf_mem: Tensor,
        search_boxes: Tensor,
        cls_ratio: Optional[float] = None,
    ) -> Tensor:
        """Cycle memory: forward, then backward tracking (paper Sec. 3.3).

        The cycle-memory passes of the official ``USOT.forward``
        (``lib/models/models.py``), each BatchNorm seeing the same batch as
        there: (1) forward tracking of the template into the M memory
        searches, offline (template kernel repeated M times) and online
        (the search target pooled from ``xf`` as a one-kernel memory), their
        logits blended ``cls_ratio * offline + (1 - cls_ratio) * online``;
        (2) the memory searches pooled at the boxes of the argmax cells,
        clamped to the response extent ± :attr:`memory_clip_cells`, the
        boxes detached; (3) backward tracking of the search with those M
        memory kernels (Eq. 8). Forward tracking only chooses boxes, so it
        runs without autograd; BN layers still see its batches.

        Args:
            xf (Tensor): of shape (N, C, F, F), search features.
            search_enc (dict): :meth:`encode_search` of ``xf``.
            z_kernel (Tensor): of shape (N, C, P, P), template kernels.
            xf_mem (Tensor): of shape (N * M, C, F, F), memory-search
                features, the M of sample n at rows n*M .. n*M + M - 1.
            search_boxes (Tensor): of shape (N, 4), xyxy search target box
                in search-crop pixels.
            cls_ratio (float, optional): overrides :attr:`cls_ratio`.

        Returns:
            Tensor: the backward-tracking memory logits R_mem, of shape
            (N, 1, S, S).
        """
        num = xf.shape[0]
        if xf_mem.shape[0] % num:
            raise ValueError(
                f'{xf_mem.shape[0]} memory features for {num} searches'
            )
        mem = xf_mem.shape[0] // num
        ratio = self.cls_ratio if cls_ratio is None else float(cls_ratio)
        size = self.response_size(xf.shape[-1])
        with torch.no_grad():
            mem_enc = self.encode_search(xf_mem)
            off_cls, off_reg = self.forward_offline(
                mem_enc, z_kernel.repeat_interleave(mem, dim=0)
            )
            target_cells = self.search_box_to_cells(
                search_boxes, self.response_extent(size)
            )
            target_kernel = self.pool(xf, target_cells)
            on_cls = self.forward_memory(
                mem_enc, target_kernel.repeat_interleave(mem, dim=0)[:, None]
            )
            forward_score = ratio * off_cls + (1 - ratio) * on_cls
            mem_boxes = self.decode_best_boxes(forward_score, off_reg)
            mem_cells = self.search_box_to_cells(
                mem_boxes, self.response_extent(size, self.memory_clip_cells)
            )
        mem_kernels = self.pool(xf_mem, mem_cells)
        return self.forward_memory(
            search_enc, mem_kernels.reshape(num, mem, *mem_kernels.shape[1:])
        )

    def loss(
        self,
        z_feat: Tensor,
        x_feat: Tensor,
        data_samples: List,
        memory_feat: Optional[Tensor] = None,
    ) -> Dict[str, Tensor]:
        """Losses of the naive or the cycle-memory stage (Eq. 6 / Eq. 9).

        Pools the template kernels at ``gt_instances`` (template-crop
        pixels), builds the labels from ``search_gt_instances`` and
        ``metainfo['search_shift']`` (:meth:`get_targets`), runs self
        tracking and, when ``memory_feat`` is given, the cycle-memory
        passes (:meth:`cycle_memory_logits`).

        Args:
            z_feat (Tensor): of shape (N, C, T, T), template features.
            x_feat (Tensor): of shape (N, C, F, F), search features.
            data_samples (list[TrackDataSample]): per sample,
                ``gt_instances.bboxes`` (1, 4) xyxy template box,
                ``search_gt_instances.bboxes`` (1, 4) xyxy search box and,
                optionally, ``metainfo['search_shift']`` (t_x, t_y).
            memory_feat (Tensor, optional): of shape (N * M, C, F, F), the
                memory-search features (cycle-memory stage).

        Returns:
            dict[str, Tensor]: see :meth:`loss_by_feat`.
        """
        device = x_feat.device
        template_boxes = first_boxes(data_samples, 'gt_instances').to(device)
        search_boxes = first_boxes(data_samples, 'search_gt_instances').to(
            device
        )
        shifts = search_shifts(data_samples)
        z_kernel = self.pool(
            z_feat,
            self.template_box_to_cells(template_boxes, z_feat.shape[-1]),
        )
        targets = self.get_targets(
            search_boxes,
            self.response_size(x_feat.shape[-1]),
            None if shifts is None else shifts.to(device),
        )
        search_enc = self.encode_search(x_feat)
        cls_logits, reg = self.forward_offline(search_enc, z_kernel)
        mem_logits = None
        if memory_feat is not None:
            mem_logits = self.cycle_memory_logits(
                x_feat, search_enc, z_kernel, memory_feat, search_boxes
            )
        return self.loss_by_feat(
            cls_logits, reg, *targets, mem_logits=mem_logits
        )
