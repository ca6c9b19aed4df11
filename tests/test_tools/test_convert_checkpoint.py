# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The checkpoint converter: layouts, folding, the CLI."""

import argparse
import importlib.util
from collections import OrderedDict

import pytest
import torch

from mmusot.cli import convert_checkpoint as convert_cli
from mmusot.utils.checkpoint_conversion import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    CheckpointError,
    convert_checkpoint,
    fold_input_normalization,
    load_checkpoint_file,
    to_official_state_dict,
)
from tests.fixtures import PARITY, require_shared
from tests.official_layout import build_zero_state_dict, read_key_list

KEY_LIST = PARITY / 'usot_official_keys.txt'


def load_tool():
    """The converter CLI module (``mmusot-convert-checkpoint``)."""
    return convert_cli


def official_state():
    """Zeros in the official layout; skips (fails in CI) without the list."""
    return build_zero_state_dict(read_key_list(str(require_shared(KEY_LIST))))


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
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
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
    assert 'checkpoint file not found' in capsys.readouterr().err

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


# --- ResNet-50 (AugNet, mmcls), MobileNetV2 layouts and input folding ---


def torchvision_resnet50():
    """A torchvision-named ResNet-50 state dict (mmdet's ResNet + fc)."""
    pytest.importorskip('mmdet')
    from mmdet.models.backbones import ResNet

    torch.manual_seed(0)
    state = OrderedDict(ResNet(depth=50).state_dict())
    state['fc.weight'] = torch.rand(1000, 2048)
    state['fc.bias'] = torch.rand(1000)
    return state


def test_augnet_and_mmcls_layouts_match_imagenet():
    resnet = torchvision_resnet50()
    reference, ref_report = convert_checkpoint(resnet, layout='imagenet')
    assert not ref_report['leftover']

    augnet = OrderedDict(('module.pre.' + k, v) for k, v in resnet.items())
    augnet['module.pre.fc.weight'] = torch.rand(768, 2048)
    augnet['module.pre.fc.bias'] = torch.rand(768)
    mmcls = OrderedDict(('backbone.' + k, v) for k, v in resnet.items())
    del mmcls['backbone.fc.weight'], mmcls['backbone.fc.bias']
    mmcls['head.fc.weight'] = resnet['fc.weight']
    mmcls['head.fc.bias'] = resnet['fc.bias']
    for layout, state in (('augnet', augnet), ('mmcls', mmcls)):
        converted, report = convert_checkpoint(
            dict(state_dict=state, meta=dict(epoch=1))
        )
        assert report['layout'] == layout
        assert not report['leftover']
        assert any('layer4.' in k for k in report['dropped'])
        assert any(k.endswith('fc.weight') for k in report['dropped'])
        assert list(converted) == list(reference)
        for key, value in reference.items():
            assert torch.equal(converted[key], value), key
    assert reference['backbone.layer2.0.downsample.0.weight'].shape[-2:] == (
        3,
        3,
    )

    # A deep-stem mmcls ResNet (V1c/V1d) stops on its stem keys.
    mmcls['backbone.stem.0.conv.weight'] = torch.rand(32, 3, 3, 3)
    _, report = convert_checkpoint(mmcls)
    assert report['layout'] == 'mmcls'
    assert report['leftover'] == ['backbone.stem.0.conv.weight']


def test_augnet_conversion_loads_into_usot():
    pytest.importorskip('mmtrack')
    from tests.test_models.test_sot.utils import build_usot

    resnet = torchvision_resnet50()
    augnet = {'module.pre.' + k: v for k, v in resnet.items()}
    converted, _ = convert_checkpoint(augnet, fold_input_norm=True)
    model = build_usot()
    result = model.load_state_dict(converted, strict=False)
    assert result.unexpected_keys == []
    assert not [k for k in result.missing_keys if k.startswith('backbone.')]


def mobilenet_v2_state():
    state = OrderedDict()
    state['features.0.0.weight'] = torch.rand(32, 3, 3, 3)
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        state[f'features.0.1.{name}'] = torch.rand(32)
    state['features.17.conv.3.bias'] = torch.rand(320)
    state['features.18.0.weight'] = torch.rand(1280, 320, 1, 1)
    state['classifier.1.weight'] = torch.rand(1000, 1280)
    state['classifier.1.bias'] = torch.rand(1000)
    return state


def test_mobilenet_v2_layout():
    state = mobilenet_v2_state()
    converted, report = convert_checkpoint(state)
    assert report['layout'] == 'mobilenet_v2'
    assert list(converted) == ['backbone.' + k for k in list(state)[:6]]
    assert report['dropped'] == [
        'features.18.0.weight',
        'classifier.1.weight',
        'classifier.1.bias',
    ]
    assert not report['leftover'] and not report['fold_input_norm']
    state['features.19.0.weight'] = torch.rand(1)
    state['extra'] = torch.rand(1)
    _, report = convert_checkpoint(state, backbone_prefix='')
    assert report['leftover'] == ['features.19.0.weight', 'extra']
    with pytest.raises(CheckpointError, match='torchvision MobileNetV2'):
        convert_checkpoint({'something.else': torch.zeros(1)})


def normalise_imagenet(bgr):
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (bgr.flip(1) / 255 - mean) / std


@pytest.mark.parametrize('train', [False, True])
def test_fold_input_normalization_is_exact(train):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=0, bias=False)
    bn = torch.nn.BatchNorm2d(8)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 2)
    bn.bias.data.uniform_(-1, 1)
    raw = torch.rand(4, 3, 21, 21) * 255
    net = torch.nn.Sequential(conv, bn).train(train)
    with torch.no_grad():
        expected = net(normalise_imagenet(raw))
        weight, mean = fold_input_normalization(conv.weight, bn.running_mean)
        conv.weight.copy_(weight)
        bn.running_mean.copy_(mean)
        bn.num_batches_tracked.zero_()
        got = net.train(train)(raw)
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)
    assert not torch.equal(weight, net[0].weight.new_zeros(weight.shape))


@pytest.mark.parametrize('family', ['mobilenet_v2', 'resnet'])
def test_folded_backbone_on_raw_bgr_equals_original_on_normalised(family):
    """Folding in the conversion is exact for the real (unpadded) stems."""
    pytest.importorskip('mmtrack')
    from mmtrack.registry import MODELS

    import mmusot.models.backbones  # noqa: F401
    from tests.test_models.test_sot.utils import usot_model_cfg

    if family == 'mobilenet_v2':
        cfg = dict(type='SOTMobileNetV2', out_indices=(4,))
    else:
        cfg = usot_model_cfg().backbone
        cfg.update(num_stages=1, strides=(1,), dilations=(1,))
        cfg['out_indices'] = (0,)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.eval()  # mmdet's ResNet.train() returns None
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
    state = OrderedDict(model.state_dict())
    if family == 'resnet':
        state['layer4.0.conv1.weight'] = torch.zeros(1)
    folded, report = convert_checkpoint(
        state, backbone_prefix='', fold_input_norm=True
    )
    assert report['fold_input_norm']
    changed = [k for k in folded if not torch.equal(folded[k], state[k])]
    assert len(changed) == 2
    raw = torch.rand(2, 3, 63, 63) * 255
    with torch.no_grad():
        expected = model(normalise_imagenet(raw))[-1]
        model.load_state_dict(folded)
        got = model(raw)[-1]
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-3)


def test_fold_refused_for_full_usot_model():
    with pytest.raises(CheckpointError, match='full USOT'):
        convert_checkpoint(
            {'connect_model.adjust': torch.ones(1)}, fold_input_norm=True
        )
    with pytest.raises(CheckpointError, match='stem kernel'):
        fold_input_normalization(torch.zeros(8, 1, 3, 3), torch.zeros(8))


def test_cli_new_layouts(tmp_path, capsys):
    tool = load_tool()
    src, dst = tmp_path / 'mnv2.pth', tmp_path / 'out.pth'
    state = mobilenet_v2_state()
    torch.save(state, src)
    assert tool.main([str(src), str(dst), '--fold-input-norm']) == 0
    assert 'folded' in capsys.readouterr().out
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert out['meta']['layout'] == 'mobilenet_v2'
    assert out['meta']['fold_input_norm'] is True
    assert not torch.equal(
        out['state_dict']['backbone.features.0.0.weight'],
        state['features.0.0.weight'],
    )
    assert torch.equal(
        out['state_dict']['backbone.features.0.1.running_var'],
        state['features.0.1.running_var'],
    )
    torch.save({'module.pre.conv1.weight': torch.ones(1)}, src)
    assert tool.main([str(src), str(dst), '--layout', 'augnet']) == 0
    out = torch.load(dst, map_location='cpu', weights_only=True)
    assert list(out['state_dict']) == ['backbone.conv1.weight']
