# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from typing import Optional

from mmengine.config import Config


def load_config(config: str,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                work_dir: Optional[str] = None) -> Config:
    """Register mmtrack + mmusot, read a config and apply the overrides.

    Args:
        config (str): the config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): job launcher. Defaults to 'none'.
        work_dir (str, optional): overrides ``cfg.work_dir``; by default
            it is ``work_dirs/<config name>``.

    Returns:
        Config: the merged config.

    Raises:
        FileNotFoundError: the config file does not exist.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    from mmtrack.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg
