# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Checkpoint conversion between the official USOT layout and mmusot's.

Three source layouts are understood (usot_spec.md §3.1, Appendix A):

* ``'usot'``: an official USOT / USOT* model (``features.features.*``,
  ``neck.downsample.*``, ``connect_model.*``), mapped to the full mmusot
  model (``backbone.*``, ``neck.convs.0.{conv,bn}.*``, ``head.*``);
* ``'moco'``: a MoCo-v2 ResNet-50 (``encoder_q.*``), mapped to
  ``backbone.*``;
* ``'imagenet'``: a torchvision-style ResNet-50 (``conv1.*``,
  ``layerK.*``, ``fc.*``), mapped to ``backbone.*``.

For backbones, ``fc`` and ``layer4`` are dropped, and the 1×1 downsample
kernels of ``layer2.0`` and ``layer3.0`` are embedded at the centre of zero
3×3 kernels (USOT's backbone uses 3×3 downsample convs there). A
``module.`` prefix (DataParallel) is stripped first.
"""

import pickle
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

# Official USOT prefix -> mmusot prefix, first match wins.
USOT_PREFIX_RULES: Tuple[Tuple[str, str], ...] = (
    ('features.features.', 'backbone.'),
    ('neck.downsample.0.', 'neck.convs.0.conv.'),
    ('neck.downsample.1.', 'neck.convs.0.bn.'),
    ('connect_model.', 'head.'),
)
# Backbone parameters whose 1×1 pretrained kernels become centred 3×3.
EMBED_3X3_KEYS: Tuple[str, ...] = (
    'layer2.0.downsample.0.weight',
    'layer3.0.downsample.0.weight',
)
BACKBONE_STAGES: Tuple[str, ...] = (
    'conv1.',
    'bn1.',
    'layer1.',
    'layer2.',
    'layer3.',
)
BACKBONE_DROPPED: Tuple[str, ...] = ('fc.', 'layer4.')
MOCO_DROPPED: Tuple[str, ...] = ('encoder_k.', 'queue', 'queue_ptr')
LAYOUTS: Tuple[str, ...] = ('usot', 'moco', 'imagenet')


class CheckpointError(ValueError):
    """A checkpoint file that cannot be converted; the message says why."""


def load_checkpoint_file(path: str, trusted: bool = False) -> Any:
    """Load a ``.pth`` file on the CPU, safely when possible.

    It is loaded with ``weights_only=True`` (tensors and plain containers
    only). If that fails and ``trusted`` is True, it is reloaded with full
    unpickling, which can run arbitrary code: only for files you trust.

    Args:
        path (str): the checkpoint file.
        trusted (bool): allow the unsafe fallback. Defaults to False.

    Returns:
        Any: the loaded object.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: the safe load failed and ``trusted`` is False.
    """
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint not found: {path}') from None
    except (
        pickle.UnpicklingError,
        RuntimeError,
        AttributeError,
        TypeError,
    ) as error:
        if not trusted:
            raise CheckpointError(
                f'{path}: cannot be loaded with weights_only=True (it holds '
                f'non-tensor Python objects: {error}). If you trust this '
                'file, load it with trusted=True (--trusted on the command '
                'line), which unpickles arbitrary objects.'
            ) from error
    return torch.load(path, map_location='cpu', weights_only=False)


def _is_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and len(obj) > 0
        and all(
            isinstance(k, str) and isinstance(v, Tensor)
            for k, v in obj.items()
        )
    )


def extract_state_dict(
    obj: Any, source: str = '<checkpoint>'
) -> 'OrderedDict[str, Tensor]':
    """Find the state dict in a loaded checkpoint.

    Accepts a bare state dict or one wrapped (possibly repeatedly) under
    ``'state_dict'`` or ``'model'``. A ``module.`` prefix on every key is
    stripped.

    Args:
        obj (Any): the loaded checkpoint.
        source (str): name used in error messages.

    Returns:
        OrderedDict[str, Tensor]: the state dict.

    Raises:
        CheckpointError: no state dict found.
    """
    seen = 0
    while not _is_state_dict(obj):
        if isinstance(obj, Mapping) and seen < 4:
            for key in ('state_dict', 'model'):
                if key in obj:
                    obj = obj[key]
                    break
            else:
                obj = None
            seen += 1
            if obj is not None:
                continue
        raise CheckpointError(
            f'{source}: no state dict found (expected a dict of tensors, '
            "possibly under 'state_dict' or 'model')"
        )
    state = OrderedDict(obj)
    if all(k.startswith('module.') for k in state):
        state = OrderedDict((k[len('module.') :], v) for k, v in state.items())
    return state


def detect_layout(
    state: Mapping[str, Tensor], source: str = '<checkpoint>'
) -> str:
    """Tell the source layout of a state dict.

    Args:
        state (Mapping[str, Tensor]): from :func:`extract_state_dict`.
        source (str): name used in error messages.

    Returns:
        str: ``'usot'``, ``'moco'`` or ``'imagenet'``.

    Raises:
        CheckpointError: an unknown or already converted layout.
    """
    keys = list(state)
    if any(
        k.startswith(('features.features.', 'connect_model.')) for k in keys
    ):
        return 'usot'
    if any(k.startswith('encoder_q.') for k in keys):
        return 'moco'
    if 'conv1.weight' in state and any(k.startswith('layer1.') for k in keys):
        return 'imagenet'
    if any(k.startswith(('backbone.', 'head.')) for k in keys):
        raise CheckpointError(
            f'{source}: already in the mmusot layout '
            '(backbone.*/head.* keys); nothing to convert'
        )
    sample = ', '.join(keys[:5])
    raise CheckpointError(
        f'{source}: unknown checkpoint layout (first keys: {sample}); '
        'expected official USOT (features.features.*, connect_model.*), '
        'MoCo-v2 (encoder_q.*) or an ImageNet ResNet-50 (conv1.*, layer1.*)'
    )


def convert_usot_state_dict(
    state: Mapping[str, Tensor],
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Official USOT/USOT* keys → mmusot ``USOT`` keys.

    Args:
        state (Mapping[str, Tensor]): official state dict.

    Returns:
        tuple: the converted state dict and the leftover keys (matching no
        rule, not converted).
    """
    converted = OrderedDict()
    leftover = []
    for key, value in state.items():
        for old, new in USOT_PREFIX_RULES:
            if key.startswith(old):
                converted[new + key[len(old) :]] = value
                break
        else:
            leftover.append(key)
    return converted, leftover


def to_official_state_dict(
    state: Mapping[str, Tensor],
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """mmusot ``USOT`` keys → official USOT keys (the inverse mapping).

    Args:
        state (Mapping[str, Tensor]): mmusot state dict.

    Returns:
        tuple: the official-layout state dict and the leftover keys.
    """
    converted = OrderedDict()
    leftover = []
    for key, value in state.items():
        for old, new in USOT_PREFIX_RULES:
            if key.startswith(new):
                converted[old + key[len(new) :]] = value
                break
        else:
            leftover.append(key)
    return converted, leftover


def embed_center_3x3(kernel: Tensor) -> Tensor:
    """Embed a 1×1 kernel at the centre of a zero 3×3 kernel.

    Args:
        kernel (Tensor): of shape (C_out, C_in, 1, 1); a 3×3 kernel is
            returned unchanged.

    Returns:
        Tensor: of shape (C_out, C_in, 3, 3).
    """
    if kernel.shape[-2:] == (3, 3):
        return kernel
    if kernel.dim() != 4 or kernel.shape[-2:] != (1, 1):
        raise CheckpointError(
            'expected a 1×1 or 3×3 conv kernel, got shape '
            f'{tuple(kernel.shape)}'
        )
    out = kernel.new_zeros(*kernel.shape[:2], 3, 3)
    out[:, :, 1, 1] = kernel[:, :, 0, 0]
    return out


def convert_backbone_state_dict(
    state: Mapping[str, Tensor], layout: str, prefix: str = 'backbone.'
) -> Tuple['OrderedDict[str, Tensor]', List[str], List[str]]:
    """MoCo-v2 or ImageNet ResNet-50 → USOT backbone keys.

    Keeps the stem and layer1–3, drops ``fc``/``layer4`` (and MoCo's key
    encoder and queue), embeds the layer2.0/layer3.0 1×1 downsample kernels
    at the centre of zero 3×3 kernels.

    Args:
        state (Mapping[str, Tensor]): the source state dict.
        layout (str): ``'moco'`` or ``'imagenet'``.
        prefix (str): prepended to every output key. Defaults to
            'backbone.' (the full-model layout; use ``''`` for a
            backbone-only file).

    Returns:
        tuple: the converted state dict, the dropped keys (expected to be
        dropped) and the leftover keys (unexpected, not converted).
    """
    if layout not in ('moco', 'imagenet'):
        raise CheckpointError(f'not a backbone layout: {layout!r}')
    converted = OrderedDict()
    dropped, leftover = [], []
    for key, value in state.items():
        name = key
        if layout == 'moco':
            if key.startswith(MOCO_DROPPED):
                dropped.append(key)
                continue
            if not key.startswith('encoder_q.'):
                leftover.append(key)
                continue
            name = key[len('encoder_q.') :]
        if name.startswith(BACKBONE_DROPPED):
            dropped.append(key)
        elif name.startswith(BACKBONE_STAGES):
            if name in EMBED_3X3_KEYS:
                value = embed_center_3x3(value)
            converted[prefix + name] = value
        else:
            leftover.append(key)
    return converted, dropped, leftover


def convert_checkpoint(
    obj: Any,
    source: str = '<checkpoint>',
    layout: Optional[str] = None,
    backbone_prefix: str = 'backbone.',
) -> Tuple['OrderedDict[str, Tensor]', Dict[str, Any]]:
    """Convert a loaded checkpoint of any supported layout.

    Args:
        obj (Any): the loaded checkpoint (see :func:`load_checkpoint_file`).
        source (str): name used in messages and the meta.
        layout (str, optional): force ``'usot'``, ``'moco'`` or
            ``'imagenet'``; detected when None.
        backbone_prefix (str): key prefix of converted backbones.

    Returns:
        tuple: the converted state dict and a report dict with ``layout``,
        ``dropped`` and ``leftover`` key lists.
    """
    state = extract_state_dict(obj, source)
    if layout is None:
        layout = detect_layout(state, source)
    elif layout not in LAYOUTS:
        raise CheckpointError(f'unknown layout {layout!r}; one of {LAYOUTS}')
    if layout == 'usot':
        converted, leftover = convert_usot_state_dict(state)
        dropped: List[str] = []
    else:
        converted, dropped, leftover = convert_backbone_state_dict(
            state, layout, backbone_prefix
        )
    if not converted:
        raise CheckpointError(
            f'{source}: no key matched the {layout!r} layout'
        )
    return converted, dict(layout=layout, dropped=dropped, leftover=leftover)


def save_mmengine_checkpoint(
    state: Mapping[str, Tensor], path: str, meta: Optional[dict] = None
) -> None:
    """Save ``{'state_dict': state, 'meta': meta}`` (mmengine's layout).

    Args:
        state (Mapping[str, Tensor]): the state dict.
        path (str): output file.
        meta (dict, optional): plain-Python metadata (strings, numbers,
            lists), so the file loads with ``weights_only=True``.
    """
    torch.save(
        dict(state_dict=OrderedDict(state), meta=dict(meta or {})), path
    )
