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
"""

import os.path as osp
import re
from typing import Any, List, Optional, Tuple

from ..utils.safe_load import safe_torch_load

#: ``scheme://`` locations (http, s3, open-mmlab, ...): mmengine's business.
REMOTE_PATTERN = re.compile(r'^[A-Za-z][\w+.-]*://')
#: ``make weights`` puts the pretrained backbones in ``$MMUSOT_CACHE/weights``
#: (default ``~/.cache/mmusot/weights``).
WEIGHTS_HINT = '/weights/'


class MissingCheckpointError(FileNotFoundError):
    """A config names a local checkpoint that does not exist."""


def _local_loader(
    filename: str, map_location: Any = None, *args, **kwargs
) -> Any:
    return safe_torch_load(filename, map_location)


def use_safe_local_loading() -> None:
    """Load local checkpoints with :func:`safe_torch_load` in mmengine.

    Replaces only mmengine's loader for local paths (no scheme); remote
    schemes keep mmengine's own loaders. Called by mmusot's tools, not on
    import.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(
        prefixes='', loader=_local_loader, force=True
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
