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
from typing import Any, List, Optional

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


#: First bytes of the zip archive ``torch.save`` writes (torch >= 1.6).
ZIP_MAGIC = b'PK\x03\x04'
#: ``torch.save``'s legacy format starts with its magic number pickled
#: (``0x1950a86a20f9469cfc6c`` as a pickle LONG1 after the protocol byte).
LEGACY_MAGIC = b'\x8a\x0a' + (0x1950A86A20F9469CFC6C).to_bytes(10, 'little')
#: torch's words for an archive or pickle stream that ends too early.
TRUNCATION_SIGNS = (
    'central directory',
    'PytorchStreamReader failed',
    'truncated',
    'Ran out of input',
    'unexpected EOF',
)
#: torch's words for a zip archive that holds no checkpoint.
ZIP_ERROR_SIGNS = ('PytorchStreamReader', 'inline_container', 'archive')
#: torch's words when the weights-only unpickler refuses an object.
REFUSAL_SIGN = 'Weights only load failed'
#: What to do with a file that is not a complete checkpoint.
RECOPY_HINT = (
    'Copy or download it again, or save it again (an interrupted save or '
    'copy leaves such a file); a training run keeps its earlier '
    'checkpoints (epoch_*.pth) in its work dir.'
)


def _checkpoint_format(head: bytes) -> str:
    """'zip', 'legacy' (torch.save's older pickle format) or 'unknown'."""
    if head.startswith(ZIP_MAGIC):
        return 'zip'
    if head[:1] == b'\x80' and head[2 : 2 + len(LEGACY_MAGIC)] == LEGACY_MAGIC:
        return 'legacy'
    return 'unknown'


def describe_unreadable(filename: str, err: BaseException) -> Optional[str]:
    """Why ``filename`` is not a checkpoint at all, or None.

    Tells an empty, a truncated (damaged) and a non-PyTorch file apart from
    a checkpoint the weights-only unpickler refuses for the objects it
    holds (None: that one may load with ``trusted``).

    Args:
        filename (str): the file ``torch.load`` failed on.
        err (BaseException): its error.

    Returns:
        str | None: the message, naming the file and what to do.
    """
    size = osp.getsize(filename)
    if size == 0:
        return (
            f'{filename}: the file is empty (0 bytes), not a checkpoint. '
            f'{RECOPY_HINT}'
        )
    with open(filename, 'rb') as f:
        head = f.read(16)
    kind = _checkpoint_format(head)
    text = f'{type(err).__name__}: {err}'
    if kind == 'unknown':
        return (
            f'{filename}: not a PyTorch checkpoint ({size} bytes starting '
            f'with {head[:8]!r}: neither the zip archive nor the pickle '
            'stream torch.save writes). Give the .pth file that torch.save '
            'or mmengine wrote; if it is one, its copy went wrong: copy or '
            'download it again.'
        )
    if isinstance(err, EOFError) or any(s in text for s in TRUNCATION_SIGNS):
        return (
            f'{filename}: truncated or damaged checkpoint ({size} bytes; '
            f'torch.load: {text.splitlines()[0][:200]}). {RECOPY_HINT}'
        )
    if kind == 'zip' and any(s in text for s in ZIP_ERROR_SIGNS):
        return (
            f'{filename}: a zip archive that is not a PyTorch checkpoint, '
            f'or a damaged one (torch.load: {text.splitlines()[0][:200]}). '
            f'{RECOPY_HINT}'
        )
    return None


def safe_torch_load(
    filename: str, map_location: Any = 'cpu', trusted: bool = False
) -> Any:
    """Load a local checkpoint with torch's weights-only unpickler.

    Args:
        filename (str): a local ``.pth`` file (``file://`` and ``~`` are
            accepted).
        map_location (Any): passed to :func:`torch.load`. Defaults to
            'cpu'.
        trusted (bool): when the safe load refuses the objects the file
            holds, unpickle fully (can run arbitrary code: only for files
            you trust). Defaults to False.

    Returns:
        Any: the loaded object.

    Raises:
        FileNotFoundError: the file does not exist (named).
        CheckpointLoadError: the file is empty, truncated or not a PyTorch
            checkpoint (whatever ``trusted``), or it holds objects outside
            the allowed types and ``trusted`` is False; the message names
            the file and says what to do.
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
    except Exception as err:  # the unpickler raises anything on garbage
        unreadable = describe_unreadable(filename, err)
        if unreadable is not None:
            raise CheckpointLoadError(unreadable) from err
        if REFUSAL_SIGN not in str(err):
            raise CheckpointLoadError(
                f'{filename}: torch.load failed: {type(err).__name__}: {err}'
            ) from err
        if trusted:
            return torch.load(
                filename, map_location=map_location, weights_only=False
            )
        raise CheckpointLoadError(
            f'{filename}: cannot be loaded with the safe (weights-only) '
            f'unpickler: {err}. If you trust this file, load it trusted '
            '(mmusot-convert-checkpoint --trusted), which '
            'unpickles arbitrary objects.'
        ) from err
