# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Checkpoint conversion between other layouts and mmusot's.

The library of the ``mmusot-convert-checkpoint`` command
(:mod:`mmusot.cli.convert_checkpoint`) and of ``mmusot-fetch-weights``.

Source layouts (the official network is in ``lib/models/``; paper Sec. 4.1
for the ResNet-50 backbone, third block):

* ``'usot'``: an official USOT / USOT* model (``features.features.*``,
  ``neck.downsample.*``, ``connect_model.*``), mapped to the full mmusot
  model (``backbone.*``, ``neck.convs.0.{conv,bn}.*``, ``head.*``);
* ``'moco'``: a MoCo-v2 ResNet-50 (``encoder_q.*``), mapped to
  ``backbone.*``;
* ``'imagenet'``: a torchvision-style ResNet-50 (``conv1.*``,
  ``layerK.*``, ``fc.*``), mapped to ``backbone.*``;
* ``'augnet'``: the self-supervised AugNet ResNet-50 of the ``imgsim``
  package (``module.pre.*``, a torchvision ResNet-50 with a 768-d
  ``fc``), mapped to ``backbone.*``;
* ``'mmcls'``: an mmcls ResNet-50 classifier (``backbone.conv1.*``,
  ``backbone.layerK.*``, ``head.fc.*``), mapped to ``backbone.*``;
* ``'mobilenet_v2'``: torchvision's MobileNetV2 (``features.N.*``,
  ``classifier.*``), mapped to the ``SOTMobileNetV2`` backbone
  (``backbone.features.0`` … ``backbone.features.17``).

For ResNet-50 backbones, ``fc`` and ``layer4`` are dropped, and the 1×1
downsample kernels of ``layer2.0`` and ``layer3.0`` are embedded at the
centre of zero 3×3 kernels (USOT's backbone uses 3×3 downsample convs
there). For MobileNetV2, the 1280-channel ``features.18`` and the
classifier are dropped. A ``module.`` prefix (DataParallel) is stripped
first.

ImageNet-trained weights expect RGB in [0, 1] normalised by the ImageNet
mean/std, while USOT feeds raw BGR 0–255 (official
``lib/dataset_loader/datasets_usot.py``). :func:`fold_input_normalization`
folds that normalisation and the channel swap into the stem convolution
(and its BatchNorm's running mean); it is exact because both backbones'
stems are unpadded.
"""

import re
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .safe_load import CheckpointLoadError, safe_torch_load

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
# imgsim's AugNet wraps a torchvision ResNet-50 as ``pre`` (+ a tanh).
AUGNET_PREFIX = 'pre.'
# An mmcls ImageClassifier: the backbone, and the parts that are dropped.
MMCLS_BACKBONE_PREFIX = 'backbone.'
MMCLS_DROPPED: Tuple[str, ...] = ('head.', 'neck.', 'data_preprocessor.')
# torchvision MobileNetV2: features.0-17 are kept (SOTMobileNetV2),
# features.18 (the 1280-channel conv) and the classifier are dropped.
MOBILENET_V2_LAST_KEPT = 17
MOBILENET_V2_DROPPED_INDEX = 18
MOBILENET_V2_DROPPED: Tuple[str, ...] = ('classifier.',)
_FEATURE_INDEX = re.compile(r'features\.(\d+)\.')
RESNET_LAYOUTS: Tuple[str, ...] = ('moco', 'imagenet', 'augnet', 'mmcls')
BACKBONE_LAYOUTS: Tuple[str, ...] = RESNET_LAYOUTS + ('mobilenet_v2',)
LAYOUTS: Tuple[str, ...] = ('usot',) + BACKBONE_LAYOUTS
# The stem convolution and its BatchNorm (unprefixed converted keys), where
# the input normalisation is folded.
STEM_KEYS: Dict[str, Tuple[str, str]] = dict(
    resnet=('conv1.weight', 'bn1.running_mean'),
    mobilenet_v2=('features.0.0.weight', 'features.0.1.running_mean'),
)
# torchvision's ImageNet preprocessing: RGB scaled to [0, 1], then
# (x - mean) / std per channel. AugNet (imgsim) uses the same.
IMAGENET_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)
PIXEL_MAX = 255.0


class CheckpointError(ValueError):
    """A checkpoint file that cannot be converted; the message says why."""


def load_checkpoint_file(path: str, trusted: bool = False) -> Any:
    """Load a ``.pth`` file on the CPU, safely when possible.

    :func:`~mmusot.utils.safe_load.safe_torch_load` (weights-only, plus the
    types mmengine writes); with ``trusted`` a refused file is reloaded with
    full unpickling, which can run arbitrary code: only for files you trust.

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
        return safe_torch_load(path, 'cpu', trusted=trusted)
    except CheckpointLoadError as error:
        raise CheckpointError(str(error)) from error


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
        str: one of :data:`LAYOUTS`.

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
    if 'features.0.0.weight' in state:
        return 'mobilenet_v2'
    if AUGNET_PREFIX + 'conv1.weight' in state:
        return 'augnet'
    # mmusot's ResNet stops at layer3 and its head has no ``fc``.
    if any(k.startswith(MMCLS_BACKBONE_PREFIX) for k in keys) and any(
        k.startswith((MMCLS_BACKBONE_PREFIX + 'layer4.', 'head.fc.'))
        for k in keys
    ):
        return 'mmcls'
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
        'MoCo-v2 (encoder_q.*), an ImageNet ResNet-50 (conv1.*, layer1.*), '
        'AugNet (module.pre.*), an mmcls ResNet-50 (backbone.layer4.*, '
        'head.fc.*) or a torchvision MobileNetV2 (features.0.0.*)'
    )


def _rename_prefixes(
    state: Mapping[str, Tensor], rules: Sequence[Tuple[str, str]]
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Keys renamed by the first matching ``(prefix, replacement)`` rule;
    the keys no rule matches are returned apart (not converted)."""
    converted = OrderedDict()
    leftover = []
    for key, value in state.items():
        for old, new in rules:
            if key.startswith(old):
                converted[new + key[len(old) :]] = value
                break
        else:
            leftover.append(key)
    return converted, leftover


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
    return _rename_prefixes(state, USOT_PREFIX_RULES)


def to_official_state_dict(
    state: Mapping[str, Tensor],
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """mmusot ``USOT`` keys → official USOT keys (the inverse mapping).

    Args:
        state (Mapping[str, Tensor]): mmusot state dict.

    Returns:
        tuple: the official-layout state dict and the leftover keys.
    """
    return _rename_prefixes(
        state, [(new, old) for old, new in USOT_PREFIX_RULES]
    )


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


def _resnet_name(key: str, layout: str) -> Tuple[Optional[str], bool]:
    """Source key → torchvision ResNet name; ``(None, dropped)`` if none."""
    if layout == 'moco':
        if key.startswith(MOCO_DROPPED):
            return None, True
        if not key.startswith('encoder_q.'):
            return None, False
        return key[len('encoder_q.') :], False
    if layout == 'augnet':
        if not key.startswith(AUGNET_PREFIX):
            return None, False
        return key[len(AUGNET_PREFIX) :], False
    if layout == 'mmcls':
        if key.startswith(MMCLS_DROPPED):
            return None, True
        if not key.startswith(MMCLS_BACKBONE_PREFIX):
            return None, False
        return key[len(MMCLS_BACKBONE_PREFIX) :], False
    return key, False


def _mobilenet_v2_keep(key: str) -> Tuple[bool, bool]:
    """``(kept, dropped)`` for a torchvision MobileNetV2 key."""
    if key.startswith(MOBILENET_V2_DROPPED):
        return False, True
    match = _FEATURE_INDEX.match(key)
    if match is None:
        return False, False
    index = int(match.group(1))
    if index <= MOBILENET_V2_LAST_KEPT:
        return True, False
    return False, index == MOBILENET_V2_DROPPED_INDEX


def convert_backbone_state_dict(
    state: Mapping[str, Tensor], layout: str, prefix: str = 'backbone.'
) -> Tuple['OrderedDict[str, Tensor]', List[str], List[str]]:
    """A pretrained ResNet-50 or MobileNetV2 → mmusot backbone keys.

    ResNet-50 layouts (``'moco'``, ``'imagenet'``, ``'augnet'``,
    ``'mmcls'``) keep the stem and layer1–3, drop ``fc``/``layer4`` (and
    MoCo's key encoder and queue, mmcls's head), and embed the
    layer2.0/layer3.0 1×1 downsample kernels at the centre of zero 3×3
    kernels. ``'mobilenet_v2'`` keeps ``features.0`` … ``features.17`` and
    drops ``features.18`` and the classifier.

    Args:
        state (Mapping[str, Tensor]): the source state dict.
        layout (str): one of :data:`BACKBONE_LAYOUTS`.
        prefix (str): prepended to every output key. Defaults to
            'backbone.' (the full-model layout; use ``''`` for a
            backbone-only file).

    Returns:
        tuple: the converted state dict, the dropped keys (expected to be
        dropped) and the leftover keys (unexpected, not converted).
    """
    if layout not in BACKBONE_LAYOUTS:
        raise CheckpointError(f'not a backbone layout: {layout!r}')
    converted = OrderedDict()
    dropped, leftover = [], []
    for key, value in state.items():
        if layout == 'mobilenet_v2':
            kept, is_dropped = _mobilenet_v2_keep(key)
            if kept:
                converted[prefix + key] = value
            else:
                (dropped if is_dropped else leftover).append(key)
            continue
        name, is_dropped = _resnet_name(key, layout)
        if name is None:
            (dropped if is_dropped else leftover).append(key)
        elif name.startswith(BACKBONE_DROPPED):
            dropped.append(key)
        elif name.startswith(BACKBONE_STAGES):
            if name in EMBED_3X3_KEYS:
                value = embed_center_3x3(value)
            converted[prefix + name] = value
        else:
            leftover.append(key)
    return converted, dropped, leftover


def fold_input_normalization(
    conv_weight: Tensor,
    bn_running_mean: Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    bgr_to_rgb: bool = True,
    pixel_max: float = PIXEL_MAX,
) -> Tuple[Tensor, Tensor]:
    """Fold an input normalisation into an unpadded stem conv + BN.

    A stem trained on ``n_c = (x_c / pixel_max - mean_c) / std_c`` (RGB)
    computes ``W * n = W' * x + b`` on raw input ``x`` (BGR 0–255 when
    ``bgr_to_rgb``), with ``W'_c = W_c / (pixel_max * std_c)`` (input
    channels reversed for BGR) and ``b = -sum_c,k W_c mean_c / std_c`` per
    output channel. The bias-free conv keeps ``W'`` and the following
    BatchNorm absorbs ``b``: ``running_mean' = running_mean - b``. Exact in
    eval mode when the conv has no zero padding (padding would be zero in
    the normalised space, not in the raw one), and in train mode too, where
    the batch mean removes any constant.

    Args:
        conv_weight (Tensor): of shape (C_out, 3, k, k), the pretrained
            stem kernel (RGB input channels).
        bn_running_mean (Tensor): of shape (C_out,), the running mean of
            the BatchNorm that follows it.
        mean (Sequence[float]): per-channel RGB mean in [0, 1] units.
            Defaults to ImageNet's.
        std (Sequence[float]): per-channel RGB std in [0, 1] units.
            Defaults to ImageNet's.
        bgr_to_rgb (bool): the raw input is BGR. Defaults to True.
        pixel_max (float): raw value of a full-intensity pixel. Defaults
            to 255.

    Returns:
        tuple[Tensor, Tensor]: the folded kernel (same shape and dtype) and
        the new running mean.
    """
    if conv_weight.dim() != 4 or conv_weight.shape[1] != len(mean):
        raise CheckpointError(
            f'expected a stem kernel of shape (C_out, {len(mean)}, k, k), '
            f'got {tuple(conv_weight.shape)}'
        )
    if bn_running_mean.shape != conv_weight.shape[:1]:
        raise CheckpointError(
            f'running mean of shape {tuple(bn_running_mean.shape)} does not '
            f'match {conv_weight.shape[0]} conv output channels'
        )
    weight = conv_weight.double()
    mean_t = weight.new_tensor(mean).view(1, -1, 1, 1)
    std_t = weight.new_tensor(std).view(1, -1, 1, 1)
    bias = -(weight * mean_t / std_t).sum(dim=(1, 2, 3))
    folded = weight / (pixel_max * std_t)
    if bgr_to_rgb:
        folded = folded.flip(1)
    new_mean = bn_running_mean.double() - bias
    return (
        folded.to(conv_weight.dtype),
        new_mean.to(bn_running_mean.dtype),
    )


def fold_stem_normalization(
    state: Mapping[str, Tensor],
    layout: str,
    prefix: str = 'backbone.',
    **kwargs,
) -> 'OrderedDict[str, Tensor]':
    """Apply :func:`fold_input_normalization` to a converted backbone.

    Args:
        state (Mapping[str, Tensor]): from
            :func:`convert_backbone_state_dict`.
        layout (str): its source layout (one of :data:`BACKBONE_LAYOUTS`).
        prefix (str): the key prefix used in the conversion.
        **kwargs: ``mean``, ``std``, ``bgr_to_rgb``, ``pixel_max``.

    Returns:
        OrderedDict[str, Tensor]: a copy with the stem replaced.
    """
    if layout not in BACKBONE_LAYOUTS:
        raise CheckpointError(
            f'input normalisation can only be folded into a pretrained '
            f'backbone, not the {layout!r} layout'
        )
    family = 'mobilenet_v2' if layout == 'mobilenet_v2' else 'resnet'
    conv_key, mean_key = (prefix + k for k in STEM_KEYS[family])
    missing = [k for k in (conv_key, mean_key) if k not in state]
    if missing:
        raise CheckpointError(
            f'cannot fold the input normalisation: {missing} missing'
        )
    out = OrderedDict(state)
    out[conv_key], out[mean_key] = fold_input_normalization(
        state[conv_key], state[mean_key], **kwargs
    )
    return out


def convert_checkpoint(
    obj: Any,
    source: str = '<checkpoint>',
    layout: Optional[str] = None,
    backbone_prefix: str = 'backbone.',
    fold_input_norm: bool = False,
) -> Tuple['OrderedDict[str, Tensor]', Dict[str, Any]]:
    """Convert a loaded checkpoint of any supported layout.

    Args:
        obj (Any): the loaded checkpoint (see :func:`load_checkpoint_file`).
        source (str): name used in messages and the meta.
        layout (str, optional): force one of :data:`LAYOUTS`; detected when
            None.
        backbone_prefix (str): key prefix of converted backbones.
        fold_input_norm (bool): fold ImageNet's RGB mean/std normalisation
            into the stem so that the backbone takes USOT's raw BGR 0–255
            input (:func:`fold_input_normalization`); backbone layouts only.
            Defaults to False (the official USOT feeds raw BGR to its
            MoCo/ImageNet backbone unchanged).

    Returns:
        tuple: the converted state dict and a report dict with ``layout``,
        ``dropped`` and ``leftover`` key lists and ``fold_input_norm``.
    """
    state = extract_state_dict(obj, source)
    if layout is None:
        layout = detect_layout(state, source)
    elif layout not in LAYOUTS:
        raise CheckpointError(f'unknown layout {layout!r}; one of {LAYOUTS}')
    if layout == 'usot':
        if fold_input_norm:
            raise CheckpointError(
                f'{source}: input normalisation can only be folded into a '
                'pretrained backbone, not a full USOT model'
            )
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
    if fold_input_norm:
        converted = fold_stem_normalization(converted, layout, backbone_prefix)
    return converted, dict(
        layout=layout,
        dropped=dropped,
        leftover=leftover,
        fold_input_norm=fold_input_norm,
    )


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
