# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Checkpoint loading for mmusot's train/test tools.

Importing mmusot changes nothing in mmengine: URLs, s3 paths and every other
scheme load as mmengine loads them. mmusot's tools (``tools/train.py``,
``tools/test.py``, via :func:`~mmusot.engine.build_runner`) add two things:

* :func:`use_safe_local_loading`: local files go through
  :func:`~mmusot.utils.safe_torch_load` (torch's weights-only unpickler
  plus the types mmengine writes), so ``--resume`` and ``load_from`` work
  on torch >= 2.6, where plain ``torch.load`` refuses mmengine's
  checkpoints;
* :func:`check_checkpoint_paths`: a config that names a local checkpoint
  that does not exist fails before any work starts, naming the key.

A checkpoint loaded into a network (``tools/test.py``, ``tools/train.py
--resume``, :func:`mmusot.apis.build_tracker`) must also fit it
(:func:`check_checkpoint_fits`: every weight of the network there, nothing
foreign, the same shapes; ``allow_partial`` keeps mmengine's lenient load)
and hold finite numbers only (:func:`check_finite_checkpoint`).
"""

import os.path as osp
import re
from typing import (
    Any,
    Collection,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import torch

from ..utils.safe_load import CheckpointLoadError, safe_torch_load

#: ``scheme://`` locations (http, s3, open-mmlab, ...): mmengine's business.
REMOTE_PATTERN = re.compile(r'^[A-Za-z][\w+.-]*://')
#: ``make weights`` puts the pretrained backbones in ``$MMUSOT_CACHE/weights``
#: (default ``~/.cache/mmusot/weights``).
WEIGHTS_HINT = '/weights/'
#: mmengine's key revision when it loads ``load_from`` (``module.`` of
#: DDP-wrapped models dropped).
REVISE_KEYS = [(r'^module\.', '')]
#: Model keys a checkpoint may lack: BN's batch counter (mmengine ignores
#: it; torch's BN keeps its own when absent, and USOT's BN uses a fixed
#: momentum, so it is never read).
OPTIONAL_MODEL_KEYS = re.compile(r'(^|\.)num_batches_tracked$')
#: Checkpoint keys that are not the network's but harmless: the EMA copies
#: that mmcv's old EMA hooks kept inside ``state_dict`` (``ema_...``).
IGNORED_CHECKPOINT_KEYS = re.compile(r'^ema_')
#: How many names an error message lists.
NAMES_SHOWN = 10
#: The state dicts of a checkpoint that hold weights of the network.
WEIGHT_DICTS = ('state_dict', 'ema_state_dict')


class MissingCheckpointError(FileNotFoundError):
    """A config names a local checkpoint that does not exist."""


class CheckpointMismatchError(CheckpointLoadError):
    """A checkpoint that does not fit the network of the config."""


class NonFiniteCheckpointError(CheckpointLoadError):
    """A checkpoint (or a model about to be saved) holding NaN or Inf."""


def load_from_safe_local(
    filename: str, map_location: Any = None, *args, **kwargs
) -> Any:
    """mmengine's loader for local paths, with :func:`safe_torch_load`.

    mmengine logs a load as ``Loads checkpoint by <name[10:]> backend``,
    cutting ``load_from_`` off the loader's name (``load_from_local``,
    ``load_from_http``, ...), so this one reads ``safe_local``.
    """
    return safe_torch_load(filename, map_location)


def use_safe_local_loading() -> None:
    """Load local checkpoints with :func:`safe_torch_load` in mmengine.

    Replaces only mmengine's loader for local paths (no scheme); remote
    schemes keep mmengine's own loaders. Called by mmusot's tools, not on
    import.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_safe_local, force=True
    )


def _walk(node: Any, path: str) -> List[Tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f'{path}.{key}' if path else str(key)
            if key in ('checkpoint', 'pretrained', 'load_from') and isinstance(
                value, str
            ):
                found.append((sub, value))
            else:
                found += _walk(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _walk(value, f'{path}[{i}]')
    return found


def find_checkpoint_references(cfg: Any) -> List[Tuple[str, str]]:
    """Every checkpoint a config would load: ``(key path, location)``.

    Looks at ``load_from``, ``resume`` given as a path, and every
    ``checkpoint``/``pretrained`` string (``init_cfg`` of any module).
    """
    refs = _walk(dict(cfg.items()) if hasattr(cfg, 'items') else cfg, '')
    resume = cfg.get('resume') if hasattr(cfg, 'get') else None
    if isinstance(resume, str):
        refs.append(('resume', resume))
    return refs


def check_checkpoint_paths(
    cfg: Any, config_file: Optional[str] = None
) -> None:
    """Fail early, with a clear message, on missing local checkpoints.

    Remote locations (``http://``, ``s3://``, ...) are left to mmengine.

    Args:
        cfg (Config | dict): the (merged) config.
        config_file (str, optional): its file name, for the message.

    Raises:
        MissingCheckpointError: naming the config key and the location.
    """
    where = f' in {config_file}' if config_file else ''
    for key, location in find_checkpoint_references(cfg):
        if REMOTE_PATTERN.match(location) and not location.startswith(
            'file://'
        ):
            continue
        local = (
            location[len('file://') :]
            if location.startswith('file://')
            else location
        )
        if osp.isfile(osp.expanduser(local)):
            continue
        hint = (
            ' Run `make weights` (tools/fetch_weights.py) to fetch and '
            'convert the pretrained backbones.'
            if WEIGHTS_HINT in location
            else f' Give an existing file with --cfg-options {key}=PATH.'
        )
        raise MissingCheckpointError(
            f'{key}{where} names a checkpoint that does not exist: '
            f'{location}.{hint}'
        )


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The network inside a DDP-style model wrapper."""
    from mmengine.model import is_model_wrapper

    return model.module if is_model_wrapper(model) else model


def name_list(keys: Sequence[str], limit: int = NAMES_SHOWN) -> str:
    shown = ', '.join(keys[:limit])
    if len(keys) > limit:
        shown += f' (and {len(keys) - limit} more)'
    return shown


def model_state_dict(checkpoint: Mapping) -> Mapping:
    """The weights in a loaded checkpoint, as mmengine picks them:
    ``checkpoint['state_dict']`` when present, else the checkpoint."""
    if 'state_dict' in checkpoint:
        return checkpoint['state_dict']
    return checkpoint


def revise_keys(
    state_dict: Mapping, revisions: Iterable[Tuple[str, str]] = REVISE_KEYS
) -> dict:
    """``state_dict`` with its keys rewritten as mmengine's loader does."""
    state = dict(state_dict)
    for pattern, replacement in revisions:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    return state


def non_finite_keys(
    state_dict: Mapping, allowed: Collection[str] = ()
) -> List[str]:
    """Keys of the floating-point tensors that hold a NaN or an Inf.

    Args:
        state_dict (Mapping): name -> tensor (other values are skipped).
        allowed (Collection[str]): keys not to report (a network's own
            constant buffers that are infinite by design, e.g. masks).

    Returns:
        list[str]: the keys, in ``state_dict`` order.
    """
    return [
        key
        for key, value in state_dict.items()
        if key not in allowed
        and isinstance(value, torch.Tensor)
        and (value.is_floating_point() or value.is_complex())
        and not bool(torch.isfinite(value).all())
    ]


def non_finite_weights(
    checkpoint: Mapping, allowed: Collection[str] = ()
) -> List[str]:
    """``'<dict>: <key>'`` for every non-finite tensor of the network's
    state dicts in ``checkpoint`` (:data:`WEIGHT_DICTS`; a bare state dict
    is checked as a whole).

    ``allowed`` names model keys (``module.`` prefixes of the EMA copy are
    stripped before the look-up).
    """
    if any(name in checkpoint for name in WEIGHT_DICTS):
        states = [
            (f'{name}: ', checkpoint[name])
            for name in WEIGHT_DICTS
            if isinstance(checkpoint.get(name), Mapping)
        ]
    else:
        states = [('', checkpoint)]
    found = []
    for label, state in states:
        skip = {k for k in state if re.sub(r'^module\.', '', k) in allowed}
        found += [label + key for key in non_finite_keys(state, skip)]
    return found


def check_finite_checkpoint(
    checkpoint: Mapping, filename: str, allowed: Collection[str] = ()
) -> None:
    """Refuse a checkpoint with NaN or Inf weights.

    Args:
        checkpoint (Mapping): the loaded checkpoint (or a bare state dict).
        filename (str): its file, for the message.
        allowed (Collection[str]): model keys that are non-finite by
            design (see :func:`non_finite_keys`).

    Raises:
        NonFiniteCheckpointError: naming the file and the first tensors.
    """
    bad = non_finite_weights(checkpoint, allowed)
    if not bad:
        return
    raise NonFiniteCheckpointError(
        f'{filename}: {len(bad)} weight tensor(s) hold NaN or Inf values: '
        f'{name_list(bad)}. A network with such weights tracks nothing (its '
        'boxes are nan). The training that wrote it diverged: look for '
        "'Skipping optimizer.step()' in its log, check the pseudo labels "
        '(mmusot-eval-pseudo-labels DATA_ROOT) or lower the learning rate, '
        'and use an earlier checkpoint of the run.'
    )


def find_mismatch(
    model: torch.nn.Module,
    state_dict: Mapping,
    revisions: Iterable[Tuple[str, str]] = REVISE_KEYS,
) -> Tuple[List[str], List[str], List[str]]:
    """How a state dict differs from the network that would load it.

    Args:
        model (nn.Module): the network (a DDP-style wrapper is unwrapped).
        state_dict (Mapping): the checkpoint's weights, keys as saved.
        revisions (Iterable[tuple]): ``(pattern, replacement)`` key
            rewrites applied first, as the loader applies them. Defaults to
            :data:`REVISE_KEYS`.

    Returns:
        tuple[list[str], list[str], list[str]]: the network's keys missing
        from the checkpoint (:data:`OPTIONAL_MODEL_KEYS` excepted), the
        checkpoint's keys the network does not have
        (:data:`IGNORED_CHECKPOINT_KEYS` excepted), and ``'key: checkpoint
        (a, b), model (c, d)'`` for the shapes that differ.
    """
    own = unwrap(model).state_dict()
    theirs = revise_keys(state_dict, revisions)
    missing = [
        k for k in own if k not in theirs and not OPTIONAL_MODEL_KEYS.search(k)
    ]
    unexpected = [
        k
        for k in theirs
        if k not in own and not IGNORED_CHECKPOINT_KEYS.search(k)
    ]
    shapes = []
    for key, value in own.items():
        other = theirs.get(key)
        if isinstance(other, torch.Tensor) and other.shape != value.shape:
            shapes.append(
                f'{key}: checkpoint {tuple(other.shape)}, model '
                f'{tuple(value.shape)}'
            )
    return missing, unexpected, shapes


def check_checkpoint_fits(
    model: torch.nn.Module,
    checkpoint: Mapping,
    filename: str,
    config: Optional[str] = None,
    revisions: Iterable[Tuple[str, str]] = REVISE_KEYS,
) -> None:
    """Refuse a checkpoint that does not fit the network exactly.

    mmengine loads checkpoints leniently: a missing weight keeps the
    config's initial value and only a warning says so, so a checkpoint of
    another config (or no tracker at all) gives a tracker that runs and
    tracks nothing.

    Args:
        model (nn.Module): the network built from the config.
        checkpoint (Mapping): the loaded checkpoint (or a bare state dict).
        filename (str): its file, for the message.
        config (str, optional): the config, for the message.
        revisions (Iterable[tuple]): key rewrites (see :func:`find_mismatch`).

    Raises:
        CheckpointMismatchError: naming the keys (the first
            :data:`NAMES_SHOWN` of each kind, and how many).
    """
    state = model_state_dict(checkpoint)
    missing, unexpected, shapes = find_mismatch(model, state, revisions)
    if not (missing or unexpected or shapes):
        return
    own = unwrap(model).state_dict()
    parts = []
    if missing:
        parts.append(
            f"{len(missing)} of the network's {len(own)} weights are not in "
            f'it: {name_list(missing)}'
        )
    if unexpected:
        parts.append(
            f'{len(unexpected)} of its {len(state)} weights are not in the '
            f'network: {name_list(unexpected)}'
        )
    if shapes:
        parts.append(f'{len(shapes)} have another shape: {name_list(shapes)}')
    network = f'the network of {config}' if config else 'the network'
    required = [k for k in own if not OPTIONAL_MODEL_KEYS.search(k)]
    hint = ''
    if len(missing) == len(required):
        hint = (
            " None of the network's weights are there: an official USOT "
            'model or a backbone checkpoint must first be converted '
            '(mmusot-convert-checkpoint).'
        )
    raise CheckpointMismatchError(
        f'{filename} does not fit {network}: ' + '; '.join(parts) + '.'
        f'{hint} Use the config the checkpoint was trained with (e.g. not '
        'a ResNet-50 checkpoint under a MobileNetV2 config). To load only '
        "the weights that fit and keep the config's initial values for the "
        'rest, pass --allow-partial (allow_partial=True).'
    )
