# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Offline, torch>=2.6-safe checkpoint loading for every mmengine code path.

Two things go wrong with the pinned stack on a modern machine:

* torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine's
  own checkpoints (``--resume``, ``load_from``) hold a few plain Python and
  numpy objects that the safe unpickler refuses.
* mmtrack configs name backbone weights by URL, and mmengine would try to
  download them; mmusot never downloads anything.

:func:`register_checkpoint_loaders` (run when :mod:`mmusot` is imported)
replaces mmengine's loaders: local files are read with the safe unpickler,
allowing exactly the types mmengine writes; remote schemes raise
:class:`OfflineCheckpointError` telling the user to give a local path.
:func:`check_offline_config` finds such references in a config before any
work starts.
"""

import os
import os.path as osp
import re
from typing import Any, Callable, List, Optional, Tuple

import numpy as np
import torch

REMOTE_PATTERN = re.compile(r'^[A-Za-z][\w+.-]*://')
REMOTE_PREFIXES = (
    'http://',
    'https://',
    'torchvision://',
    'open-mmlab://',
    'openmmlab://',
    'mmcls://',
    'pavi://',
    's3://',
    'modelzoo://',
)


class OfflineCheckpointError(ValueError):
    """A config or call names a checkpoint that is remote or missing."""


def _is_remote(path: str) -> bool:
    return bool(REMOTE_PATTERN.match(path)) and not path.startswith('file://')


def _mmengine_safe_globals() -> List[Any]:
    """Types that mmengine writes into checkpoints (meta, message hub)."""
    safe: List[Any] = [np.ndarray, np.dtype]
    try:
        from numpy._core.multiarray import _reconstruct, scalar

        safe += [_reconstruct, scalar]
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar

        safe += [_reconstruct, scalar]
    # Concrete dtype classes (numpy.dtypes.Float64DType, ...) for pickled
    # arrays and scalars.
    for name in dir(np.dtypes):
        obj = getattr(np.dtypes, name)
        if isinstance(obj, type):
            safe.append(obj)
    for kind in (
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.bool_,
    ):
        safe.append(type(np.dtype(kind)))
    try:
        from mmengine.logging.history_buffer import HistoryBuffer

        # A HistoryBuffer pickles its statistics methods as
        # getattr(HistoryBuffer, 'min'). The weights-only unpickler calls
        # only allow-listed callables, so getattr can fetch attributes but
        # nothing it returns can be called.
        safe += [HistoryBuffer, getattr]
    except ImportError:
        pass
    try:
        from mmengine.config import ConfigDict

        safe.append(ConfigDict)
    except ImportError:
        pass
    return safe


def safe_torch_load(filename: str, map_location: Any = 'cpu') -> Any:
    """Load a local checkpoint with torch's safe (weights-only) unpickler.

    Args:
        filename (str): path of a local ``.pth`` file.
        map_location (Any): passed to :func:`torch.load`.

    Returns:
        Any: the loaded object.

    Raises:
        OfflineCheckpointError: the file does not exist.
        RuntimeError: the file holds objects outside the allowed types; the
            message names the file and the type.
    """
    if filename.startswith('file://'):
        filename = filename[len('file://') :]
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise OfflineCheckpointError(f'checkpoint file not found: {filename}')
    with torch.serialization.safe_globals(_mmengine_safe_globals()):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True
            )
        except Exception as err:  # unpickling errors come in many types
            raise RuntimeError(
                f'cannot load checkpoint {filename} with the safe '
                f'unpickler: {err}. If you trust this file, convert it '
                'with tools/convert_usot_checkpoint.py or load it with '
                'torch.load(..., weights_only=False) yourself.'
            ) from err


def _remote_loader(prefix: str) -> Callable:

    def load(filename: str, map_location: Any = None, *args, **kwargs):
        raise OfflineCheckpointError(
            f'refusing to download checkpoint {filename}: mmusot works '
            'offline. Download it yourself and give a local path (e.g. '
            '--cfg-options model.backbone.init_cfg.checkpoint=/path/to/'
            'weights.pth), or set init_cfg=None.'
        )

    load.__name__ = f'offline_{prefix.strip(":/")}'
    return load


def _local_loader(
    filename: str, map_location: Any = None, *args, **kwargs
) -> Any:
    return safe_torch_load(filename, map_location)


def register_checkpoint_loaders() -> None:
    """Route mmengine's checkpoint loading through the offline loaders."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(
        prefixes='', loader=_local_loader, force=True
    )
    for prefix in REMOTE_PREFIXES:
        CheckpointLoader.register_scheme(
            prefixes=prefix, loader=_remote_loader(prefix), force=True
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


def check_offline_config(cfg: Any, config_file: Optional[str] = None) -> None:
    """Fail early, with a clear message, on remote or missing checkpoints.

    Args:
        cfg (Config | dict): the (merged) config.
        config_file (str, optional): its file name, for the message.

    Raises:
        OfflineCheckpointError: naming the config key and the location.
    """
    where = f' in {config_file}' if config_file else ''
    for key, location in find_checkpoint_references(cfg):
        if _is_remote(location):
            raise OfflineCheckpointError(
                f'{key}{where} points at {location}: mmusot never '
                'downloads weights. Download the file yourself and pass a '
                f'local path (--cfg-options {key}=/path/to/file.pth), or '
                'drop it (e.g. init_cfg=None).'
            )
        local = (
            location[len('file://') :]
            if location.startswith('file://')
            else location
        )
        if not os.path.isfile(osp.expanduser(local)):
            raise OfflineCheckpointError(
                f'{key}{where} names a checkpoint that does not exist: '
                f'{location}'
            )
