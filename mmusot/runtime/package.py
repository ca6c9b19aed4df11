# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The exported tracker folder: its ONNX files and ``deploy.json``.

``mmusot-export`` writes, and :class:`DeployPackage` reads, a folder with

* ``backbone.onnx``: ``image`` (N, 3, H, W) BGR 0-255 float32 →
  ``features`` (N, C, F, F): the backbone and neck, for the 127 template
  and the 255 / 271 search crops alike (dynamic N, H, W);
* ``kernel.onnx``: ``features`` (N, C, F, F) and ``cells`` (N, 4), a box
  in feature cells → ``cls_kernel`` and ``reg_kernel`` (N, C, K): the
  precise-RoI-pooled 7×7 kernel encoded by the cls and reg kernel
  encoders, the three dilation branches flattened and concatenated (K =
  25 + 15 + 15). The template kernel (both) and every memory entry (cls);
* ``head.onnx``: ``features`` (N, C, F, F), ``cls_kernel`` and
  ``reg_kernel`` (N, C, K), ``memory`` (N, M, C, K) and ``memory_counts``
  (N, M) → ``cls_logits`` (N, 1, S, S), ``reg`` (N, 4, S, S) and
  ``memory_logits`` (N, 1, S, S) (dynamic N, M, F);
* ``deploy.json``: the format and its version, the file names, the test
  settings (:class:`~mmusot.tracking.USOTTestConfig`) and the geometry
  (stride, cell offsets, pooling size, feature size per crop size).

Only numpy and the standard library here: the runtime loads without torch.
"""

import dataclasses
import json
import os.path as osp
from typing import Dict, Tuple

from ..tracking import USOTTestConfig

#: ``deploy.json``'s ``format``.
FORMAT = 'mmusot-usot-onnx'
#: Bumped when the files' inputs, outputs or ``deploy.json`` change.
FORMAT_VERSION = 1
#: The ONNX files, by role.
GRAPH_FILES = {
    'backbone': 'backbone.onnx',
    'kernel': 'kernel.onnx',
    'head': 'head.onnx',
}
#: The graphs' outputs, by role, in order.
GRAPH_OUTPUTS = {
    'backbone': ('features',),
    'kernel': ('cls_kernel', 'reg_kernel'),
    'head': ('cls_logits', 'reg', 'memory_logits'),
}
DEPLOY_JSON = 'deploy.json'
#: ``geometry`` keys ``deploy.json`` must hold.
GEOMETRY_KEYS = (
    'stride',
    'feature_offset',
    'search_axis_offset',
    'response_offset',
    'pool_size',
    'channels',
    'kernel_shapes',
    'feature_sizes',
)


class DeployError(ValueError):
    """An exported tracker folder that cannot be used (names the file)."""


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Where the network's cells sit in the crops' pixels.

    Args:
        stride (int): input pixels per feature cell (8).
        feature_offset (float): input pixel of feature cell 0 (7).
        search_axis_offset (float): pixel of search-feature cell 0 for
            memory pooling boxes (the head's ``search_pool_axis``).
        response_offset (float): input pixel of response cell 0.
        pool_size (int): precise RoI pooling bins (7).
        channels (int): feature channels.
        kernel_shapes (tuple): (h, w) of the three encoded kernel branches.
        feature_sizes (dict[int, int]): feature cells per axis, by crop side
            (127, 255, 271).
    """

    stride: int
    feature_offset: float
    search_axis_offset: float
    response_offset: float
    pool_size: int
    channels: int
    kernel_shapes: Tuple[Tuple[int, int], ...]
    feature_sizes: Dict[int, int]

    @property
    def kernel_length(self) -> int:
        """int: K, the flattened length of an encoded kernel."""
        return sum(h * w for h, w in self.kernel_shapes)

    def response_size(self, crop_side: int) -> int:
        """Response cells per axis of a search crop of ``crop_side``."""
        return self.feature_sizes[crop_side] - self.pool_size + 1

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data['kernel_shapes'] = [list(s) for s in self.kernel_shapes]
        data['feature_sizes'] = {
            str(k): v for k, v in self.feature_sizes.items()
        }
        return data

    @classmethod
    def from_json(cls, data: dict) -> 'Geometry':
        return cls(
            stride=int(data['stride']),
            feature_offset=float(data['feature_offset']),
            search_axis_offset=float(data['search_axis_offset']),
            response_offset=float(data['response_offset']),
            pool_size=int(data['pool_size']),
            channels=int(data['channels']),
            kernel_shapes=tuple(
                (int(h), int(w)) for h, w in data['kernel_shapes']
            ),
            feature_sizes={
                int(k): int(v) for k, v in data['feature_sizes'].items()
            },
        )


@dataclasses.dataclass(frozen=True)
class DeployPackage:
    """An exported tracker folder, checked.

    Args:
        folder (str): the folder.
        test_cfg (USOTTestConfig): the inference settings.
        geometry (Geometry): the network's geometry.
        model (str): a description of the exported model.
        files (dict[str, str]): absolute paths of the ONNX files by role.
    """

    folder: str
    test_cfg: USOTTestConfig
    geometry: Geometry
    model: str
    files: Dict[str, str]

    @classmethod
    def load(cls, folder: str) -> 'DeployPackage':
        """Read and check ``folder/deploy.json`` and its files.

        Raises:
            DeployError: the folder, ``deploy.json`` or an ONNX file is
                missing; ``deploy.json`` is not JSON, is of another format
                or version, or lacks a key; the settings are invalid.
        """
        if not osp.isdir(folder):
            raise DeployError(f'{folder}: no such exported tracker folder')
        path = osp.join(folder, DEPLOY_JSON)
        if not osp.isfile(path):
            raise DeployError(
                f'{path}: missing; export a tracker with mmusot-export '
                'CONFIG CHECKPOINT OUT_DIR'
            )
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (OSError, ValueError) as err:
            raise DeployError(f'{path}: not readable JSON ({err})') from None
        if not isinstance(data, dict) or data.get('format') != FORMAT:
            raise DeployError(
                f'{path}: not an mmusot export (format '
                f'{data.get("format") if isinstance(data, dict) else None!r}'
                f', expected {FORMAT!r})'
            )
        if data.get('format_version') != FORMAT_VERSION:
            raise DeployError(
                f'{path}: format version {data.get("format_version")!r}, '
                f'this mmusot reads version {FORMAT_VERSION}; export the '
                'tracker again with this mmusot'
            )
        try:
            geometry = Geometry.from_json(data['geometry'])
            test_cfg = USOTTestConfig.from_cfg(data['test_cfg'])
            names = data['files']
            files = {
                role: osp.join(folder, names[role]) for role in GRAPH_FILES
            }
        except (KeyError, TypeError, ValueError) as err:
            raise DeployError(
                f'{path}: malformed ({type(err).__name__}: {err})'
            ) from None
        for role, file in files.items():
            if not osp.isfile(file):
                raise DeployError(
                    f'{file}: missing ({role} graph named in {path})'
                )
        for side in {test_cfg.instance_size, test_cfg.big_instance_size}:
            if side not in geometry.feature_sizes:
                raise DeployError(
                    f'{path}: no feature size for the {side}-pixel search '
                    'crop the settings use'
                )
        return cls(
            folder=folder,
            test_cfg=test_cfg,
            geometry=geometry,
            model=str(data.get('model', '')),
            files=files,
        )


def write_deploy_json(
    folder: str, test_cfg: USOTTestConfig, geometry: Geometry, model: str
) -> str:
    """Write ``folder/deploy.json``; returns its path."""
    path = osp.join(folder, DEPLOY_JSON)
    data = dict(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        model=model,
        files=dict(GRAPH_FILES),
        test_cfg=dataclasses.asdict(test_cfg),
        geometry=geometry.to_json(),
    )
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2)
        f.write('\n')
    return path
