# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""One safe ``torch.load`` for every checkpoint mmusot reads.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine's own
checkpoints (``--resume``, ``load_from``) hold a few plain Python and numpy
objects (message hub, meta) that the weights-only unpickler refuses.
:func:`safe_torch_load` keeps the safe unpickler and allows exactly the
types mmengine writes; ``trusted=True`` falls back to full unpickling for
files the user vouches for.
"""

import os.path as osp
import pickle
from typing import Any, List

import numpy as np
import torch


class CheckpointLoadError(RuntimeError):
    """A checkpoint that the safe unpickler refuses; the message says why."""


def mmengine_safe_globals() -> List[Any]:
    """Types that mmengine writes into checkpoints (meta, message hub)."""
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    safe: List[Any] = [np.ndarray, np.dtype, _reconstruct, scalar]
    # Concrete dtype classes (numpy.dtypes.Float64DType, ...) for pickled
    # arrays and scalars.
    safe += [
        obj
        for obj in (getattr(np.dtypes, name) for name in dir(np.dtypes))
        if isinstance(obj, type)
    ]
    try:
        from mmengine.config import ConfigDict
        from mmengine.logging.history_buffer import HistoryBuffer
    except ImportError:  # conversion-only install without mmengine
        return safe
    # A HistoryBuffer pickles its statistics methods as
    # getattr(HistoryBuffer, 'min'). The weights-only unpickler calls only
    # allow-listed callables, so getattr can fetch attributes but nothing it
    # returns can be called.
    return safe + [HistoryBuffer, getattr, ConfigDict]


def safe_torch_load(
    filename: str, map_location: Any = 'cpu', trusted: bool = False
) -> Any:
    """Load a local checkpoint with torch's weights-only unpickler.

    Args:
        filename (str): a local ``.pth`` file (``file://`` and ``~`` are
            accepted).
        map_location (Any): passed to :func:`torch.load`. Defaults to
            'cpu'.
        trusted (bool): when the safe load fails, unpickle fully (can run
            arbitrary code: only for files you trust). Defaults to False.

    Returns:
        Any: the loaded object.

    Raises:
        FileNotFoundError: the file does not exist (named).
        CheckpointLoadError: it holds objects outside the allowed types and
            ``trusted`` is False; the message names the file and the type.
    """
    if filename.startswith('file://'):
        filename = filename[len('file://') :]
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    try:
        with torch.serialization.safe_globals(mmengine_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True
            )
    except (
        pickle.UnpicklingError,
        RuntimeError,
        AttributeError,
        TypeError,
    ) as err:
        if trusted:
            return torch.load(
                filename, map_location=map_location, weights_only=False
            )
        raise CheckpointLoadError(
            f'{filename}: cannot be loaded with the safe (weights-only) '
            f'unpickler: {err}. If you trust this file, load it trusted '
            '(--trusted in tools/convert_usot_checkpoint.py), which '
            'unpickles arbitrary objects.'
        ) from err
