# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Confidence-value memory fusion (paper Sec. 3.3, Eq. (8))."""

from typing import Optional, Tuple

import torch
from torch import Tensor, nn

try:  # registered when mmtrack is present; plain PyTorch otherwise
    from mmtrack.registry import MODELS
except ImportError:  # pragma: no cover
    MODELS = None


def _register(cls: type) -> type:
    return MODELS.register_module()(cls) if MODELS is not None else cls


def _conv_bn_relu(channels: int) -> nn.Sequential:
    """3×3 conv (padding 1, with bias) + BN + ReLU, channels → channels."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, bias=True),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    )


@_register
class ConfidenceValueFusion(nn.Module):
    """Fuse M memory correlation maps with per-position confidences (Eq. 8).

    For each memory map ``C_u`` (u = 1..M):
    ``conf_u = clamp(ReLU(BN(conv(C_u))), conf_min, conf_max)`` and
    ``val_u = ReLU(BN(conv'(C_u)))``; the output is
    ``sum_u softmax_u(conf_u) * val_u``, the softmax running over the memory
    axis, per channel and position. As in the official code the ReLU comes
    before the clamp, so the effective confidence range is [0, conf_max]
    (reference quirk 7).

    USOT's paper: https://arxiv.org/abs/2108.12711

    Args:
        channels (int): correlation channels. Defaults to 256.
        conf_range (tuple[float, float]): clamp range of the confidence
            logits. Defaults to (-6.0, 4.0), the official values.
    """

    def __init__(
        self,
        channels: int = 256,
        conf_range: Tuple[float, float] = (-6.0, 4.0),
    ) -> None:
        super().__init__()
        self.conf_gen = _conv_bn_relu(channels)
        self.value_gen = _conv_bn_relu(channels)
        self.conf_range = (float(conf_range[0]), float(conf_range[1]))

    def forward(
        self, corr: Tensor, kernel_counts: Optional[Tensor] = None
    ) -> Tensor:
        """Fuse the memory correlation maps.

        With ``kernel_counts``, map u stands for ``count_u`` identical
        memory kernels: ``log(count_u)`` is added to its clamped confidence
        before the softmax, so the output equals the fusion over the
        explicitly repeated maps (``sum over k copies of exp(c) v =
        exp(c + log k) v``) at the cost of one map. Inference only; the
        training paths pass no counts.

        Args:
            corr (Tensor): of shape (N, M, C, H, W): M correlation maps per
                sample (one per memory kernel).
            kernel_counts (Tensor, optional): of shape (M,) or (N, M),
                positive multiplicities of the M maps (integers or floats).
                Defaults to None (each map counts once, the plain Eq. 8).

        Returns:
            Tensor: of shape (N, C, H, W), the fused correlation map.
        """
        if corr.dim() != 5:
            raise ValueError(
                'corr must be of shape (N, M, C, H, W), got '
                f'{tuple(corr.shape)}'
            )
        num, mem = corr.shape[:2]
        flat = corr.reshape(num * mem, *corr.shape[2:])
        conf = self.conf_gen(flat).clamp(*self.conf_range)
        value = self.value_gen(flat)
        conf = conf.reshape(corr.shape)
        value = value.reshape(corr.shape)
        if kernel_counts is None:
            weights = torch.softmax(conf, dim=1)
        else:
            if kernel_counts.shape not in ((mem,), (num, mem)):
                raise ValueError(
                    f'kernel_counts must be of shape ({mem},) or ({num}, '
                    f'{mem}), got {tuple(kernel_counts.shape)}'
                )
            # float32 (or float64) logits: log(k) keeps its precision even
            # when conf is half/bf16 under autocast.
            log_counts = torch.log(
                kernel_counts.to(
                    device=conf.device,
                    dtype=torch.promote_types(conf.dtype, torch.float32),
                )
            )
            log_counts = log_counts.reshape(-1, mem, 1, 1, 1)
            weights = torch.softmax(conf + log_counts, dim=1).to(value.dtype)
        return (weights * value).sum(dim=1)

    def extra_repr(self) -> str:
        return f'conf_range={self.conf_range}'
