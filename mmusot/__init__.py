# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT for MMTracking 1.x.

Importing :mod:`mmusot` registers its components (models, datasets,
transforms, hooks) into mmtrack's registries, so configs with
``default_scope='mmtrack'`` and ``custom_imports=dict(imports=['mmusot'])``
can name them directly. It also lets mmengine resolve ``mmusot::`` config
paths (``_base_ = ['mmusot::usot/<config>.py']``; see
:mod:`mmusot.config`).

The pseudo-label library :mod:`mmusot.pseudo_labels` needs only numpy and
OpenCV; it stays importable on machines without the OpenMMLab stack.
"""

# The one place the version is written; pyproject.toml reads it from here.
__version__ = '0.1.0'

from .config import register_config_scope  # noqa: E402

register_config_scope()

try:
    import mmtrack  # noqa: F401
except ImportError:  # conversion-only install: no registration possible
    HAS_MMTRACK = False
else:
    HAS_MMTRACK = True
    from . import datasets, engine, models  # noqa: F401,E402  (registers)

__all__ = ['HAS_MMTRACK', '__version__']
