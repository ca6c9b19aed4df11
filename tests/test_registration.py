# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import inspect
import subprocess
import sys

import pytest

# Exported library classes that configs do not build (no registry): the
# pseudo-label dataset's loading and sampling parts.
NOT_COMPONENTS = {'PseudoLabelLoader', 'PseudoLabelSampler', 'SamplingState'}


def exported_classes(module):
    return [
        (name, getattr(module, name))
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
    ]


@pytest.mark.parametrize(
    'package,registries',
    [
        ('models', ['MODELS']),
        ('datasets', ['DATASETS', 'DATA_SAMPLERS']),
        ('datasets.samplers', ['DATA_SAMPLERS']),
        ('datasets.transforms', ['TRANSFORMS']),
        ('engine.hooks', ['HOOKS']),
        (
            'engine.optimizers',
            ['OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS'],
        ),
        ('engine.schedulers', ['PARAM_SCHEDULERS']),
    ],
)
def test_import_registers_components_in_mmtrack(package, registries):
    import importlib

    import mmtrack.registry

    module = importlib.import_module(f'mmusot.{package}')
    regs = [getattr(mmtrack.registry, name) for name in registries]
    classes = exported_classes(module)
    assert classes, f'mmusot.{package} exports no class'
    for name, cls in classes:
        if issubclass(cls, Exception) or name.endswith('Mixin'):
            continue
        if name in NOT_COMPONENTS:
            continue
        assert any(reg.get(name) is cls for reg in regs), (
            f'{name} is not in mmtrack {registries}'
        )


def test_plain_import_in_a_fresh_interpreter():
    code = (
        'import mmusot; from mmtrack.registry import MODELS; '
        'assert mmusot.HAS_MMTRACK; '
        'assert MODELS.get("PrRoIPool2d") is not None'
    )
    subprocess.run([sys.executable, '-c', code], check=True)


def test_safe_local_loader_names_its_backend(tmp_path):
    """mmengine logs ``Loads checkpoint by <loader name[10:]> backend``."""
    import torch
    from mmengine.runner.checkpoint import CheckpointLoader

    from mmusot.engine import use_safe_local_loading

    use_safe_local_loading()
    path = str(tmp_path / 'w.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}}, path)
    loader = CheckpointLoader._get_checkpoint_loader(path)
    assert loader.__name__ == 'load_from_safe_local'
    assert loader.__name__[len('load_from_') :] == 'safe_local'
    loaded = CheckpointLoader.load_checkpoint(path)
    assert loaded['state_dict']['w'].item() == 1
