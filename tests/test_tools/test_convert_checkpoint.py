# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import argparse
import importlib.util
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from mmusot.utils import build_zero_state_dict, read_key_list
from mmusot.utils.checkpoint_convert import (
    CheckpointError,
    convert_checkpoint,
    load_checkpoint_file,
    to_official_state_dict,
)
from tests.script_loader import load_script

REPO = Path(__file__).resolve().parents[2]
KEY_LIST = (
    REPO / '..' / 'shared' / 'docs' / 'parity' / 'usot_official_keys.txt'
)
needs_keys = pytest.mark.skipif(
    not KEY_LIST.is_file(), reason='parity key list absent'
)


def load_tool():
    return load_script('tools/convert_usot_checkpoint.py')


def official_state():
    return build_zero_state_dict(read_key_list(str(KEY_LIST)))


def backbone_keys_with_shapes():
    """Official backbone keys (no prefix) and shapes."""
    prefix = 'features.features.'
    return OrderedDict(
        (k[len(prefix) :], v.shape)
        for k, v in official_state().items()
        if k.startswith(prefix)
    )


def synthetic_resnet(moco: bool):
    """A ResNet-50 state dict as MoCo-v2 or torchvision lays it out."""
    state = OrderedDict()
    for i, (key, shape) in enumerate(backbone_keys_with_shapes().items()):
        if key in (
            'layer2.0.downsample.0.weight',
            'layer3.0.downsample.0.weight',
        ):
            shape = (*shape[:2], 1, 1)
        state[key] = (
            torch.full(shape, float(i + 1)) if len(shape) else torch.tensor(0)
        )
    state['layer4.0.conv1.weight'] = torch.zeros(512, 1024, 1, 1)
    state['fc.weight'] = torch.zeros(1000 if not moco else 128, 2048)
    state['fc.bias'] = torch.zeros(1000 if not moco else 128)
    if not moco:
        return state
    moco_state = OrderedDict()
    for key, value in state.items():
        moco_state['module.encoder_q.' + key] = value
        moco_state['module.encoder_k.' + key] = value
    moco_state['module.queue'] = torch.zeros(128, 16)
    moco_state['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    return dict(epoch=800, arch='resnet50', state_dict=moco_state)


@needs_keys
def test_official_round_trip_every_key():
    state = official_state()
    assert len(state) == 444
    converted, report = convert_checkpoint(dict(state_dict=state))
    assert report['layout'] == 'usot' and not report['leftover']
    assert len(converted) == len(state)
    assert all(
        k.startswith(('backbone.', 'neck.convs.0.', 'head.'))
        for k in converted
    )
    assert 'head.cls_encode.matrix11_k.0.weight' in converted
    assert 'neck.convs.0.conv.weight' in converted
    assert 'neck.convs.0.bn.running_var' in converted
    back, leftover = to_official_state_dict(converted)
    assert not leftover
    assert list(back) == list(state)
    for key in state:
        assert back[key] is state[key]


@needs_keys
def test_official_state_loads_into_usot_without_missing_keys():
    pytest.importorskip('mmtrack')
    from tests.test_models.test_sot.utils import build_usot

    model = build_usot()
    converted, _ = convert_checkpoint(official_state())
    result = model.load_state_dict(converted, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    own = model.state_dict()
    for key, value in converted.items():
        assert own[key].shape == value.shape, key


@needs_keys
@pytest.mark.parametrize('moco', [True, False])
def test_backbone_conversion(moco):
    src = synthetic_resnet(moco)
    converted, report = convert_checkpoint(src, source='r50.pth')
    assert report['layout'] == ('moco' if moco else 'imagenet')
    assert not report['leftover']
    expected = backbone_keys_with_shapes()
    assert list(converted) == ['backbone.' + k for k in expected]
    for key, shape in expected.items():
        assert converted['backbone.' + key].shape == shape, key
    assert any('fc.' in k for k in report['dropped'])
    assert any('layer4.' in k for k in report['dropped'])
    if moco:
        assert any('encoder_k.' in k for k in report['dropped'])
        assert 'module.queue' not in report['leftover']
    for key in (
        'layer2.0.downsample.0.weight',
        'layer3.0.downsample.0.weight',
    ):
        kernel = converted['backbone.' + key]
        centre = kernel[:, :, 1, 1]
        assert torch.all(centre == centre.flatten()[0]) and centre.abs().sum()
        kernel = kernel.clone()
        kernel[:, :, 1, 1] = 0
        assert kernel.abs().sum() == 0
    if importlib.util.find_spec('mmtrack') is None:
        return
    from tests.test_models.test_sot.utils import build_usot

    model = build_usot()
    result = model.load_state_dict(converted, strict=False)
    assert result.unexpected_keys == []
    assert not [k for k in result.missing_keys if k.startswith('backbone.')]


def test_unknown_and_converted_layouts():
    with pytest.raises(CheckpointError, match='unknown checkpoint layout'):
        convert_checkpoint({'foo.weight': torch.zeros(1)})
    with pytest.raises(CheckpointError, match='already in the mmusot'):
        convert_checkpoint({'backbone.conv1.weight': torch.zeros(1)})
    with pytest.raises(CheckpointError, match='no state dict'):
        convert_checkpoint({'epoch': 3})


def test_model_wrapper_and_module_prefix():
    state = {'module.connect_model.adjust': torch.ones(1)}
    converted, _ = convert_checkpoint({'model': state})
    assert list(converted) == ['head.adjust']


def test_safe_load_and_trusted_fallback(tmp_path):
    path = tmp_path / 'odd.pth'
    torch.save(
        {
            'state_dict': {'connect_model.adjust': torch.ones(1)},
            'args': argparse.Namespace(lr=1),
        },
        path,
    )
    with pytest.raises(CheckpointError, match='weights_only'):
        load_checkpoint_file(str(path))
    obj = load_checkpoint_file(str(path), trusted=True)
    assert obj['args'].lr == 1
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_cli(tmp_path, capsys):
    tool = load_tool()
    src = tmp_path / 'usot.pth'
    dst = tmp_path / 'out.pth'
    torch.save(
        {
            'state_dict': {
                'connect_model.adjust': torch.ones(1),
                'neck.downsample.1.bias': torch.zeros(2),
            }
        },
        src,
    )
    assert tool.main([str(src), str(dst)]) == 0
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(out['state_dict']) == {'head.adjust', 'neck.convs.0.bn.bias'}
    assert out['meta']['layout'] == 'usot'

    assert tool.main([str(tmp_path / 'nope.pth'), str(dst)]) == 1
    assert 'checkpoint not found' in capsys.readouterr().err

    torch.save(
        {
            'state_dict': {
                'connect_model.adjust': torch.ones(1),
                'extra.thing': torch.ones(1),
            }
        },
        src,
    )
    assert tool.main([str(src), str(dst)]) == 1
    assert 'extra.thing' in capsys.readouterr().err
    assert tool.main([str(src), str(dst), '--allow-leftover']) == 0
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert list(out['state_dict']) == ['head.adjust']

    torch.save({'foo': torch.ones(1)}, src)
    assert tool.main([str(src), str(dst)]) == 1
    assert 'unknown checkpoint layout' in capsys.readouterr().err
