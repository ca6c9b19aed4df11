# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT for MMTracking 1.x.

Importing :mod:`mmusot` registers its components (models, datasets,
transforms, hooks) into mmtrack's registries, so configs with
``default_scope='mmtrack'`` and ``custom_imports=dict(imports=['mmusot'])``
can name them directly. It also lets mmengine resolve ``mmusot::`` config
paths (``_base_ = ['mmusot::usot/<config>.py']``; see
:mod:`mmusot.config`).

The pseudo-label library :mod:`mmusot.pseudo_labels` and the deployment
runtime :mod:`mmusot.runtime` need no torch nor OpenMMLab (numpy, OpenCV
and, for the runtime, ONNX Runtime or OpenVINO); they stay importable on
machines without the OpenMMLab stack.
"""

# The one place the version is written; pyproject.toml reads it from here.
__version__ = '0.1.0'

from .config import register_config_scope  # noqa: E402

register_config_scope()


def _has_openmmlab() -> bool:
    """torch and mmtrack import (torch first: without it mmtrack, mmcv and
    mmdet are not imported at all, so a runtime-only install stays
    light)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    try:
        import mmtrack  # noqa: F401
    except ImportError:  # conversion-only install
        return False
    return True


HAS_MMTRACK = _has_openmmlab()
if HAS_MMTRACK:
    from . import datasets, engine, models  # noqa: F401,E402  (registers)

__all__ = ['HAS_MMTRACK', '__version__']
