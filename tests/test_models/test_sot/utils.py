# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Build the USOT model of ``configs/usot/_base_/usot_r50.py`` for tests."""

import copy
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'usot' / '_base_' / 'usot_r50.py'
PARITY = REPO / '..' / 'shared' / 'docs' / 'parity'


def usot_model_cfg() -> dict:
    """The ``model`` dict of the base config (mmtrack scope set up)."""
    from mmengine.config import Config
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    import mmusot  # noqa: F401  (registers USOT, USOTHead)

    return copy.deepcopy(Config.fromfile(str(CONFIG)).model)


def build_usot(head: Optional[dict] = None, **kwargs):
    """Build USOT from the base config, with overrides.

    Args:
        head (dict, optional): keys merged into the head config.
        **kwargs: keys replacing top-level model keys.
    """
    from mmtrack.registry import MODELS

    cfg = usot_model_cfg()
    if head:
        cfg.head.update(head)
    cfg.update(kwargs)
    return MODELS.build(cfg)
