# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT head: offline (cls + reg) and memory branches, losses.

Module and parameter names match the official checkpoints after the
``connect_model.`` prefix is replaced by ``head.`` (usot_spec.md
Appendix A), e.g. ``cls_encode.matrix11_k.0.weight``, ``cls_dw.weight``,
``conf_fusion.conf_gen.0.weight``, ``bbox_tower.0.weight``, ``adjust``,
``bias``.
"""

from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmtrack.registry import MODELS
from torch import Tensor, nn

from ..layers import (
    ConfidenceValueFusion,
    MultiScaleDWFusion,
    MultiScaleEncoder,
    prroi_pool2d,
)

SEARCH_POOL_AXES = ('official', 'corrected')


def weighted_bce_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Class-balanced BCE of USOT (usot_spec.md §4).

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


def iou_loss(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """UnitBox IoU loss with +1 smoothing (usot_spec.md §4).

    ``mean over cells with weight > 0 of -log((I + 1) / (U + 1))``, where
    I and U are the intersection and union of the boxes described by the
    (l, t, r, b) distances of the prediction and the target.

    Args:
        pred (Tensor): of shape (N, 4, H, W), predicted (l, t, r, b)
            distances in search pixels.
        target (Tensor): of shape (N, 4, H, W), target distances.
        weight (Tensor): of shape (N, H, W) or (N, 1, H, W); cells with
            a positive weight count.

    Returns:
        Tensor: the scalar loss (0 when no cell counts).
    """
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


@MODELS.register_module()
class USOTHead(BaseModule):
    """USOT head: multi-scale depthwise correlation, towers and memory.

    "Learning to Track Objects from Unlabeled Videos", ICCV 2021,
    https://arxiv.org/abs/2108.12711 (usot_spec.md §3.3–3.7, §4).

    Branches:

    * offline: cls/reg encoders → :class:`MultiScaleDWFusion` → tower →
      ``cls_pred`` (×0.1, logits) or ``bbox_pred`` → ``exp(adjust * x +
      bias)``, the (l, t, r, b) distances in search pixels;
    * memory: M memory kernels encoded by the *cls* kernel encoders,
      correlated with the cls search encodings through ``cls_dw``, fused by
      :class:`ConfidenceValueFusion` → ``cls_memory_tower`` →
      ``cls_memory_pred`` (×0.1).

    Response cell ``i`` of an S-cell map sits on search pixel
    ``stride * i + search_size // 2 - stride * (S // 2)`` (31 + 8i for a
    255 search and 25 cells).

    Loss weights set per epoch (e.g. by a hook): :attr:`lambda1` (λ1, the
    cls weight of the cycle-memory stage; the memory weight is
    ``lambda_total - lambda1``) and :attr:`cls_ratio` (the forward-tracking
    blend of offline and memory logits).

    Args:
        in_channels (int): feature channels of the neck. Defaults to 256.
        num_tower_convs (int): convs per tower. Defaults to 4.
        pool_size (int): precise RoI pooling bins. Defaults to 7.
        stride (int): feature stride in pixels. Defaults to 8.
        template_clip (tuple[float, float]): pixel clamp of template boxes
            before pooling. Defaults to (7, 119).
        search_pool_axis (str): pixel → cell mapping on search features:
            ``'official'`` uses ``(v - 31) / 8``, the 25-cell response axis
            (reference quirk 2, needed by the official weights);
            ``'corrected'`` uses ``(v - 7) / 8``, the feature axis.
            Defaults to 'official'.
        search_clip (tuple[float, float]): pixel clamp of the search ground
            truth box before pooling (training). Defaults to (31, 223).
        memory_clip (tuple[float, float]): pixel clamp of the
            forward-tracked memory boxes (training). Defaults to (15, 239).
        label_radius (int): L1 radius of the positive diamond. Defaults to
            2.
        naive_cls_weight (float): cls weight of the naive stage. Defaults
            to 0.2.
        reg_loss_weight (float): IoU loss weight. Defaults to 1.0.
        lambda1 (float): cls weight of the cycle-memory stage. Defaults to
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
        template_clip: Tuple[float, float] = (7.0, 119.0),
        search_pool_axis: str = 'official',
        search_clip: Tuple[float, float] = (31.0, 223.0),
        memory_clip: Tuple[float, float] = (15.0, 239.0),
        label_radius: int = 2,
        naive_cls_weight: float = 0.2,
        reg_loss_weight: float = 1.0,
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
        self.pool_size = pool_size
        self.stride = stride
        self.template_clip = tuple(float(v) for v in template_clip)
        self.search_pool_axis = search_pool_axis
        self.search_clip = tuple(float(v) for v in search_clip)
        self.memory_clip = tuple(float(v) for v in memory_clip)
        self.label_radius = label_radius
        self.naive_cls_weight = naive_cls_weight
        self.reg_loss_weight = reg_loss_weight
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
    def search_axis_offset(self) -> float:
        """Pixel of search-feature cell 0 under :attr:`search_pool_axis`."""
        return 31.0 if self.search_pool_axis == 'official' else 7.0

    def template_box_to_cells(self, boxes_px: Tensor) -> Tensor:
        """Map template-crop boxes to template-feature cells.

        Clamp to :attr:`template_clip` (default [7, 119]) and map
        ``v → (v - 7) / stride``; cell m of the template feature sits on
        pixel ``8m + 7``.

        Args:
            boxes_px (Tensor): of shape (N, 4), xyxy in template-crop pixels.

        Returns:
            Tensor: of shape (N, 4), xyxy in template-feature cells.
        """
        lo, hi = self.template_clip
        return (boxes_px.clamp(lo, hi) - 7.0) / self.stride

    def search_box_to_cells(
        self, boxes_px: Tensor, clamp: Optional[Tuple[float, float]] = None
    ) -> Tensor:
        """Map search-crop boxes to search-feature cells.

        Clamp to ``clamp`` (pixels) when given, then map
        ``v → (v - offset) / stride`` with offset 31 (``'official'`` axis,
        the response-map axis: the pooled window lands 3 cells up-left of
        the box, reference quirk 2) or 7 (``'corrected'``, the feature
        axis). The same offset holds for 255 and 271 searches.

        Args:
            boxes_px (Tensor): of shape (N, 4), xyxy in search-crop pixels.
            clamp (tuple[float, float], optional): pixel range to clamp to,
                e.g. (31, 223) for training ground truth, (23, 231) at
                inference for 255 and (23, 247) for 271. Defaults to None.

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
            Tensor: of shape (N, C, 7, 7) (or (K, C, 7, 7)).
        """
        return prroi_pool2d(feat, boxes, self.pool_size, 1.0)

    def response_grid(
        self,
        size: int,
        search_size: int,
        device: Optional[torch.device] = None,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """Search-pixel coordinate of each response cell along one axis.

        Args:
            size (int): response cells per axis (25 for 255, 27 for 271).
            search_size (int): search crop side in pixels.
            device (torch.device, optional): output device.
            dtype (torch.dtype): output dtype. Defaults to float32.

        Returns:
            Tensor: of shape (size,), ``stride * i + search_size // 2 -
            stride * (size // 2)``.
        """
        index = torch.arange(size, device=device, dtype=dtype)
        return index * self.stride + (
            search_size // 2 - self.stride * (size // 2)
        )

    # ------------------------------------------------------------------
    # Forward
    # ------------------------------------------------------------------
    def encode_search(self, xf: Tensor) -> Dict[str, Tuple[Tensor, ...]]:
        """Search encodings of both branches, computed once per frame.

        Args:
            xf (Tensor): of shape (N, 256, F, F), the search feature
                (F = 31 for a 255 search, 33 for 271).

        Returns:
            dict: ``'cls'`` and ``'reg'``, each a tuple of the three
            dilation-branch encodings of shapes (N, 256, F-2, F-2),
            (N, 256, F-4, F-2), (N, 256, F-2, F-4).
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
            z_kernel (Tensor): of shape (N, 256, 7, 7), the pooled template
                kernels (one per search).

        Returns:
            tuple[Tensor, Tensor]: ``cls_logits`` of shape (N, 1, S, S)
            (×0.1 included) and ``reg`` of shape (N, 4, S, S), the
            (l, t, r, b) distances in search pixels from each cell's pixel
            (S = 25 for 255, 27 for 271).
        """
        cls_corr = self.cls_dw(
            search_enc['cls'], self.cls_encode.encode_kernel(z_kernel)
        )
        reg_corr = self.reg_dw(
            search_enc['reg'], self.reg_encode.encode_kernel(z_kernel)
        )
        cls_logits = 0.1 * self.cls_pred(self.cls_tower(cls_corr))
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
            mem_kernels (Tensor): of shape (N, M, 256, 7, 7), M pooled
                memory kernels per search; their cls encodings are computed
                here.
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
        return 0.1 * self.cls_memory_pred(self.cls_memory_tower(fused))

    def forward(self, z_kernel: Tensor, xf: Tensor) -> Tuple[Tensor, Tensor]:
        """Offline head on a template kernel and a search feature.

        Args:
            z_kernel (Tensor): of shape (N, 256, 7, 7).
            xf (Tensor): of shape (N, 256, F, F).

        Returns:
            tuple[Tensor, Tensor]: cls logits (N, 1, S, S) and reg
            distances (N, 4, S, S); see :meth:`forward_offline`.
        """
        return self.forward_offline(self.encode_search(xf), z_kernel)

    # ------------------------------------------------------------------
    # Targets and losses
    # ------------------------------------------------------------------
    def get_targets(
        self,
        search_bboxes: Tensor,
        size: int,
        search_size: int,
        search_shift: Optional[Tensor] = None,
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Training labels on the response map (usot_spec.md §2.8).

        Classification: 1 inside the L1 diamond ``|x - c_x| + |y - c_y| <=
        label_radius`` around cell ``c``, else 0. With ``search_shift``
        ``(t_x, t_y)`` (the crop-window shift in pixels of the source
        image) the centre is the official ``size // 2 + trunc(-t / 8)``,
        which ignores the scale jitter (reference quirk 8); without it the
        centre is the cell of the box centre, ``size // 2 + trunc((c -
        search_size // 2) / 8)``.

        Regression: ``(gx - x1, gy - y1, x2 - gx, y2 - gy)`` at each cell's
        pixel ``(gx, gy)``; the regression weight is 1 where all four are
        strictly positive.

        Args:
            search_bboxes (Tensor): of shape (N, 4), xyxy in search-crop
                pixels (augmented and clipped).
            size (int): response cells per axis (25 for 255).
            search_size (int): search crop side in pixels.
            search_shift (Tensor, optional): of shape (N, 2), (t_x, t_y).
                Defaults to None.

        Returns:
            tuple[Tensor, Tensor, Tensor]: cls label (N, 1, S, S) in {0, 1},
            reg target (N, 4, S, S) in pixels, reg weight (N, 1, S, S).
        """
        boxes = search_bboxes.to(torch.float32)
        device = boxes.device
        grid = self.response_grid(size, search_size, device=device)
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
            offset = torch.trunc((centre - search_size // 2) / self.stride)
        c_x = half + offset[:, 0, None, None]
        c_y = half + offset[:, 1, None, None]
        index = torch.arange(size, device=device, dtype=torch.float32)
        dist = (index[None, None, :] - c_x).abs() + (
            index[None, :, None] - c_y
        ).abs()
        cls_label = (dist <= self.label_radius).to(torch.float32)[:, None]
        return cls_label, reg_target, reg_weight

    def decode_best_boxes(
        self, score: Tensor, reg: Tensor, search_size: int
    ) -> Tensor:
        """Box at the argmax cell of each response map.

        Args:
            score (Tensor): of shape (N, 1, S, S).
            reg (Tensor): of shape (N, 4, S, S), (l, t, r, b) in pixels.
            search_size (int): search crop side in pixels.

        Returns:
            Tensor: of shape (N, 4), xyxy in search-crop pixels.
        """
        num, _, size, _ = score.shape
        best = score.reshape(num, -1).argmax(dim=1)
        row = torch.div(best, size, rounding_mode='floor')
        col = best - row * size
        grid = self.response_grid(
            size, search_size, device=score.device, dtype=reg.dtype
        )
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
        loss_reg = iou_loss(reg, reg_target, reg_weight)
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

    def loss(
        self,
        zf: Tensor,
        xf: Tensor,
        cls_label: Tensor,
        reg_target: Tensor,
        reg_weight: Tensor,
        search_size: int,
        xf_mem: Optional[Tensor] = None,
        search_cells: Optional[Tensor] = None,
        lambda1: Optional[float] = None,
        cls_ratio: Optional[float] = None,
    ) -> Dict[str, Tensor]:
        """Run the training passes of either stage and compute the losses.

        Naive stage (``xf_mem`` is None): self tracking only. Cycle-memory
        stage (usot_spec.md §3.7): self tracking; forward tracking of the
        template into the M memory searches (offline response blended with
        a memory response built from the pooled search target, ratio
        ``cls_ratio``); pooling of the memory searches at the argmax boxes
        (clamped to :attr:`memory_clip`, detached); backward tracking of the
        search with those M memory kernels.

        Args:
            zf (Tensor): of shape (N, 256, 7, 7), pooled template kernels.
            xf (Tensor): of shape (N, 256, F, F), search features.
            cls_label (Tensor): of shape (N, 1, S, S).
            reg_target (Tensor): of shape (N, 4, S, S).
            reg_weight (Tensor): of shape (N, 1, S, S).
            search_size (int): search crop side in pixels.
            xf_mem (Tensor, optional): of shape (N * M, 256, F, F), the
                memory-search features, the M of sample n at rows
                ``n * M .. n * M + M - 1``. Defaults to None.
            search_cells (Tensor, optional): of shape (N, 4), the search
                target box in search-feature cells (see
                :meth:`search_box_to_cells`). Needed with ``xf_mem``.
            lambda1 (float, optional): overrides :attr:`lambda1`.
            cls_ratio (float, optional): overrides :attr:`cls_ratio`.

        Returns:
            dict[str, Tensor]: see :meth:`loss_by_feat`.
        """
        search_enc = self.encode_search(xf)
        cls_logits, reg = self.forward_offline(search_enc, zf)
        if xf_mem is None:
            return self.loss_by_feat(
                cls_logits, reg, cls_label, reg_target, reg_weight
            )
        if search_cells is None:
            raise ValueError('the cycle-memory stage needs search_cells')
        num = xf.shape[0]
        if xf_mem.shape[0] % num:
            raise ValueError(
                f'{xf_mem.shape[0]} memory features for {num} searches'
            )
        mem = xf_mem.shape[0] // num
        ratio = self.cls_ratio if cls_ratio is None else float(cls_ratio)
        # Forward tracking only chooses boxes: no loss flows through it
        # (BN layers still see these batches, as in the reference).
        with torch.no_grad():
            mem_enc = self.encode_search(xf_mem)
            off_cls, off_reg = self.forward_offline(
                mem_enc, zf.repeat_interleave(mem, dim=0)
            )
            search_kernel = self.pool(xf, search_cells)
            on_cls = self.forward_memory(
                mem_enc, search_kernel.repeat_interleave(mem, dim=0)[:, None]
            )
            forward_score = ratio * off_cls + (1 - ratio) * on_cls
            mem_boxes = self.decode_best_boxes(
                forward_score, off_reg, search_size
            )
            mem_cells = self.search_box_to_cells(mem_boxes, self.memory_clip)
        mem_kernels = self.pool(xf_mem, mem_cells.detach())
        mem_logits = self.forward_memory(
            search_enc, mem_kernels.reshape(num, mem, *mem_kernels.shape[1:])
        )
        return self.loss_by_feat(
            cls_logits,
            reg,
            cls_label,
            reg_target,
            reg_weight,
            mem_logits=mem_logits,
            lambda1=lambda1,
        )
