# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Where a backbone's feature cells sit on its input.

A Siamese tracker maps boxes between crop pixels and feature cells
(template pooling, search pooling, response-map decoding, labels). For a
chain of convolutions and poolings, output cell ``m`` is centred on input
pixel ``offset + stride * m`` with

    stride = prod_i s_i
    offset = sum_i stride_{<i} * (d_i (k_i - 1) / 2 - p_i)

over the layers i on the main path (kernel k, stride s, padding p,
dilation d; ``stride_{<i}`` the product of the earlier strides). The
SiamRPN++-style ResNet-50 of USOT gives (8, 7): feature cell m sits on
pixel 8m + 7, so a 255 search gives 31 cells centred on pixel 127.
"""

from typing import Iterable, NamedTuple, Tuple

from torch import nn

#: Module-name components of residual side branches, which do not set the
#: position of the main path's cells (mmdet/torchvision ResNet naming).
SIDE_BRANCH_NAMES: Tuple[str, ...] = ('downsample', 'shortcut')


class FeatureGeometry(NamedTuple):
    """Feature cell m sits on input pixel ``offset + stride * m``."""

    stride: int
    offset: float

    def feature_size(self, input_size: int) -> int:
        """Cells per axis for a square input, centred as the chain is.

        Args:
            input_size (int): input pixels per axis.

        Returns:
            int: ``(input_size - 1 - 2 offset) // stride + 1`` (127 → 15,
            255 → 31, 271 → 33 for (8, 7)).
        """
        return int((input_size - 1 - 2 * self.offset) // self.stride) + 1


def _pair(value) -> Tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 2


def _layer_params(module: nn.Module) -> Tuple[int, int, int, int]:
    kernel, stride = _pair(module.kernel_size), _pair(module.stride)
    padding, dilation = _pair(module.padding), _pair(module.dilation)
    params = list(zip(kernel, stride, padding, dilation))
    if params[0] != params[1]:
        raise ValueError(
            f'{type(module).__name__} is not square '
            f'(kernel, stride, padding, dilation per axis: {params})'
        )
    if isinstance(padding[0], str):
        raise ValueError(f'string padding {padding[0]!r} is not supported')
    return params[0]


def feature_geometry(
    *modules: nn.Module, side_branches: Iterable[str] = SIDE_BRANCH_NAMES
) -> FeatureGeometry:
    """Stride and offset of the features of a chain of modules.

    Walks the ``nn.Conv2d`` and ``nn.MaxPool2d``/``nn.AvgPool2d`` layers of
    each module in registration order, which must be their execution order
    (true for mmdet/mmtrack ResNets, mmusot's MobileNetV2 and neck), and
    skips residual side branches (module names containing one of
    ``side_branches``). A backbone can state its geometry instead with
    ``feature_stride`` and ``feature_offset`` attributes.

    Args:
        *modules (nn.Module): e.g. ``backbone, neck``, applied in order.
        side_branches (Iterable[str]): name components to skip.

    Returns:
        FeatureGeometry: ``(stride, offset)`` of the last module's output.
    """
    stride, offset = 1, 0.0
    skip = tuple(side_branches)
    for module in modules:
        if module is None:
            continue
        if hasattr(module, 'feature_stride') and hasattr(
            module, 'feature_offset'
        ):
            offset += stride * float(module.feature_offset)
            stride *= int(module.feature_stride)
            continue
        for name, layer in module.named_modules():
            if not isinstance(
                layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
            ) or any(part in skip for part in name.split('.')):
                continue
            kernel, step, padding, dilation = _layer_params(layer)
            offset += stride * (dilation * (kernel - 1) / 2 - padding)
            stride *= step
    return FeatureGeometry(stride, offset)
