# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from collections import OrderedDict

import pytest
import torch
from torch import nn

pytest.importorskip('mmtrack')

from mmusot.models.backbones import SOTMobileNetV2  # noqa: E402
from mmusot.utils.checkpoint_conversion import (  # noqa: E402
    convert_checkpoint,
    save_mmengine_checkpoint,
)

# Channels of features.0 ... features.17 (torchvision's MobileNetV2).
CHANNELS = [32, 16, 24, 24, 32, 32, 32] + [64] * 4 + [96] * 3 + [160] * 3
CHANNELS += [320]


def torchvision_like_state(model: SOTMobileNetV2, seed: int = 0):
    """A torchvision ``mobilenet_v2`` state dict with the right shapes."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            value = torch.rand(value.shape, generator=gen) + 0.5
        state[key] = value.clone()
    state['features.18.0.weight'] = torch.rand(1280, 320, 1, 1)
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        state[f'features.18.1.{name}'] = torch.rand(1280)
    state['features.18.1.num_batches_tracked'] = torch.tensor(0)
    state['classifier.1.weight'] = torch.rand(1000, 1280)
    state['classifier.1.bias'] = torch.rand(1000)
    return state


@pytest.mark.parametrize('size,cells', [(127, 15), (255, 31), (271, 33)])
def test_output_shapes(size, cells):
    model = SOTMobileNetV2().eval()
    with torch.no_grad():
        (out,) = model(torch.rand(1, 3, size, size) * 255)
    assert out.shape == (1, 320, cells, cells)
    assert model.out_channels == (320,)


def test_out_indices_channels_and_built_blocks():
    model = SOTMobileNetV2(out_indices=(1, 3, 6, 13, 16)).eval()
    assert len(model.features) == 17
    assert model.out_channels == (16, 24, 32, 96, 160)
    with torch.no_grad():
        outs = model(torch.zeros(2, 3, 127, 127))
    assert [tuple(o.shape[1:]) for o in outs] == [
        (16, 63, 63),
        (24, 31, 31),
        (32, 15, 15),
        (96, 15, 15),
        (160, 15, 15),
    ]
    full = SOTMobileNetV2(out_indices=tuple(range(18)))
    assert full.out_channels == tuple(CHANNELS)
    assert not any(k.startswith('features.18') for k in full.state_dict())
    assert not any('classifier' in k for k in full.state_dict())


def test_dilations_and_stride2_padding():
    model = SOTMobileNetV2()
    depthwise = {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
    }
    stride2 = sorted(n for n, m in depthwise.items() if m.stride == (2, 2))
    assert stride2 == [
        'features.0.0',
        'features.2.conv.1.0',
        'features.4.conv.1.0',
    ]
    assert all(depthwise[n].padding == (0, 0) for n in stride2)
    dilation = {
        int(n.split('.')[1]): m.dilation[0]
        for n, m in depthwise.items()
        if n != 'features.0.0'
    }
    # The stage whose stride became 1 starts with the previous dilation.
    assert [dilation[i] for i in range(1, 18)] == ([1] * 7 + [2] * 7 + [4] * 3)
    for m in depthwise.values():
        if m.stride == (1, 1):
            assert m.padding == m.dilation


def _support_centres(model, size, cells):
    """Centre of the input support of each given output cell (eval)."""
    model.eval()
    x = torch.ones(len(cells), 3, size, size, requires_grad=True)
    (out,) = model(x)
    total = sum(out[i, :, m, m].sum() for i, m in enumerate(cells))
    (grad,) = torch.autograd.grad(total, x)
    centres = []
    for i in range(len(cells)):
        rows = grad[i].abs().sum(dim=(0, 2)).nonzero().flatten()
        cols = grad[i].abs().sum(dim=(0, 1)).nonzero().flatten()
        assert rows[0] > 0 and rows[-1] < size - 1, 'support is clipped'
        centres.append(
            ((rows[0] + rows[-1]).item() / 2, (cols[0] + cols[-1]).item() / 2)
        )
    return centres


def test_geometry_probe_first_stride8_block():
    """Cell m of a stride-8 map is centred on input pixel 8m + 7."""
    torch.manual_seed(0)
    model = SOTMobileNetV2(out_indices=(4,), act_cfg=None)
    cells = list(range(2, 13))
    centres = _support_centres(model, 127, cells)
    assert centres == [(8.0 * m + 7, 8.0 * m + 7) for m in cells]


def test_geometry_probe_full_network():
    """Same through all 18 blocks (receptive field 491 px: big input)."""
    torch.manual_seed(0)
    model = SOTMobileNetV2(act_cfg=None)
    size = 8 * 60 + 15  # 61 cells, 495 px
    cells = [30]
    centres = _support_centres(model, size, cells)
    assert centres == [(8.0 * m + 7, 8.0 * m + 7) for m in cells]


def test_torchvision_state_dict_loads(tmp_path):
    model = SOTMobileNetV2()
    keys = list(model.state_dict())
    assert len(keys) == 306
    for key, shape in (
        ('features.0.0.weight', (32, 3, 3, 3)),
        ('features.1.conv.0.0.weight', (32, 1, 3, 3)),
        ('features.1.conv.1.weight', (16, 32, 1, 1)),
        ('features.1.conv.2.running_var', (16,)),
        ('features.2.conv.0.0.weight', (96, 16, 1, 1)),
        ('features.2.conv.1.0.weight', (96, 1, 3, 3)),
        ('features.2.conv.3.bias', (24,)),
        ('features.17.conv.2.weight', (320, 960, 1, 1)),
    ):
        assert tuple(model.state_dict()[key].shape) == shape, key
    # Registration order is execution order.
    assert keys.index('features.2.conv.0.0.weight') < keys.index(
        'features.2.conv.1.0.weight'
    )
    tv_state = torchvision_like_state(model)

    # torchvision's own file: no prefix needed.
    raw = tmp_path / 'mobilenet_v2.pth'
    torch.save(tv_state, raw)
    direct = SOTMobileNetV2(
        init_cfg=dict(type='Pretrained', checkpoint=str(raw))
    )
    direct.init_weights()
    for key, value in direct.state_dict().items():
        assert torch.equal(value, tv_state[key]), key

    # Converted backbone-only file, loaded with prefix='backbone.'.
    converted, report = convert_checkpoint(tv_state)
    assert report['layout'] == 'mobilenet_v2' and not report['leftover']
    assert len(report['dropped']) == 8
    ckpt = tmp_path / 'converted.pth'
    save_mmengine_checkpoint(converted, str(ckpt))
    loaded = SOTMobileNetV2(
        init_cfg=dict(
            type='Pretrained', checkpoint=str(ckpt), prefix='backbone.'
        )
    )
    loaded.init_weights()
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, tv_state[key]), key


def test_frozen_stages_and_norm_eval():
    model = SOTMobileNetV2(frozen_stages=3)
    model.train()
    for i, block in enumerate(model.features):
        frozen = i <= 3
        assert all(p.requires_grad != frozen for p in block.parameters())
        bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        assert all(bn.training != frozen for bn in bns)
    model = SOTMobileNetV2(norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(bn.training for bn in bns)
    assert all(p.requires_grad for p in model.parameters())
    assert model.features[5].training


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(out_indices=(18,)),
        dict(out_indices=(5, 3)),
        dict(out_indices=()),
        dict(frozen_stages=6, out_indices=(4,)),
        dict(strides=(1, 2)),
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        SOTMobileNetV2(**kwargs)


def test_in_usot():
    from mmtrack.registry import MODELS

    from tests.test_models.test_sot.utils import usot_model_cfg

    cfg = usot_model_cfg()
    cfg['backbone'] = dict(type='SOTMobileNetV2')
    cfg['neck'] = dict(
        type='mmdet.ChannelMapper',
        in_channels=[320],
        out_channels=256,
        kernel_size=1,
        norm_cfg=dict(type='BN'),
        act_cfg=None,
    )
    model = MODELS.build(cfg).eval()
    with torch.no_grad():
        template = model.forward_template(torch.rand(1, 3, 127, 127) * 255)
        search = model.forward_search(torch.rand(1, 3, 255, 255) * 255)
    assert template.shape == (1, 256, 15, 15)
    assert search.shape == (1, 256, 31, 31)
