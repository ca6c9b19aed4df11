# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Multi-scale depthwise correlation (paper Sec. 3.2, ref. [48] Ocean).

USOT correlates template and search encodings with three dilated 3×3
encoders per side (dilations (1, 1), (2, 1) and (1, 2), Ocean style) and
fuses the three depthwise correlation maps with softmax-normalised learned
weights. The module and parameter names (``matrix11_k``, ``matrix12_s``,
``weight``) follow the official checkpoints so that they load after a
prefix rename.
"""

from typing import Dict, Tuple

import torch
from torch import Tensor, nn

try:  # registered when mmtrack is present; plain PyTorch otherwise
    from mmtrack.registry import MODELS
except ImportError:  # pragma: no cover
    MODELS = None


def _register(cls: type) -> type:
    return MODELS.register_module()(cls) if MODELS is not None else cls


# Branch name -> (dilation_h, dilation_w). "12" dilates the height by 2.
BRANCH_DILATIONS: Dict[str, Tuple[int, int]] = {
    '11': (1, 1),
    '12': (2, 1),
    '21': (1, 2),
}


def depthwise_xcorr(search: Tensor, kernel: Tensor) -> Tensor:
    """Depthwise cross-correlation, one kernel per sample and channel.

    Channel ``c`` of sample ``n`` of ``search`` is cross-correlated (no
    padding, stride 1) with channel ``c`` of sample ``n`` of ``kernel``.

    Args:
        search (Tensor): of shape (N, C, H, W).
        kernel (Tensor): of shape (N, C, h, w), with h <= H and w <= W.

    Returns:
        Tensor: of shape (N, C, H - h + 1, W - w + 1).
    """
    if search.shape[:2] != kernel.shape[:2]:
        raise ValueError(
            'search and kernel must agree in (N, C), got '
            f'{tuple(search.shape)} and {tuple(kernel.shape)}'
        )
    num, channels = search.shape[:2]
    out = nn.functional.conv2d(
        search.reshape(1, num * channels, *search.shape[2:]),
        kernel.reshape(num * channels, 1, *kernel.shape[2:]),
        groups=num * channels,
    )
    return out.reshape(num, channels, *out.shape[2:])


def _encoder(channels: int, dilation: Tuple[int, int]) -> nn.Sequential:
    """3×3 conv (no padding, no bias) + BN + ReLU with the given dilation."""
    return nn.Sequential(
        nn.Conv2d(
            channels, channels, 3, padding=0, dilation=dilation, bias=False
        ),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


@_register
class MultiScaleEncoder(nn.Module):
    """The three dilated encoders of one branch (cls or reg), both sides.

    Holds ``matrix{11,12,21}_k`` (template side) and ``matrix{11,12,21}_s``
    (search side), each a 3×3 conv without padding or bias, BN and ReLU,
    ``channels`` → ``channels``.

    Args:
        channels (int): feature channels. Defaults to 256.
    """

    def __init__(self, channels: int = 256) -> None:
        super().__init__()
        for name, dilation in BRANCH_DILATIONS.items():
            self.add_module(f'matrix{name}_k', _encoder(channels, dilation))
            self.add_module(f'matrix{name}_s', _encoder(channels, dilation))

    def encode_kernel(self, kernel: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Encode template kernels.

        Args:
            kernel (Tensor): of shape (N, C, 7, 7), pooled template features.

        Returns:
            tuple[Tensor]: the "11", "12", "21" encodings of shapes
            (N, C, 5, 5), (N, C, 3, 5) and (N, C, 5, 3).
        """
        return tuple(
            getattr(self, f'matrix{name}_k')(kernel)
            for name in BRANCH_DILATIONS
        )

    def encode_search(self, search: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Encode search features.

        Args:
            search (Tensor): of shape (N, C, H, W), e.g. H = W = 31.

        Returns:
            tuple[Tensor]: the "11", "12", "21" encodings of shapes
            (N, C, H-2, W-2), (N, C, H-4, W-2) and (N, C, H-2, W-4).
        """
        return tuple(
            getattr(self, f'matrix{name}_s')(search)
            for name in BRANCH_DILATIONS
        )


@_register
class MultiScaleDWFusion(nn.Module):
    """Depthwise correlation per branch, fused with softmax weights.

    The official ``GroupDW``: ``sum_i softmax(weight)_i * xcorr(s_i, k_i)``
    with ``weight`` (3,) initialised to ones (1/3 per branch).

    Args:
        num_branches (int): number of dilation branches. Defaults to 3.
    """

    def __init__(self, num_branches: int = 3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_branches))

    def forward(
        self, search_encs: Tuple[Tensor, ...], kernel_encs: Tuple[Tensor, ...]
    ) -> Tensor:
        """Correlate and fuse.

        Args:
            search_encs (tuple[Tensor]): per-branch search encodings, each
                of shape (N, C, H_i, W_i).
            kernel_encs (tuple[Tensor]): per-branch kernel encodings, each
                of shape (N, C, h_i, w_i), with H_i - h_i and W_i - w_i the
                same for every branch.

        Returns:
            Tensor: of shape (N, C, S, S), e.g. S = 25 for a 31-cell search.
        """
        if len(search_encs) != self.weight.numel() or len(kernel_encs) != (
            self.weight.numel()
        ):
            raise ValueError(
                f'expected {self.weight.numel()} branches, got '
                f'{len(search_encs)} and {len(kernel_encs)}'
            )
        weights = torch.softmax(self.weight, dim=0)
        fused = None
        for i, (search, kernel) in enumerate(zip(search_encs, kernel_encs)):
            term = weights[i] * depthwise_xcorr(search, kernel)
            fused = term if fused is None else fused + term
        return fused
