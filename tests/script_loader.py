# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Import a command-line script (tools/, data_converters/) by its path."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_script(relative_path: str) -> ModuleType:
    """Import ``REPO/relative_path`` as a fresh module.

    The script's folder goes on ``sys.path`` first, so scripts that import
    their siblings (``data_converters/_common.py``) load as they do when run.
    """
    path = REPO / relative_path
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = 'mmusot_script_' + relative_path.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
