# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT model: shapes, training losses of both stages, switches."""

import pytest
import torch

pytest.importorskip('mmtrack')

from mmengine.structures import InstanceData  # noqa: E402
from mmtrack.structures import TrackDataSample  # noqa: E402

from .utils import build_usot  # noqa: E402


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_usot()


def make_samples(batch, shift=True):
    samples = []
    for i in range(batch):
        sample = TrackDataSample()
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[32.0 + i, 30.0, 95.0, 97.0 - i]]),
            labels=torch.ones(1, dtype=torch.long),
        )
        sample.search_gt_instances = InstanceData(
            bboxes=torch.tensor([[90.0 + 8 * i, 100.0, 170.0, 150.0]]),
            labels=torch.ones(1, dtype=torch.long),
        )
        if shift:
            sample.set_metainfo(dict(search_shift=[-4.0 * i, 3.0]))
        samples.append(sample)
    return samples


def test_parameter_count(model):
    total = sum(p.numel() for p in model.parameters())
    backbone = sum(p.numel() for p in model.backbone.parameters())
    neck = sum(p.numel() for p in model.neck.parameters())
    head = sum(p.numel() for p in model.head.parameters())
    assert round(total / 1e6, 2) == 29.41
    assert round(backbone / 1e6, 2) == 13.79
    assert round(neck / 1e6, 2) == 0.26
    assert round(head / 1e6, 2) == 15.37


@pytest.mark.parametrize(
    'search_size,feat,resp', [(255, 31, 25), (271, 33, 27)]
)
def test_shapes_end_to_end(model, search_size, feat, resp):
    model.eval()
    with torch.no_grad():
        z_feat = model.forward_template(torch.rand(1, 3, 127, 127) * 255)
        x_feat = model.forward_search(
            torch.rand(1, 3, search_size, search_size) * 255
        )
        assert z_feat.shape == (1, 256, 15, 15)
        assert x_feat.shape == (1, 256, feat, feat)
        z_kernel = model.head.pool(
            z_feat,
            model.head.template_box_to_cells(
                torch.tensor([[32.0, 32.0, 95.0, 95.0]])
            ),
        )
        assert z_kernel.shape == (1, 256, 7, 7)
        enc = model.head.encode_search(x_feat)
        cls, reg = model.head.forward_offline(enc, z_kernel)
        mem = model.head.forward_memory(
            enc, z_kernel.expand(7, -1, -1, -1)[None]
        )
    assert cls.shape == (1, 1, resp, resp)
    assert reg.shape == (1, 4, resp, resp)
    assert mem.shape == (1, 1, resp, resp)


def test_tensor_mode(model):
    model.eval()
    inputs = dict(
        img=torch.rand(1, 1, 3, 127, 127) * 255,
        search_img=torch.rand(1, 1, 3, 255, 255) * 255,
    )
    with torch.no_grad():
        cls, reg = model(inputs, make_samples(1), mode='tensor')
        cls2, _ = model(inputs, None, mode='tensor')
    assert cls.shape == (1, 1, 25, 25) and reg.shape == (1, 4, 25, 25)
    assert cls2.shape == (1, 1, 25, 25)


def test_naive_stage_loss_backward(model):
    model.train()
    model.zero_grad()
    inputs = dict(
        img=torch.rand(2, 1, 3, 127, 127) * 255,
        search_img=torch.rand(2, 1, 3, 255, 255) * 255,
    )
    losses = model(inputs, make_samples(2), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_reg'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.head.cls_pred.weight.grad.abs().sum() > 0
    assert model.neck.convs[0].conv.weight.grad.abs().sum() > 0
    assert model.backbone.layer3[0].conv1.weight.grad.abs().sum() > 0


def test_cycle_stage_loss_backward_with_frozen_backbone():
    torch.manual_seed(0)
    model = build_usot(frozen_modules='backbone')
    model.train()
    model.head.lambda1 = 0.275
    model.head.cls_ratio = 0.5
    bn = model.backbone.layer1[0].bn1
    assert bn.training  # official: BN in train mode while frozen
    before = bn.running_mean.clone()
    inputs = dict(
        img=torch.rand(1, 1, 3, 127, 127) * 255,
        search_img=torch.rand(1, 1, 3, 255, 255) * 255,
        memory_img=torch.rand(1, 4, 3, 255, 255) * 255,
    )
    losses = model(inputs, make_samples(1, shift=False), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_reg', 'loss_mem'}
    sum(losses.values()).backward()
    head = model.head
    assert head.cls_memory_pred.weight.grad.abs().sum() > 0
    assert head.conf_fusion.value_gen[0].weight.grad.abs().sum() > 0
    assert model.neck.convs[0].conv.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not torch.equal(bn.running_mean, before)


def test_frozen_bn_mode_eval():
    model = build_usot(frozen_modules='backbone', frozen_bn_mode='eval')
    model.train()
    assert not model.backbone.bn1.training
    assert not model.backbone.layer3[5].bn3.training
    assert model.neck.training and model.head.cls_tower[1].training
    for param in model.backbone.layer3.parameters():
        param.requires_grad = True  # e.g. an unfreeze hook
    model.train()
    assert model.backbone.layer3[0].bn1.training
    assert not model.backbone.bn1.training
    with pytest.raises(ValueError):
        build_usot(frozen_bn_mode='other')


def test_memory_input_must_match_batch(model):
    model.train()
    inputs = dict(
        img=torch.rand(2, 1, 3, 127, 127),
        search_img=torch.rand(2, 1, 3, 255, 255),
        memory_img=torch.rand(1, 3, 3, 255, 255),
    )
    with pytest.raises(ValueError, match='memory_img'):
        model(inputs, make_samples(2), mode='loss')
