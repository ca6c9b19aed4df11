# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The ``mmusot`` registry scope: a child of every mmtrack registry.

mmusot registers its components in mmtrack's registries, so configs with
``default_scope='mmtrack'`` name them directly. When a config inherits an
``mmusot::`` base, mmengine builds that base's objects in the ``mmusot``
scope: it imports ``mmusot.registry`` and looks for an ``mmusot`` child in
each registry tree. The children below hold nothing of their own; a lookup
falls through to mmtrack's registry and on to mmengine's root, exactly as
in the ``mmtrack`` scope. Each child imports :mod:`mmusot` (which registers
everything) before its first lookup.
"""

from mmengine.registry import Registry
from mmtrack import registry as mmtrack_registry

SCOPE = 'mmusot'
_LOCATIONS = ['mmusot']


def _child(parent: Registry) -> Registry:
    """An empty ``mmusot`` registry under one of mmtrack's."""
    return Registry(
        parent.name, parent=parent, scope=SCOPE, locations=_LOCATIONS
    )


RUNNERS = _child(mmtrack_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmtrack_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmtrack_registry.LOOPS)
HOOKS = _child(mmtrack_registry.HOOKS)
DATASETS = _child(mmtrack_registry.DATASETS)
DATA_SAMPLERS = _child(mmtrack_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmtrack_registry.TRANSFORMS)
MODELS = _child(mmtrack_registry.MODELS)
MODEL_WRAPPERS = _child(mmtrack_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmtrack_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmtrack_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmtrack_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    mmtrack_registry.OPTIM_WRAPPER_CONSTRUCTORS
)
PARAM_SCHEDULERS = _child(mmtrack_registry.PARAM_SCHEDULERS)
METRICS = _child(mmtrack_registry.METRICS)
TASK_UTILS = _child(mmtrack_registry.TASK_UTILS)
VISUALIZERS = _child(mmtrack_registry.VISUALIZERS)
VISBACKENDS = _child(mmtrack_registry.VISBACKENDS)
LOG_PROCESSORS = _child(mmtrack_registry.LOG_PROCESSORS)

__all__ = [
    'DATASETS',
    'DATA_SAMPLERS',
    'HOOKS',
    'LOG_PROCESSORS',
    'LOOPS',
    'METRICS',
    'MODELS',
    'MODEL_WRAPPERS',
    'OPTIMIZERS',
    'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS',
    'RUNNERS',
    'RUNNER_CONSTRUCTORS',
    'SCOPE',
    'TASK_UTILS',
    'TRANSFORMS',
    'VISBACKENDS',
    'VISUALIZERS',
    'WEIGHT_INITIALIZERS',
]
