# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Export a USOT model to ONNX for :mod:`mmusot.runtime`.

The network is cut where the tracker needs it (NanoTrack's split, plus
USOT's memory): the backbone (template and search crops alike), the
kernel graph (precise RoI pooling of a box and the kernel encoders; the
template kernel once, one memory entry per frame) and the head (offline
and memory branches on one search feature). The per-frame arithmetic is
:mod:`mmusot.tracking`, shared with the PyTorch tracker. The folder layout
and ``deploy.json`` are :mod:`mmusot.runtime.package`.
"""

import os
import os.path as osp
import warnings
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..models.layers.prroi_pool import prroi_pool2d
from ..models.track_heads.usot_head import CLS_LOGIT_SCALE
from ..runtime.package import (
    GRAPH_FILES,
    GRAPH_OUTPUTS,
    DeployPackage,
    Geometry,
    write_deploy_json,
)
from ..tracking import USOTTestConfig

#: The ONNX opset the graphs are written with.
OPSET = 17
#: The head graph's inputs, in order.
HEAD_INPUTS = (
    'features',
    'cls_kernel',
    'reg_kernel',
    'memory',
    'memory_counts',
)


class ExportError(ValueError):
    """A model or config the exporter cannot export (names the file)."""


class BackboneGraph(nn.Module):
    """Backbone and neck: crops (N, 3, H, W) → features (N, C, F, F)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: Tensor) -> Tensor:
        return self.model.forward_search(image)


def _flat(encodings: Tuple[Tensor, ...]) -> Tensor:
    """Three (N, C, h, w) kernel encodings as one (N, C, K)."""
    return torch.cat([e.flatten(2) for e in encodings], dim=2)


def _unflat(flat: Tensor, shapes) -> Tuple[Tensor, ...]:
    """Inverse of :func:`_flat` for the given (h, w) shapes."""
    parts, start = [], 0
    for h, w in shapes:
        part = flat[..., start : start + h * w]
        parts.append(part.reshape(-1, flat.shape[-2], h, w))
        start += h * w
    return tuple(parts)


class KernelGraph(nn.Module):
    """Pool a box of a feature map and encode it as cls and reg kernels."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.head = model.head

    def forward(self, features: Tensor, cells: Tensor):
        pooled = prroi_pool2d(features, cells, self.head.pool_size, 1.0)
        return (
            _flat(self.head.cls_encode.encode_kernel(pooled)),
            _flat(self.head.reg_encode.encode_kernel(pooled)),
        )


def windows(search: Tensor, height: int, width: int) -> Tensor:
    """Every ``height × width`` window of ``search``, tap-major.

    Built with ``width`` column slices, then ``height`` row slices of
    their stack (h + w graph nodes, not h · w); plain copies, so the
    windows hold the map's values exactly.

    Args:
        search (Tensor): of shape (N, C, H, W).
        height, width (int): the kernel's size.

    Returns:
        Tensor: of shape (N, C, height · width, Ho · Wo), Ho = H - height
        + 1, Wo = W - width + 1; tap ``u · width + v`` at position
        ``(i, j)`` is ``search[..., i + u, j + v]``.
    """
    out_h = search.shape[-2] - height + 1
    out_w = search.shape[-1] - width + 1
    cols = torch.stack(
        [search[..., v : v + out_w] for v in range(width)], dim=2
    )  # N, C, w, H, Wo
    taps = torch.stack(
        [cols[..., u : u + out_h, :] for u in range(height)], dim=2
    )  # N, C, h, w, Ho, Wo
    return taps.flatten(2, 3).flatten(3)


def correlate(
    fusion: nn.Module,
    windows: Tuple[Tensor, ...],
    kernels: Tensor,
    shapes,
    out_hw: Tuple[Tensor, Tensor],
) -> Tensor:
    """:class:`MultiScaleDWFusion` as batched matrix products.

    The depthwise correlation of each dilation branch is one MatMul of
    the kernels with the search encoding's windows, so a search is
    unfolded once for any number of kernels (the memory queue) and no
    grouped convolution depends on the batch (the graph keeps dynamic N
    and M). Equal to the module up to float rounding.

    Args:
        fusion (nn.Module): the head's ``cls_dw`` or ``reg_dw``.
        windows (tuple[Tensor]): per branch, (N, C, h·w, P) (:func:`windows`
            of the search encoding).
        kernels (Tensor): of shape (N, M, C, K), M flattened kernels per
            search.
        shapes: (h, w) of each branch's kernel.
        out_hw (tuple): the response's height and width.

    Returns:
        Tensor: of shape (N, M, C, S, S).
    """
    weights = torch.softmax(fusion.weight, dim=0)
    num, mem, channels = kernels.shape[0], kernels.shape[1], kernels.shape[2]
    fused, start = None, 0
    for i, (patches, (h, w)) in enumerate(zip(windows, shapes)):
        kernel = kernels[..., start : start + h * w].transpose(1, 2)
        start += h * w
        term = weights[i] * torch.matmul(kernel, patches)  # N, C, M, P
        fused = term if fused is None else fused + term
    return fused.transpose(1, 2).reshape(num, mem, channels, *out_hw)


def fuse_memory(fusion: nn.Module, corr: Tensor, counts: Tensor) -> Tensor:
    """:class:`ConfidenceValueFusion` with counts, softmax spelled out.

    ``exp(conf + log count) / sum(...)``: the confidences are clamped to
    at most ``conf_range[1]`` (4), so the exponentials cannot overflow and
    the max-shift of ``softmax`` is not needed; equal up to float rounding,
    and elementwise (ONNX Runtime's Softmax over a middle axis is slow).
    """
    num, mem = corr.shape[0], corr.shape[1]
    flat = corr.flatten(0, 1)
    conf = fusion.conf_gen(flat).clamp(*fusion.conf_range)
    value = fusion.value_gen(flat)
    conf = conf.reshape(num, mem, *conf.shape[1:])
    value = value.reshape(num, mem, *value.shape[1:])
    weight = torch.exp(conf) * counts.reshape(num, mem, 1, 1, 1)
    return (weight * value).sum(dim=1) / weight.sum(dim=1)


class HeadGraph(nn.Module):
    """Offline and memory branches on pre-encoded kernels.

    The windows of the cls search encodings (:func:`windows`) are cut
    once and shared by the offline and memory correlations.
    """

    def __init__(self, model: nn.Module, shapes) -> None:
        super().__init__()
        self.head = model.head
        self.shapes = shapes

    def forward(
        self,
        features: Tensor,
        cls_kernel: Tensor,
        reg_kernel: Tensor,
        memory: Tensor,
        memory_counts: Tensor,
    ):
        head = self.head
        cls_enc = head.cls_encode.encode_search(features)
        reg_enc = head.reg_encode.encode_search(features)
        out_hw = (
            cls_enc[0].shape[-2] - self.shapes[0][0] + 1,
            cls_enc[0].shape[-1] - self.shapes[0][1] + 1,
        )
        cls_win = [windows(e, *hw) for e, hw in zip(cls_enc, self.shapes)]
        reg_win = [windows(e, *hw) for e, hw in zip(reg_enc, self.shapes)]
        cls_corr = correlate(
            head.cls_dw, cls_win, cls_kernel.unsqueeze(1), self.shapes, out_hw
        )
        reg_corr = correlate(
            head.reg_dw, reg_win, reg_kernel.unsqueeze(1), self.shapes, out_hw
        )
        cls_logits = CLS_LOGIT_SCALE * head.cls_pred(
            head.cls_tower(cls_corr.flatten(0, 1))
        )
        reg_feat = head.bbox_tower(reg_corr.flatten(0, 1))
        reg = torch.exp(head.adjust * head.bbox_pred(reg_feat) + head.bias)
        mem_corr = correlate(head.cls_dw, cls_win, memory, self.shapes, out_hw)
        fused = fuse_memory(head.conf_fusion, mem_corr, memory_counts)
        mem_logits = CLS_LOGIT_SCALE * head.cls_memory_pred(
            head.cls_memory_tower(fused)
        )
        return cls_logits, reg, mem_logits


def check_usot(model: nn.Module, name: str) -> None:
    """Raise :class:`ExportError` unless ``model`` is a USOT network."""
    from ..models.sot import USOT

    if not isinstance(model, USOT):
        raise ExportError(
            f'{name}: builds a {type(model).__name__}, not a USOT model; '
            'mmusot-export exports USOT configs only'
        )


def model_geometry(model: nn.Module, test_cfg: USOTTestConfig) -> Geometry:
    """The geometry of ``model`` for the crop sizes of ``test_cfg``.

    Runs the backbone on zero crops of each size to read the feature
    sizes.

    Raises:
        ExportError: a crop size gives a feature too small for the head.
    """
    head = model.head
    sides = sorted(
        {
            test_cfg.exemplar_size,
            test_cfg.instance_size,
            test_cfg.big_instance_size,
        }
    )
    feature_sizes, channels = {}, None
    with torch.no_grad():
        for side in sides:
            feat = model.forward_search(torch.zeros(1, 3, side, side))
            if feat.shape[-1] != feat.shape[-2]:
                raise ExportError(
                    f'a {side}x{side} crop gives a non-square '
                    f'{tuple(feat.shape[-2:])} feature map'
                )
            feature_sizes[side] = int(feat.shape[-1])
            channels = int(feat.shape[1])
    pool = head.pool_size
    for side in (test_cfg.instance_size, test_cfg.big_instance_size):
        if feature_sizes[side] < pool:
            raise ExportError(
                f'a {side}-pixel search crop gives {feature_sizes[side]} '
                f'feature cells, fewer than the {pool}-cell kernel'
            )
    shapes = ((pool - 2, pool - 2), (pool - 4, pool - 2), (pool - 2, pool - 4))
    return Geometry(
        stride=int(head.stride),
        feature_offset=float(head.feature_offset),
        search_axis_offset=float(head.search_axis_offset),
        response_offset=float(head.response_offset),
        pool_size=int(pool),
        channels=channels,
        kernel_shapes=shapes,
        feature_sizes=feature_sizes,
    )


def export_model(
    model: nn.Module,
    out_dir: str,
    config: str = 'the config',
    checkpoint: Optional[str] = None,
) -> DeployPackage:
    """Export a built USOT model into ``out_dir``.

    Args:
        model (nn.Module): a USOT model from
            :func:`~mmusot.apis.build_tracker` (moved to the CPU, eval).
        out_dir (str): the folder to write (created).
        config (str): the config's name, for ``deploy.json`` and errors.
        checkpoint (str, optional): the weights' file, for
            ``deploy.json``.

    Returns:
        DeployPackage: the written folder, read back and checked.

    Raises:
        ExportError: not a USOT model, or a geometry the runtime does not
            support.
    """
    import onnx

    check_usot(model, config)
    model = model.cpu().eval()
    test_cfg = model.usot_test_cfg()
    geometry = model_geometry(model, test_cfg)
    os.makedirs(out_dir, exist_ok=True)
    paths = {role: osp.join(out_dir, f) for role, f in GRAPH_FILES.items()}
    for role, (module, args, inputs, outputs, dynamic) in _graphs(
        model, test_cfg, geometry
    ).items():
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(
                module.eval(),
                args,
                paths[role],
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=dynamic,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        onnx.checker.check_model(paths[role], full_check=True)
    model.eval()  # the exporter restores the wrappers' mode recursively
    description = (
        f'{type(model.backbone).__name__} USOT, {osp.basename(config)}'
        + (f' + {osp.basename(checkpoint)}' if checkpoint else '')
    )
    write_deploy_json(out_dir, test_cfg, geometry, description)
    return DeployPackage.load(out_dir)


def _graphs(model: nn.Module, test_cfg: USOTTestConfig, geometry: Geometry):
    """Per role: module, example inputs, input and output names, dynamic
    axes."""
    c, k = geometry.channels, geometry.kernel_length
    f = geometry.feature_sizes[test_cfg.instance_size]
    t = geometry.feature_sizes[test_cfg.exemplar_size]
    side = test_cfg.instance_size
    batch = {0: 'batch'}
    maps = {0: 'batch', 2: 'cells_y', 3: 'cells_x'}
    response = {0: 'batch', 2: 'response_y', 3: 'response_x'}
    cells = torch.tensor([[1.0, 2.0, 9.5, 11.0], [0.0, 0.5, 14.0, 13.0]])
    return dict(
        backbone=(
            BackboneGraph(model),
            (torch.zeros(2, 3, side, side),),
            ['image'],
            list(GRAPH_OUTPUTS['backbone']),
            dict(image={0: 'batch', 2: 'height', 3: 'width'}, features=maps),
        ),
        kernel=(
            KernelGraph(model),
            (torch.rand(2, c, t, t), cells),
            ['features', 'cells'],
            list(GRAPH_OUTPUTS['kernel']),
            dict(
                features=maps, cells=batch, cls_kernel=batch, reg_kernel=batch
            ),
        ),
        head=(
            HeadGraph(model, geometry.kernel_shapes),
            (
                torch.rand(2, c, f, f),
                torch.rand(2, c, k),
                torch.rand(2, c, k),
                torch.rand(2, 3, c, k),
                torch.ones(2, 3),
            ),
            list(HEAD_INPUTS),
            list(GRAPH_OUTPUTS['head']),
            dict(
                features=maps,
                cls_kernel=batch,
                reg_kernel=batch,
                memory={0: 'batch', 1: 'entries'},
                memory_counts={0: 'batch', 1: 'entries'},
                cls_logits=response,
                reg=response,
                memory_logits=response,
            ),
        ),
    )


def _relative_error(reference: Tensor, value: np.ndarray) -> float:
    reference = reference.detach().numpy()
    scale = max(float(np.abs(reference).max()), 1e-12)
    return float(np.abs(reference - value).max()) / scale


def verify_export(
    model: nn.Module, package: DeployPackage, seed: int = 0
) -> Dict[str, float]:
    """Compare the exported graphs on ONNX Runtime with the PyTorch model.

    One random search crop through the backbone, a box of its feature
    through the kernel graph, and the head with a three-entry memory
    (counts 1, 2, 1); the references are the model's own methods
    (``forward_search``, ``head.pool`` + encoders, ``forward_offline``,
    ``forward_memory``).

    Returns:
        dict[str, float]: per output, the largest absolute difference over
        the reference's largest magnitude.
    """
    from ..runtime.backends import OnnxRuntimeBackend

    backend = OnnxRuntimeBackend(package)
    head = model.head
    gen = torch.Generator().manual_seed(seed)
    side = package.test_cfg.instance_size
    crop = torch.rand(1, 3, side, side, generator=gen) * 255
    cells = torch.tensor([[3.2, 4.1, 12.7, 15.3]])
    errors = {}
    with torch.no_grad():
        feat = model.forward_search(crop)
        (feat_onnx,) = backend.run('backbone', dict(image=crop.numpy()))
        errors['features'] = _relative_error(feat, feat_onnx)
        pooled = head.pool(feat, cells)
        cls_k = _flat(head.cls_encode.encode_kernel(pooled))
        reg_k = _flat(head.reg_encode.encode_kernel(pooled))
        cls_onnx, reg_onnx = backend.run(
            'kernel', dict(features=feat.numpy(), cells=cells.numpy())
        )
        errors['cls_kernel'] = _relative_error(cls_k, cls_onnx)
        errors['reg_kernel'] = _relative_error(reg_k, reg_onnx)
        mem_cells = cells + torch.rand(3, 4, generator=gen)
        mem = head.pool(feat.expand(3, -1, -1, -1), mem_cells)
        counts = torch.tensor([1.0, 2.0, 1.0])
        enc = head.encode_search(feat)
        cls, reg = head.forward_offline(enc, pooled)
        mem_logits = head.forward_memory(enc, mem[None], counts)
        mem_k = _flat(head.cls_encode.encode_kernel(mem))
        outputs = backend.run(
            'head',
            dict(
                zip(
                    HEAD_INPUTS,
                    (
                        feat.numpy(),
                        cls_k.numpy(),
                        reg_k.numpy(),
                        mem_k[None].numpy(),
                        counts[None].numpy(),
                    ),
                )
            ),
        )
    for name, ref, value in zip(
        ('cls_logits', 'reg', 'memory_logits'), (cls, reg, mem_logits), outputs
    ):
        errors[name] = _relative_error(ref, value)
    return errors
