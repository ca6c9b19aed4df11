# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""``mmusot-export``: the command, its output folder and its errors."""

import json

import pytest

pytest.importorskip('mmtrack')
pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

from mmusot.cli.export import main  # noqa: E402
from mmusot.runtime import DeployPackage  # noqa: E402
from tests.test_apis.tiny_models import (  # noqa: E402
    SIAMRPN_CONFIG,
    save_init_checkpoint,
    write_tiny_usot_config,
)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('export_cli')
    config = write_tiny_usot_config(tmp / 'tiny.py')
    return config, save_init_checkpoint(config, tmp / 'tiny.pth')


def test_export_writes_a_runtime_folder(tiny, tmp_path, capsys):
    config, checkpoint = tiny
    out = tmp_path / 'onnx'
    args = [config, checkpoint, str(out)]
    args += ['--cfg-options', 'model.test_cfg.crop_mode=official']
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert 'verify memory_logits: max relative difference' in printed
    package = DeployPackage.load(str(out))
    assert package.test_cfg.crop_mode == 'official'
    data = json.loads((out / 'deploy.json').read_text())
    assert 'tiny.pth' in data['model']
    assert sorted(p.name for p in out.iterdir()) == [
        'backbone.onnx',
        'deploy.json',
        'head.onnx',
        'kernel.onnx',
    ]


def test_missing_checkpoint_is_one_line(tiny, tmp_path, capsys):
    config, _ = tiny
    assert main([config, str(tmp_path / 'none.pth'), str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: checkpoint file not found')
    assert 'none.pth' in err and '\n' not in err


def test_non_usot_config_is_refused(tmp_path, capsys):
    checkpoint = save_init_checkpoint(
        SIAMRPN_CONFIG,
        tmp_path / 'siamrpn.pth',
        cfg_options={'model.backbone.init_cfg': None},
    )
    assert main([SIAMRPN_CONFIG, checkpoint, str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err
    assert 'not a USOT model' in err and 'siamese-rpn' in err
