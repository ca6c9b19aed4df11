# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Precise RoI pooling in pure PyTorch (PrPool of paper Sec. 3.2).

Precise RoI pooling (Jiang et al., "Acquisition of Localization Confidence
for Accurate Object Detection", ECCV 2018) averages the *continuous*
bilinear interpolation of a feature map over each bin, with no sampling
points. mmcv's ``PrRoIPool`` has a CUDA kernel only; this version is the
exact closed form, batched over RoIs, differentiable with respect to the
features (and the RoI coordinates), on any device.

The bilinear surface of a map ``f`` (zero outside its lattice) is
``F(y, x) = sum_ij f[i, j] k(y - i) k(x - j)`` with the hat function
``k(u) = max(0, 1 - |u|)``. Its integral over a bin ``[a, b]`` factorises
per axis into ``K(j) = H(b - j) - H(a - j)`` with ``H`` the antiderivative
of ``k`` clamped to [-1, 1], so a bin average is ``Ky @ f @ Kx^T / area``.
"""

from typing import Sequence, Tuple, Union

import torch
from torch import Tensor, nn

try:  # registered when mmtrack is present; plain PyTorch otherwise
    from mmtrack.registry import MODELS
except ImportError:  # pragma: no cover
    MODELS = None


def _hat_antiderivative(u: Tensor) -> Tensor:
    """H(u) = u - u|u|/2 on [-1, 1], constant beyond: the integral of k."""
    u = u.clamp(-1.0, 1.0)
    return u - u * u.abs() / 2


def _axis_weights(
    start: Tensor, bin_size: Tensor, num_bins: int, length: int
) -> Tensor:
    """Per-bin integrals of the hat functions along one axis.

    Args:
        start (Tensor): of shape (K,), the RoI start on this axis, in
            feature cells.
        bin_size (Tensor): of shape (K,), the bin extent on this axis.
        num_bins (int): number of bins along the axis.
        length (int): feature-map size along the axis.

    Returns:
        Tensor: of shape (K, num_bins, length); entry [k, p, j] is the
        integral of k(t - j) over bin p of RoI k.
    """
    steps = torch.arange(num_bins + 1, device=start.device, dtype=start.dtype)
    edges = start[:, None] + steps[None] * bin_size[:, None]  # (K, P+1)
    lattice = torch.arange(length, device=start.device, dtype=start.dtype)
    cum = _hat_antiderivative(edges[:, :, None] - lattice[None, None])
    return cum[:, 1:] - cum[:, :-1]


def prroi_pool2d(
    features: Tensor,
    rois: Tensor,
    output_size: Union[int, Sequence[int]],
    spatial_scale: float = 1.0,
) -> Tensor:
    """Precise RoI pooling of ``features`` inside ``rois``.

    Args:
        features (Tensor): of shape (N, C, H, W).
        rois (Tensor): of shape (K, 5) as ``[batch_index, x1, y1, x2, y2]``
            (mmcv's convention), or of shape (N, 4) as ``[x1, y1, x2, y2]``
            with one RoI per image. Coordinates are in input pixels and are
            multiplied by ``spatial_scale`` to reach feature cells, where
            cell ``(i, j)`` sits at ``y = i, x = j``.
        output_size (int | Sequence[int]): ``P`` or ``(P, Q)`` bins.
        spatial_scale (float): factor from RoI coordinates to feature
            cells. Defaults to 1.0.

    Returns:
        Tensor: of shape (K, C, P, Q). A RoI with zero width or height
        pools to zeros.
    """
    if features.dim() != 4:
        raise ValueError(
            'features must be of shape (N, C, H, W), got '
            f'{tuple(features.shape)}'
        )
    if isinstance(output_size, int):
        out_h = out_w = output_size
    else:
        out_h, out_w = (int(v) for v in output_size)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f'output_size must be positive, got {output_size}')
    if rois.dim() != 2 or rois.shape[1] not in (4, 5):
        raise ValueError(
            f'rois must be of shape (K, 5) or (N, 4), got {tuple(rois.shape)}'
        )
    if rois.shape[1] == 4:
        if rois.shape[0] != features.shape[0]:
            raise ValueError(
                'rois of shape (N, 4) need one RoI per image: '
                f'{rois.shape[0]} RoIs for '
                f'{features.shape[0]} images'
            )
        feats = features
        boxes = rois
    else:
        index = rois[:, 0].long()
        if index.numel() and (
            index.min() < 0 or index.max() >= features.shape[0]
        ):
            raise ValueError(
                f'RoI batch indices out of range [0, {features.shape[0]})'
            )
        feats = features[index]
        boxes = rois[:, 1:]
    boxes = boxes.to(features.dtype) * spatial_scale
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    bin_w = (x2 - x1).clamp(min=0) / out_w
    bin_h = (y2 - y1).clamp(min=0) / out_h
    height, width = feats.shape[-2:]
    weight_y = _axis_weights(y1, bin_h, out_h, height)  # (K, P, H)
    weight_x = _axis_weights(x1, bin_w, out_w, width)  # (K, Q, W)
    # Two batched matrix products with K batches (not K*C small ones):
    # contract W, then H.
    num, channels = feats.shape[:2]
    pooled = torch.bmm(
        feats.reshape(num, channels * height, width), weight_x.transpose(1, 2)
    )  # (K, C*H, Q)
    pooled = pooled.view(num, channels, height, out_w).transpose(1, 2)
    pooled = torch.bmm(weight_y, pooled.reshape(num, height, channels * out_w))
    pooled = pooled.view(num, out_h, channels, out_w).transpose(1, 2)
    area = bin_w * bin_h
    valid = area > 0
    # Dividing by a safe area keeps gradients finite for empty RoIs.
    safe_area = torch.where(valid, area, torch.ones_like(area))
    scale = valid.to(pooled.dtype) / safe_area
    return pooled * scale[:, None, None, None]


def _register(cls):
    return MODELS.register_module()(cls) if MODELS is not None else cls


@_register
class PrRoIPool2d(nn.Module):
    """Precise RoI pooling as a module; see :func:`prroi_pool2d`.

    Args:
        output_size (int | tuple[int, int]): number of bins ``P`` or
            ``(P, Q)``.
        spatial_scale (float): factor from RoI coordinates to feature cells.
            Defaults to 1.0.
    """

    def __init__(
        self,
        output_size: Union[int, Tuple[int, int]],
        spatial_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = float(spatial_scale)

    def forward(self, features: Tensor, rois: Tensor) -> Tensor:
        """Pool ``features`` (N, C, H, W) in ``rois`` (K, 5) or (N, 4)."""
        return prroi_pool2d(
            features, rois, self.output_size, self.spatial_scale
        )

    def extra_repr(self) -> str:
        return (
            f'output_size={self.output_size}, '
            f'spatial_scale={self.spatial_scale}'
        )
