# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The files shipped inside the package, and the ``mmusot::`` config scheme.

mmusot ships its configs the way mmtrack does, under ``mmusot/.mim/``:
``.mim/configs/usot/*.py`` and ``.mim/model-index.yml``. In a built wheel
they are copies of the repository's ``configs/``; in a checkout or an
editable install ``.mim/configs`` is a link to it. So, once :mod:`mmusot`
is imported, a config can inherit ours by package path::

    _base_ = ['mmusot::usot/usot_r50_test-otb100.py']

and ``mmengine.hub.get_config('mmusot::usot/<config>.py')`` works;
``tools/train.py`` and ``tools/test.py`` accept ``mmusot::usot/<config>.py``
(:func:`get_config_path`).

mmengine looks ``PKG::`` paths up in its ``MODULE2PACKAGE`` table and
locates the package through ``pkg_resources``. For setuptools' editable
installs (PEP 660) ``pkg_resources`` reports ``site-packages`` instead of
the source tree, so :func:`register_config_scope` maps the ``mmusot`` scope
to this module instead: it is not a distribution name, so mmengine falls
back to ``importlib``, which finds this file, and this file sits next to
``.mim`` in every kind of install.
"""

import os.path as osp

#: The folder of the installed :mod:`mmusot` package.
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
#: mmtrack-style package data: ``configs/`` and ``model-index.yml``.
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
#: The shipped configs (``<CONFIG_DIR>/usot/*.py``).
CONFIG_DIR = osp.join(MIM_DIR, 'configs')
#: The prefix of package config paths, as mmengine spells it.
SCOPE = 'mmusot'
SCOPE_PREFIX = SCOPE + '::'


def get_config_path(config: str) -> str:
    """The file of a shipped config.

    Args:
        config (str): ``'mmusot::usot/<name>.py'`` or ``'usot/<name>.py'``
            (relative to the shipped ``configs/``).

    Returns:
        str: the absolute path of the config file.

    Raises:
        FileNotFoundError: no such shipped config (the path searched and
            the folder are named).
    """
    name = config[len(SCOPE_PREFIX) :] if is_package_config(config) else config
    path = osp.join(CONFIG_DIR, name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{config}: no such config in mmusot (looked for {path}; '
            f'the shipped configs are under {CONFIG_DIR})'
        )
    return path


def is_package_config(config: str) -> bool:
    """bool: whether ``config`` is an ``mmusot::`` package path."""
    return str(config).startswith(SCOPE_PREFIX)


def register_config_scope() -> bool:
    """Let mmengine resolve ``mmusot::`` config paths.

    Adds ``'mmusot'`` to mmengine's ``MODULE2PACKAGE`` (see the module
    docstring for why it maps to this module). Idempotent; an entry someone
    else made is left alone.

    Returns:
        bool: whether the scope is registered (False without mmengine).
    """
    try:
        from mmengine.config.utils import MODULE2PACKAGE
    except ImportError:  # conversion-only install
        return False
    MODULE2PACKAGE.setdefault(SCOPE, __name__)
    return True
