# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import inspect
import subprocess
import sys

import pytest


def exported_classes(module):
    return [
        (name, getattr(module, name))
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
    ]


@pytest.mark.parametrize(
    'package,registry',
    [
        ('models', 'MODELS'),
        ('datasets', 'DATASETS'),
        ('datasets.transforms', 'TRANSFORMS'),
        ('engine.hooks', 'HOOKS'),
    ],
)
def test_import_registers_components_in_mmtrack(package, registry):
    import importlib

    import mmtrack.registry

    module = importlib.import_module(f'mmusot.{package}')
    reg = getattr(mmtrack.registry, registry)
    for name, cls in exported_classes(module):
        if issubclass(cls, Exception):
            continue
        assert reg.get(name) is cls, f'{name} is not in mmtrack {registry}'


def test_plain_import_in_a_fresh_interpreter():
    code = (
        'import mmusot; from mmtrack.registry import MODELS; '
        'assert mmusot.HAS_MMTRACK; '
        'assert MODELS.get("PrRoIPool2d") is not None'
    )
    subprocess.run([sys.executable, '-c', code], check=True)
