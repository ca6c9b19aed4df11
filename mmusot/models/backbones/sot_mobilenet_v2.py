# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A light, output-stride-8 MobileNetV2 backbone for Siamese tracking.

MobileNetV2 (Sandler et al., CVPR 2018, https://arxiv.org/abs/1801.04381),
width 1.0, with the changes SiamRPN++ (Li et al., CVPR 2019,
https://arxiv.org/abs/1812.11703) makes for tracking, and the geometry of
mmusot's ResNet-50 backbone (USOT paper §3.3; official
``lib/models/backbones.py``):

* output stride 8: the stride-2 convolutions of the 64- and 160-channel
  stages become stride 1, and the later blocks are dilated (2, then 4);
* padding 0 on the three stride-2 convolutions that remain (the stem and
  the first blocks of the 24- and 32-channel stages), so that a 127 input
  gives 15×15 cells, 255 gives 31×31 and 271 gives 33×33, and feature cell
  ``m`` is centred on input pixel ``8 * m + 7``, as with the ResNet-50.

Parameter names follow torchvision's ``mobilenet_v2`` (``features.0.0.*``,
``features.1.conv.0.0.*``, ...), so a torchvision ImageNet file loads with
no renaming; its 1280-channel ``features.18`` and ``classifier`` are not
built.
"""

from typing import List, Optional, Sequence, Tuple

from mmcv.cnn import build_activation_layer, build_norm_layer
from mmengine.model import BaseModule
from mmtrack.registry import MODELS
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

# (expand ratio t, output channels c, blocks n, torchvision stride s) of
# MobileNetV2's seven inverted-residual stages (paper Table 2).
MOBILENET_V2_STAGES: Tuple[Tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
KERNEL_SIZE = 3
# Stride-2 convolutions are unpadded, as the stride-2 convs of mmusot's
# ResNet-50 (conv1, layer2.0): this puts cell m on pixel 8m + 7.
STRIDE2_PADDING = 0
# Output stride 8 (SiamRPN++): per stage stride and dilation.
DEFAULT_STRIDES: Tuple[int, ...] = (1, 2, 2, 1, 1, 1, 1)
DEFAULT_DILATIONS: Tuple[int, ...] = (1, 1, 1, 2, 2, 4, 4)
# Index of the last block before torchvision's 1280-channel conv.
LAST_BLOCK_INDEX = 17


def _conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int,
    dilation: int,
    groups: int,
    norm_cfg: dict,
    act_cfg: Optional[dict],
) -> nn.Sequential:
    """Conv (no bias) → norm → activation, named ``0``, ``1``, ``2``.

    Padding is 0 for stride 2 and ``dilation * (kernel_size - 1) / 2``
    ("same") otherwise.
    """
    if stride == 2:
        padding = STRIDE2_PADDING
    else:
        padding = dilation * (kernel_size - 1) // 2
    layers = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=False,
        ),
        build_norm_layer(norm_cfg, out_channels)[1],
    ]
    if act_cfg is not None:
        layers.append(build_activation_layer(act_cfg))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2's inverted residual block, torchvision's module names.

    ``conv`` holds, in execution order: a 1×1 expansion (omitted when the
    expand ratio is 1), the 3×3 depthwise conv (carrying the stride and
    dilation), then the linear 1×1 projection and its norm. The input is
    added back when the stride is 1 and the channel count is unchanged.

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
        stride (int): stride of the depthwise conv, 1 or 2.
        expand_ratio (int): hidden channels / ``in_channels``.
        dilation (int): dilation of the depthwise conv. Defaults to 1.
        norm_cfg (dict): norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): activation config; None for none.
            Defaults to ``dict(type='ReLU6')``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: int,
        dilation: int = 1,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = dict(type='ReLU6'),
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'stride must be 1 or 2, got {stride}')
        norm_cfg = norm_cfg or dict(type='BN')
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: List[nn.Module] = []
        if expand_ratio != 1:
            layers.append(
                _conv_norm_act(
                    in_channels, hidden, 1, 1, 1, 1, norm_cfg, act_cfg
                )
            )
        layers += [
            _conv_norm_act(
                hidden,
                hidden,
                KERNEL_SIZE,
                stride,
                dilation,
                hidden,
                norm_cfg,
                act_cfg,
            ),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1],
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Tensor (N, C_in, H, W) → (N, C_out, H', W')."""
        out = self.conv(x)
        return x + out if self.use_residual else out


@MODELS.register_module()
class SOTMobileNetV2(BaseModule):
    """MobileNetV2 (width 1.0) with output stride 8 for USOT.

    A lighter alternative to ``SOTResNet`` (ResNet-50 up to layer3) with
    the same feature geometry (see the module docstring): for inputs of
    127, 255 and 271 pixels the stride-8 outputs are 15×15, 31×31 and
    33×33, and cell ``m`` is centred on input pixel ``8 * m + 7``.

    ``features.i`` and the channels it outputs (stride 8 from index 4 on)::

        index   0   1   2-3  4-6  7-10  11-13  14-16  17
        chans   32  16  24   32   64    96     160    320
        stride  2   2   4    8    8     8      8      8

    Only ``features.0`` … ``features.max(out_indices)`` are built; the
    1280-channel conv (``features.18``) and the classifier never are.

    Input colour: USOT feeds BGR images in 0–255 with no normalisation
    (official ``lib/dataset_loader/datasets_usot.py``), whereas
    torchvision's ImageNet weights expect RGB in [0, 1] normalised with
    the ImageNet mean/std. Either fold that normalisation into
    ``features.0.0`` when converting (``tools/convert_checkpoint.py
    --fold-input-norm``; ``tools/fetch_weights.py`` does it, exactly,
    since the stem is unpadded), or keep the weights as they are and set
    the data preprocessor's ``mean``, ``std`` and ``bgr_to_rgb``.

    Args:
        out_indices (Sequence[int]): which ``features.i`` outputs to
            return, in increasing order. Defaults to ``(17,)`` (320
            channels).
        strides (Sequence[int]): stride of the first block of each of the
            7 inverted-residual stages. Defaults to ``(1, 2, 2, 1, 1, 1,
            1)`` (output stride 8).
        dilations (Sequence[int]): dilation of each stage's depthwise
            convs. The first block of a stage uses the previous stage's
            dilation (the usual rule when a stride is replaced by
            dilation). Defaults to ``(1, 1, 1, 2, 2, 4, 4)``.
        frozen_stages (int): ``features.0`` … ``features.frozen_stages``
            are frozen (eval mode, no gradient); -1 freezes nothing.
            Defaults to -1.
        norm_eval (bool): keep every BatchNorm in eval mode during
            training (running statistics frozen). Defaults to False.
        norm_cfg (dict): norm layer config. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict, optional): activation config; None for no
            activation. Defaults to ``dict(type='ReLU6')``.
        init_cfg (dict | list[dict], optional): initialisation; Kaiming
            normal (fan-out) convs and unit norms by default, as
            torchvision. For pretrained weights:
            ``dict(type='Pretrained', checkpoint=PATH, prefix='backbone.')``
            for a converted file, or ``dict(type='Pretrained',
            checkpoint=TORCHVISION_FILE)`` for torchvision's own file.
    """

    def __init__(
        self,
        out_indices: Sequence[int] = (LAST_BLOCK_INDEX,),
        strides: Sequence[int] = DEFAULT_STRIDES,
        dilations: Sequence[int] = DEFAULT_DILATIONS,
        frozen_stages: int = -1,
        norm_eval: bool = False,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = dict(type='ReLU6'),
        init_cfg: Optional[dict] = None,
    ) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm']),
            ]
        super().__init__(init_cfg)
        num_stages = len(MOBILENET_V2_STAGES)
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise ValueError(
                f'strides and dilations need {num_stages} entries, got '
                f'{len(strides)} and {len(dilations)}'
            )
        out_indices = tuple(out_indices)
        if (
            not out_indices
            or list(out_indices) != sorted(set(out_indices))
            or out_indices[0] < 0
            or out_indices[-1] > LAST_BLOCK_INDEX
        ):
            raise ValueError(
                'out_indices must be increasing indices in '
                f'[0, {LAST_BLOCK_INDEX}], got {out_indices}'
            )
        if not -1 <= frozen_stages <= out_indices[-1]:
            raise ValueError(
                f'frozen_stages must be in [-1, {out_indices[-1]}] (the '
                f'last built block), got {frozen_stages}'
            )
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        norm_cfg = norm_cfg or dict(type='BN')

        blocks: List[nn.Module] = [
            _conv_norm_act(
                3, STEM_CHANNELS, KERNEL_SIZE, 2, 1, 1, norm_cfg, act_cfg
            )
        ]
        channels = [STEM_CHANNELS]
        in_channels, previous_dilation = STEM_CHANNELS, 1
        for (expand, out_channels, num_blocks, _), stride, dilation in zip(
            MOBILENET_V2_STAGES, strides, dilations
        ):
            for i in range(num_blocks):
                blocks.append(
                    InvertedResidual(
                        in_channels,
                        out_channels,
                        stride if i == 0 else 1,
                        expand,
                        previous_dilation if i == 0 else dilation,
                        norm_cfg,
                        act_cfg,
                    )
                )
                channels.append(out_channels)
                in_channels = out_channels
            previous_dilation = dilation
        self.features = nn.Sequential(*blocks[: out_indices[-1] + 1])
        self.out_channels: Tuple[int, ...] = tuple(
            channels[i] for i in out_indices
        )
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Extract features.

        Args:
            x (Tensor): of shape (N, 3, H, W), BGR 0–255 in USOT.

        Returns:
            tuple[Tensor]: one map per ``out_indices`` entry, of shape
            (N, C_i, H_i, W_i); e.g. (N, 320, 31, 31) for a 255 input.
        """
        outs = []
        for i, block in enumerate(self.features):
            x = block(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for block in self.features[: self.frozen_stages + 1]:
            block.eval()
            for param in block.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'SOTMobileNetV2':
        """Set train mode, keeping frozen stages (and, with
        ``norm_eval``, every BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
