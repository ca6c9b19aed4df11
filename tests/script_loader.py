# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Import a command-line script (``tools/*.py``) by its path.

Scripts import only installed packages (mmusot, the OpenMMLab stack), never
their siblings, so nothing is put on ``sys.path`` here. The console
commands' code lives in :mod:`mmusot.cli`; tests import that directly.
"""

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_script(relative_path: str) -> ModuleType:
    """Import ``REPO/relative_path`` as a fresh module.

    Args:
        relative_path (str): e.g. ``'tools/train.py'``.

    Returns:
        ModuleType: the executed module (its ``__name__`` is not
        ``'__main__'``, so the script's command does not run).
    """
    path = REPO / relative_path
    name = 'mmusot_script_' + relative_path.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
