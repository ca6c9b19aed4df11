# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Deprecated: the shipped configs and the ``mmusot::`` scheme moved to
:mod:`mmusot.config`, the one config resolver.

Kept for one release: every name below is :mod:`mmusot.config`'s. Import
from :mod:`mmusot.config` instead.
"""

from .config import (  # noqa: F401
    CONFIG_DIR,
    MIM_DIR,
    PACKAGE_DIR,
    SCOPE,
    SCOPE_PREFIX,
    get_config_path,
    is_package_config,
    register_config_scope,
)

__all__ = [
    'CONFIG_DIR',
    'MIM_DIR',
    'PACKAGE_DIR',
    'SCOPE',
    'SCOPE_PREFIX',
    'get_config_path',
    'is_package_config',
    'register_config_scope',
]
