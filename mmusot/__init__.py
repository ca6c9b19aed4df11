# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT for MMTracking 1.x.

Importing :mod:`mmusot` registers its components (models, datasets,
transforms, hooks) into mmtrack's registries, so configs with
``default_scope='mmtrack'`` and ``custom_imports=dict(imports=['mmusot'])``
can name them directly.

The pseudo-label library :mod:`mmusot.pseudo_labels` needs only numpy and
OpenCV; it stays importable on machines without the OpenMMLab stack.
"""

__version__ = '0.1.0'

try:
    import mmtrack  # noqa: F401
except ImportError:  # conversion-only install: no registration possible
    HAS_MMTRACK = False
else:
    HAS_MMTRACK = True
    from . import datasets, engine, models  # noqa: F401,E402  (registers)
