# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT model: backbone, neck, :class:`USOTHead`, training passes."""

import logging
from typing import Dict, List, Optional, Tuple, Union

from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmtrack.models.sot.base import BaseSingleObjectTracker
from mmtrack.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ..track_heads.usot_head import first_boxes
from ..utils import feature_geometry
from .usot_tracking import USOTTrackingMixin

FROZEN_BN_MODES = ('train', 'eval')


@MODELS.register_module()
class USOT(USOTTrackingMixin, BaseSingleObjectTracker):
    """USOT: "Learning to Track Objects from Unlabeled Videos", ICCV 2021.

    Paper: https://arxiv.org/abs/2108.12711. A SiamRPN++-style ResNet-50 up
    to layer3 (stride 8), a 1×1 conv + BN neck to 256 channels and
    :class:`~mmusot.models.track_heads.USOTHead`. The module is the network
    plus mmtrack's ``predict`` / ``loss`` contract; inference
    (:class:`~mmusot.models.sot.usot_tracking.USOTTrackingMixin`) runs the
    network for per-target states (:class:`mmusot.tracking.USOTTrackState`,
    which own the post-processing): ``init_target`` / ``track_targets``
    for any number of targets in one batched call, ``predict`` for
    ``tools/test.py`` with the current video's state in ``self.memo``.

    Network API used by the inference mixin:

    * :meth:`forward_template`: (N, 3, 127, 127) → (N, 256, 15, 15);
    * :meth:`forward_search`: (N, 3, S, S) → (N, 256, F, F), F = 31 for
      S = 255 and 33 for 271;
    * ``self.head``: ``pool``, ``template_box_to_cells``,
      ``search_box_to_cells``, ``encode_search``, ``forward_offline``,
      ``forward_memory`` (see :class:`USOTHead`).

    Training inputs (:meth:`loss`), after ``TrackDataPreprocessor`` (BGR
    0–255, no normalisation):

    * ``inputs['img']``: (N, 1, 3, 127, 127) templates;
    * ``inputs['search_img']``: (N, 1, 3, 255, 255) searches;
    * ``inputs['memory_img']``: (N, M, 3, 255, 255) memory searches
      (M = 4), present only in the cycle-memory stage; its presence
      selects the stage;
    * ``data_samples[i].gt_instances.bboxes``: (1, 4) xyxy template box in
      template-crop pixels (→ template pool box);
    * ``data_samples[i].search_gt_instances.bboxes``: (1, 4) xyxy search
      box in search-crop pixels, augmented and clipped (→ regression
      targets and weights, search pool box);
    * ``data_samples[i].metainfo['search_shift']`` (optional): (t_x, t_y),
      the random shift of the search crop window in source pixels; the
      cls label centre is then the official ``12 + trunc(-t / 8)``.
      Without it, the cell of the search box centre is used.

    Labels are built in the model (:meth:`USOTHead.get_targets`).

    Args:
        backbone (dict): backbone config (mmtrack ``SOTResNet``).
        neck (dict, optional): neck config (``mmdet.ChannelMapper``).
        head (dict): head config (``USOTHead``).
        train_cfg (dict, optional): training settings; unused keys are
            kept for hooks. Defaults to None.
        test_cfg (dict, optional): inference settings read by the tracking
            mixin. Defaults to None.
        frozen_modules (str | list[str], optional): the model's declaration
            of the modules frozen when training starts (e.g.
            ``'backbone'``, frozen for epochs 1–9 in USOT): their
            parameters get ``requires_grad=False`` at construction, before
            any DDP wrapper is built. Kept as :attr:`frozen_modules` (a
            tuple, or None), the list
            :class:`~mmusot.engine.hooks.BackboneUnfreezeHook` keeps frozen
            until its unfreeze epoch. Defaults to None.
        frozen_bn_mode (str): what :meth:`train` does with BN layers of the
            backbone whose parameters are all frozen: ``'train'`` leaves
            them in training mode (batch statistics, running statistics
            updated), as the official code does (reference quirk 5);
            ``'eval'`` puts them in eval mode (mmdet-style). Defaults to
            'train'.
        data_preprocessor (dict, optional): ``TrackDataPreprocessor``.
        init_cfg (dict, optional): init config. Defaults to None.
    """

    def __init__(
        self,
        backbone: dict,
        neck: Optional[dict] = None,
        head: Optional[dict] = None,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        frozen_modules: Optional[Union[str, List[str]]] = None,
        frozen_bn_mode: str = 'train',
        data_preprocessor: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg
        )
        if head is None:
            raise ValueError('USOT needs a head config')
        if frozen_bn_mode not in FROZEN_BN_MODES:
            raise ValueError(
                f'frozen_bn_mode must be one of '
                f'{FROZEN_BN_MODES}, got {frozen_bn_mode!r}'
            )
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        # The head's pixel geometry comes from the backbone (+ neck).
        self.geometry = feature_geometry(self.backbone, self.neck)
        head = dict(head)
        for key, value in (
            ('stride', self.geometry.stride),
            ('feature_offset', self.geometry.offset),
        ):
            if head.get(key, value) != value:
                raise ValueError(
                    f'head.{key}={head[key]} disagrees with the backbone '
                    f'geometry ({key} {value})'
                )
            head[key] = value
        self.head = MODELS.build(head)
        self.train_cfg = ConfigDict(train_cfg or {})
        self.test_cfg = ConfigDict(test_cfg or {})
        self.frozen_bn_mode = frozen_bn_mode
        if isinstance(frozen_modules, str):
            frozen_modules = [frozen_modules]
        self.frozen_modules = (
            None if frozen_modules is None else tuple(frozen_modules)
        )
        if self.frozen_modules is not None:
            self.freeze_module(self.frozen_modules)

    def init_weights(self) -> None:
        """Initialise; warn when the backbone gets no pretrained weights.

        USOT learns from scratch only poorly: the official models start
        from an ImageNet (USOT*) or MoCo-v2 (USOT) ResNet-50. Give one with
        ``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...,
        prefix='backbone.')`` (see ``tools/convert_checkpoint.py`` and
        ``make weights``).
        """
        init_cfg = getattr(self.backbone, 'init_cfg', None) or {}
        if isinstance(init_cfg, dict) and init_cfg.get('type') != (
            'Pretrained'
        ):
            print_log(
                'USOT: the backbone has no pretrained weights (no '
                "init_cfg of type 'Pretrained'); it is trained from "
                'scratch. Give one with model.backbone.init_cfg=dict('
                "type='Pretrained', checkpoint=PATH, prefix='backbone.').",
                logger='current',
                level=logging.WARNING,
            )
        super().init_weights()

    def train(self, mode: bool = True) -> 'USOT':
        """Set training mode; see ``frozen_bn_mode`` for frozen BN layers."""
        super().train(mode)
        if mode and self.frozen_bn_mode == 'eval':
            for module in self.backbone.modules():
                params = list(module.parameters(recurse=False))
                if (
                    isinstance(module, _BatchNorm)
                    and params
                    and not any(p.requires_grad for p in params)
                ):
                    module.eval()
        return self

    # ------------------------------------------------------------------
    # Features
    # ------------------------------------------------------------------
    def _extract(self, img: Tensor) -> Tensor:
        feats = self.backbone(img)
        if self.neck is not None:
            feats = self.neck(feats)
        if isinstance(feats, (list, tuple)):
            feats = feats[-1]
        return feats

    def forward_template(self, img: Tensor) -> Tensor:
        """Template features (backbone + neck).

        Args:
            img (Tensor): of shape (N, 3, 127, 127), BGR 0–255.

        Returns:
            Tensor: of shape (N, 256, 15, 15).
        """
        return self._extract(img)

    def forward_search(self, img: Tensor) -> Tensor:
        """Search features (backbone + neck).

        Args:
            img (Tensor): of shape (N, 3, S, S), BGR 0–255.

        Returns:
            Tensor: of shape (N, 256, F, F), F = (S - 7) // 8 (31 for 255,
            33 for 271).
        """
        return self._extract(img)

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def loss(
        self, inputs: Dict[str, Tensor], data_samples: list, **kwargs
    ) -> Dict[str, Tensor]:
        """Losses of the naive or the cycle-memory stage.

        Extracts the features (template, search and, in the cycle stage,
        the memory searches, each in its own backbone and neck call as in
        the official ``USOT.forward``, so that BatchNorm normalises the same
        batches) and hands them to :meth:`USOTHead.loss`. The stage is
        chosen by the presence of ``inputs['memory_img']``; λ1 and the
        forward blend ratio are ``self.head.lambda1`` and
        ``self.head.cls_ratio``.

        Args:
            inputs (dict[str, Tensor]): ``img`` (N, 1, 3, 127, 127),
                ``search_img`` (N, 1, 3, 255, 255), optional ``memory_img``
                (N, M, 3, 255, 255).
            data_samples (list[TrackDataSample]): boxes and metainfo (see
                the class docstring).

        Returns:
            dict[str, Tensor]: ``loss_reg``, ``loss_cls`` and (cycle stage)
            ``loss_mem``, already weighted.
        """
        template = inputs['img'][:, 0]
        search = inputs['search_img'][:, 0]
        memory = inputs.get('memory_img')
        if memory is not None and (
            memory.dim() != 5 or memory.shape[0] != search.shape[0]
        ):
            raise ValueError(
                'memory_img must be of shape (N, M, 3, H, W) '
                f'with N = {search.shape[0]}, got '
                f'{tuple(memory.shape)}'
            )
        z_feat = self.forward_template(template)
        x_feat = self.forward_search(search)
        memory_feat = None
        if memory is not None:
            memory_feat = self.forward_search(memory.flatten(0, 1))
        return self.head.loss(z_feat, x_feat, data_samples, memory_feat)

    def _forward(
        self,
        inputs: Dict[str, Tensor],
        data_samples: Optional[list] = None,
        **kwargs,
    ) -> Tuple[Tensor, Tensor]:
        """Network forward for ``mode='tensor'``: template + search.

        The template kernel is pooled at ``gt_instances.bboxes`` when data
        samples are given, else at a centred 64×64 box (a typical target
        in a 127 template crop).

        Args:
            inputs (dict[str, Tensor]): ``img`` (N, 1, 3, 127, 127) and
                ``search_img`` (N, 1, 3, S, S).
            data_samples (list[TrackDataSample], optional): template boxes.

        Returns:
            tuple[Tensor, Tensor]: cls logits (N, 1, R, R) and reg
            distances (N, 4, R, R), R = 25 for S = 255.
        """
        template = inputs['img'][:, 0]
        search = inputs['search_img'][:, 0]
        z_feat = self.forward_template(template)
        x_feat = self.forward_search(search)
        if data_samples:
            boxes = first_boxes(data_samples, 'gt_instances')
        else:
            half = template.shape[-1] / 2
            boxes = z_feat.new_tensor(
                [[half - 32, half - 32, half + 32, half + 32]]
            ).expand(template.shape[0], 4)
        return self.head(self.head.template_kernel(z_feat, boxes), x_feat)
