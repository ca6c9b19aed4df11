# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Config names and config reading: the one place for both.

A config is named in one of three ways, everywhere (``tools/train.py``,
``tools/test.py``, :func:`mmusot.apis.build_tracker`, the commands):

* a file path (``~`` expanded);
* ``mmusot::usot/<name>.py``: a config shipped with mmusot;
* ``package::relative/path.py``: a config shipped in another installed
  OpenMMLab wheel under ``<package>/.mim/configs/``, e.g.
  ``mmtrack::sot/siamese_rpn/<name>.py``.

:func:`resolve_config_path` turns a name into a file,
:func:`load_config` reads it as the train/test tools do (mmtrack and
mmusot registered, overrides merged, a work dir set) and
:func:`load_tracker_config` as the inference API does (a loaded
``Config`` accepted too; a ``model`` required).

mmusot ships its configs the way mmtrack does, under ``mmusot/.mim/``:
``.mim/configs/usot/*.py`` and ``.mim/model-index.yml``. In a built wheel
they are copies of the repository's ``configs/``; in a checkout or an
editable install ``.mim/configs`` is a link to it. So, once :mod:`mmusot`
is imported, a config can inherit ours by package path::

    _base_ = ['mmusot::usot/usot_r50_test-otb100.py']

and ``mmengine.hub.get_config('mmusot::usot/<config>.py')`` works.

mmengine looks ``PKG::`` paths up in its ``MODULE2PACKAGE`` table and
locates the package through ``pkg_resources``. For setuptools' editable
installs (PEP 660) ``pkg_resources`` reports ``site-packages`` instead of
the source tree, so :func:`register_config_scope` maps the ``mmusot`` scope
to this module instead: it is not a distribution name, so mmengine falls
back to ``importlib``, which finds this file, and this file sits next to
``.mim`` in every kind of install.

This module imports neither mmengine nor torch until a config is read.
"""

import importlib.util
import os.path as osp
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    from mmengine.config import Config

#: The folder of the installed :mod:`mmusot` package.
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
#: mmtrack-style package data: ``configs/`` and ``model-index.yml``.
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
#: The shipped configs (``<CONFIG_DIR>/usot/*.py``).
CONFIG_DIR = osp.join(MIM_DIR, 'configs')
#: ``package::relative/path.py`` config names (mmengine's cross-package
#: syntax): resolved to ``<package>/.mim/configs/relative/path.py``.
PACKAGE_SEPARATOR = '::'
#: mmusot's own scope, and the prefix of its package config paths.
SCOPE = 'mmusot'
SCOPE_PREFIX = SCOPE + PACKAGE_SEPARATOR


def is_package_config(config: str) -> bool:
    """bool: whether ``config`` is an ``mmusot::`` package path."""
    return str(config).startswith(SCOPE_PREFIX)


def get_config_path(config: str) -> str:
    """The file of a config shipped with mmusot.

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


def resolve_config_path(config: str) -> str:
    """The file behind a config name.

    Args:
        config (str): a file path, ``mmusot::usot/<name>.py``, or
            ``package::relative/path.py`` for a config shipped in another
            installed OpenMMLab wheel, e.g.
            ``'mmtrack::sot/siamese_rpn/siamese-rpn_r50_8xb28-20e_'
            'imagenetvid-imagenetdet-coco_test-otb100.py'``.

    Returns:
        str: the config file path.

    Raises:
        FileNotFoundError: the file, or the package, does not exist.
    """
    if is_package_config(config):
        return get_config_path(config)
    if PACKAGE_SEPARATOR not in config:
        path = osp.expanduser(config)
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file not found: {config}')
        return path
    package, relative = config.split(PACKAGE_SEPARATOR, 1)
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f'config {config!r}: package {package!r} is not installed'
        )
    path = osp.join(osp.dirname(spec.origin), '.mim', 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config {config!r}: {relative!r} is not among the configs '
            f'shipped by {package} ({osp.dirname(path)})'
        )
    return path


def _register_components() -> None:
    """Register mmtrack's and mmusot's modules (no default scope set)."""
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=False)


def load_config(
    config: str,
    cfg_options: Optional[dict] = None,
    launcher: str = 'none',
    work_dir: Optional[str] = None,
) -> 'Config':
    """Register mmtrack + mmusot, read a config and apply the overrides.

    This is how ``tools/train.py`` and ``tools/test.py`` read their
    config.

    Args:
        config (str): a config name (see :func:`resolve_config_path`).
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): job launcher. Defaults to 'none'.
        work_dir (str, optional): overrides ``cfg.work_dir``; by default
            it is ``work_dirs/<config name>``.

    Returns:
        Config: the merged config.

    Raises:
        FileNotFoundError: the config file does not exist.
    """
    from mmengine.config import Config

    config = resolve_config_path(config)
    _register_components()
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(config))[0]
        )
    return cfg


def load_tracker_config(
    config: Union[str, 'Config'], cfg_options: Optional[dict] = None
) -> 'Config':
    """Read a tracker config as ``tools/test.py`` does.

    Args:
        config (str | Config): a config name (see
            :func:`resolve_config_path`) or a loaded ``Config`` (copied,
            not modified).
        cfg_options (dict, optional): overrides in ``--cfg-options`` form,
            e.g. ``{'model.backbone.init_cfg': None}``. Defaults to None.

    Returns:
        Config: the merged config, with ``model`` set.

    Raises:
        FileNotFoundError: the config file does not exist.
        TypeError: ``config`` is neither a path nor a ``Config``.
        KeyError: the config has no ``model``.
    """
    from mmengine.config import Config

    if isinstance(config, Config):
        _register_components()
        cfg = config.copy()
        if cfg_options is not None:
            cfg.merge_from_dict(cfg_options)
        name = cfg.filename or '<Config>'
    elif isinstance(config, str):
        name = config
        cfg = load_config(config, cfg_options)
    else:
        raise TypeError(
            'config must be a file path or an mmengine Config, got '
            f'{type(config).__name__}'
        )
    if 'model' not in cfg:
        raise KeyError(f'config {name} has no `model` to build')
    return cfg


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
