# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Test helpers: the official USOT state-dict layout and parity weights.

``usot_official_keys.txt`` (shipped with the parity fixture in
``../shared/docs/parity``) lists every key of the official USOT state dict
(official ``lib/models/``) as ``index key shape dtype`` lines. These
helpers read it and rebuild the deterministic "formula" weights the parity
fixture ``golden.npz`` was produced with, so tests can exercise the
converter and the network without an official checkpoint.
"""

import math
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Tuple

import numpy as np
import torch

_DTYPES = {'float32': torch.float32, 'int64': torch.int64}


class KeySpec(NamedTuple):
    """One line of the key list."""

    index: int
    name: str
    shape: Tuple[int, ...]
    dtype: torch.dtype


def read_key_list(path: str) -> List[KeySpec]:
    """Parse a key list of ``index key shape dtype`` lines.

    ``shape`` is ``AxBx...`` or ``scalar``; lines starting with ``#`` are
    comments.

    Args:
        path (str): the key-list file.

    Returns:
        list[KeySpec]: the keys in file order.

    Raises:
        ValueError: on a malformed line (the file and line are named).
    """
    specs = []
    with open(path, encoding='utf-8') as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split()
            if len(parts) != 4 or parts[3] not in _DTYPES:
                raise ValueError(
                    f'{path}:{lineno}: expected "index key '
                    f'shape dtype", got {line!r}'
                )
            shape = (
                ()
                if parts[2] == 'scalar'
                else tuple(int(v) for v in parts[2].split('x'))
            )
            specs.append(
                KeySpec(int(parts[0]), parts[1], shape, _DTYPES[parts[3]])
            )
    return specs


#: ``golden.npz`` and the training fixtures use sin(0.37 k + index); the
#: tracker fixture stores its own frequency (0.31).
FORMULA_FREQUENCY = 0.37


def formula_tensor(
    spec: KeySpec, frequency: float = FORMULA_FREQUENCY
) -> torch.Tensor:
    """The parity-fixture value of one key (parity/README.md).

    ``w = sin(frequency k + index)`` for k = 0..numel-1 in float64, reshaped in
    C order; first matching rule: ``num_batches_tracked`` → 0;
    ``running_var`` → 1 + 0.5|w|; ``running_mean`` → 0.1 w;
    ``connect_model.bias``/``connect_model.adjust``/``*dw.weight`` →
    1 + 0.1 w; 4-D → w / sqrt(C_in kh kw); other 1-D ``weight`` →
    1 + 0.1 w; else 0.1 w. Cast to float32.

    Args:
        spec (KeySpec): the key.
        frequency (float): the sine frequency. Defaults to 0.37.

    Returns:
        torch.Tensor: of ``spec.shape`` and ``spec.dtype``.
    """
    leaf = spec.name.rsplit('.', 1)[-1]
    if leaf == 'num_batches_tracked':
        return torch.zeros(spec.shape, dtype=torch.int64)
    numel = int(np.prod(spec.shape)) if spec.shape else 1
    w = np.sin(frequency * np.arange(numel, dtype=np.float64) + spec.index)
    w = w.reshape(spec.shape)
    if leaf == 'running_var':
        value = 1 + 0.5 * np.abs(w)
    elif leaf == 'running_mean':
        value = 0.1 * w
    elif spec.name in (
        'connect_model.bias',
        'connect_model.adjust',
    ) or spec.name.endswith('dw.weight'):
        value = 1 + 0.1 * w
    elif len(spec.shape) == 4:
        value = w / math.sqrt(spec.shape[1] * spec.shape[2] * spec.shape[3])
    elif len(spec.shape) == 1 and leaf == 'weight':
        value = 1 + 0.1 * w
    else:
        value = 0.1 * w
    return torch.from_numpy(np.ascontiguousarray(value)).to(spec.dtype)


def build_formula_state_dict(
    specs: List[KeySpec], frequency: float = FORMULA_FREQUENCY
) -> 'OrderedDict[str, torch.Tensor]':
    """Official-layout state dict with the parity-fixture weights.

    Args:
        specs (list[KeySpec]): from :func:`read_key_list`.
        frequency (float): the sine frequency. Defaults to 0.37.

    Returns:
        OrderedDict[str, torch.Tensor]: every key, in order.
    """
    return OrderedDict(
        (spec.name, formula_tensor(spec, frequency)) for spec in specs
    )


def build_zero_state_dict(specs: List[KeySpec]) -> Dict[str, torch.Tensor]:
    """Official-layout state dict of zeros (cheap layout checks).

    Args:
        specs (list[KeySpec]): from :func:`read_key_list`.

    Returns:
        dict[str, torch.Tensor]: every key with a zero tensor of its shape.
    """
    return OrderedDict(
        (spec.name, torch.zeros(spec.shape, dtype=spec.dtype))
        for spec in specs
    )
