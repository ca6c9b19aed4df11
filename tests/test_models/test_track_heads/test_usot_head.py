# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOTHead: shapes, official names, targets, losses, official outputs."""

import math

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmtrack.structures import TrackDataSample

from mmusot.models.track_heads import USOTHead, iou_loss, weighted_bce_loss
from tests.fixtures import PARITY, require_shared
from tests.official_layout import build_formula_state_dict, read_key_list


def small_head(**kwargs):
    torch.manual_seed(0)
    return USOTHead(in_channels=8, **kwargs)


@pytest.mark.parametrize(
    'feat_size,encoded,resp',
    [
        (31, [(29, 29), (27, 29), (29, 27)], 25),
        (33, [(31, 31), (29, 31), (31, 29)], 27),
    ],
)
def test_forward_shapes(feat_size, encoded, resp):
    head = small_head().eval()
    xf = torch.randn(2, 8, feat_size, feat_size)
    zf = torch.randn(2, 8, 7, 7)
    enc = head.encode_search(xf)
    # 3x3, 5x3 and 3x5 depthwise-correlation encoders (valid convolution)
    assert [tuple(t.shape) for t in enc['cls']] == [
        (2, 8) + hw for hw in encoded
    ]
    cls, reg = head.forward_offline(enc, zf)
    assert cls.shape == (2, 1, resp, resp)
    assert reg.shape == (2, 4, resp, resp) and (reg > 0).all()
    mem = head.forward_memory(enc, torch.randn(2, 7, 8, 7, 7))
    assert mem.shape == (2, 1, resp, resp)


def test_head_parameter_names_match_official():
    head = USOTHead()
    names = set(head.state_dict())
    for name in (
        'adjust',
        'bias',
        'cls_encode.matrix11_k.0.weight',
        'reg_encode.matrix21_s.1.running_var',
        'cls_dw.weight',
        'reg_dw.weight',
        'conf_fusion.conf_gen.0.bias',
        'conf_fusion.value_gen.1.weight',
        'bbox_tower.9.weight',
        'cls_memory_tower.10.running_mean',
        'cls_memory_pred.bias',
    ):
        assert name in names
    n_params = sum(p.numel() for p in head.parameters())
    assert abs(n_params / 1e6 - 15.37) < 0.01
    assert head.adjust.item() == pytest.approx(0.1)
    assert torch.equal(head.bias.data, torch.ones(1, 4, 1, 1))


def test_box_to_cells():
    head = small_head()
    px = torch.tensor([[0.0, 31.0, 63.0, 200.0]])
    torch.testing.assert_close(
        head.template_box_to_cells(px), torch.tensor([[0.0, 3.0, 7.0, 14.0]])
    )
    torch.testing.assert_close(
        head.search_box_to_cells(torch.tensor([[31.0, 127.0, 223.0, 0.0]])),
        torch.tensor([[0.0, 12.0, 24.0, -31 / 8]]),
    )
    torch.testing.assert_close(
        head.search_box_to_cells(
            torch.tensor([[0.0, 127.0, 300.0, 100.0]]), clamp=(15, 239)
        ),
        torch.tensor([[-2.0, 12.0, 26.0, 69 / 8]]),
    )
    fixed = small_head(search_pool_axis='corrected')
    torch.testing.assert_close(
        fixed.search_box_to_cells(torch.tensor([[7.0, 127.0, 247.0, 15.0]])),
        torch.tensor([[0.0, 15.0, 30.0, 1.0]]),
    )
    with pytest.raises(ValueError):
        small_head(search_pool_axis='other')


def test_weighted_bce_by_hand():
    logits = torch.tensor([0.0, 2.0, -1.0, 3.0])
    labels = torch.tensor([1.0, 1.0, 0.0, 0.0])

    def bce(x, y):
        p = 1 / (1 + math.exp(-x))
        return -(y * math.log(p) + (1 - y) * math.log(1 - p))

    pos = (bce(0.0, 1) + bce(2.0, 1)) / 2
    neg = (bce(-1.0, 0) + bce(3.0, 0)) / 2
    loss = weighted_bce_loss(logits, labels)
    assert loss.item() == pytest.approx(0.5 * pos + 0.5 * neg, rel=1e-6)
    # No positive: only the negative half counts.
    loss = weighted_bce_loss(logits[2:], labels[2:])
    assert loss.item() == pytest.approx(0.5 * neg, rel=1e-6)


def test_iou_loss_by_hand():
    # Target box 4x4 around the cell; prediction 2x4 inside it: I = 8,
    # U = 16, loss = -log(9 / 17). The second cell has weight 0.
    target = (
        torch.tensor([2.0, 2.0, 2.0, 2.0]).view(1, 4, 1, 1).repeat(1, 1, 1, 2)
    )
    pred = (
        torch.tensor([1.0, 2.0, 1.0, 2.0]).view(1, 4, 1, 1).repeat(1, 1, 1, 2)
    )
    weight = torch.tensor([[[[1.0, 0.0]]]])
    assert iou_loss(pred, target, weight).item() == pytest.approx(
        -math.log(9 / 17), rel=1e-6
    )
    assert iou_loss(target, target, weight).item() == pytest.approx(0.0)
    assert iou_loss(pred, target, weight * 0).item() == 0.0


def test_iou_loss_sample_norm_weighs_targets_equally():
    # Sample 0 has three counted cells with loss a each, sample 1 one cell
    # with loss 0, sample 2 none. 'cell': 3a / 4; 'sample': (a + 0) / 2.
    target = torch.full((3, 4, 1, 4), 2.0)
    pred = target.clone()
    pred[0, 0] = 1.0  # l halved: I = 12, U = 16
    weight = torch.zeros(3, 1, 1, 4)
    weight[0, 0, 0, :3] = 1
    weight[1, 0, 0, 0] = 1
    a = -math.log(13 / 17)
    assert iou_loss(pred, target, weight).item() == pytest.approx(
        3 * a / 4, rel=1e-6
    )
    assert iou_loss(pred, target, weight, norm='sample').item() == (
        pytest.approx(a / 2, rel=1e-6)
    )
    assert iou_loss(pred, target, weight * 0, norm='sample').item() == 0.0
    with pytest.raises(ValueError, match='norm'):
        iou_loss(pred, target, weight, norm='batch')
    with pytest.raises(ValueError, match='reg_loss_norm'):
        USOTHead(in_channels=8, reg_loss_norm='area')


def test_targets_diamond_and_regression():
    head = small_head()
    boxes = torch.tensor(
        [[95.0, 111.0, 159.0, 143.0], [20.0, 20.0, 80.0, 60.0]]
    )
    shift = torch.tensor([[0.0, 0.0], [50.0, -20.0]])
    cls, reg, weight = head.get_targets(boxes, 25, shift)
    assert cls.shape == (2, 1, 25, 25) and reg.shape == (2, 4, 25, 25)
    assert cls.sum((1, 2, 3)).tolist() == [13.0, 13.0]
    assert cls[0, 0, 12, 12] == 1 and cls[0, 0, 12, 14] == 1
    assert cls[0, 0, 13, 14] == 0
    # trunc(-50 / 8) = -6, trunc(20 / 8) = 2 → centre (row 14, col 6).
    assert cls[1, 0, 14, 6] == 1 and cls[1, 0, 12, 6] == 1
    # Cell (12, 12) is pixel (127, 127).
    assert reg[0, :, 12, 12].tolist() == [32.0, 16.0, 32.0, 16.0]
    # Cell (0, 0) is pixel (31, 31).
    assert reg[1, :, 0, 0].tolist() == [11.0, 11.0, 49.0, 29.0]
    assert weight[0, 0, 12, 8] == 0  # x = 95 is on the edge, not inside
    assert weight[0, 0, 12, 9] == 1
    assert weight[0].sum() == 7 * 3  # x in 103..151, y in 119..135
    # Without the shift, the centre cell of the box is used.
    cls2, _, _ = head.get_targets(boxes, 25)
    assert cls2[0, 0, 12, 12] == 1 and cls2[1, 0, 2, 3] == 1


def test_decode_best_boxes():
    head = small_head()
    score = torch.zeros(1, 1, 25, 25)
    score[0, 0, 3, 20] = 5.0
    reg = torch.ones(1, 4, 25, 25)
    reg[0, :, 3, 20] = torch.tensor([10.0, 20.0, 30.0, 40.0])
    box = head.decode_best_boxes(score, reg)
    # cell (row 3, col 20) is pixel (x 191, y 55) of the search crop
    assert box.tolist() == [[181.0, 35.0, 221.0, 95.0]]


def _loss_inputs(batch=2, mem=None):
    gen = torch.Generator().manual_seed(3)
    z_feat = torch.randn(batch, 8, 15, 15, generator=gen, requires_grad=True)
    x_feat = torch.randn(batch, 8, 31, 31, generator=gen, requires_grad=True)
    samples = []
    for i in range(batch):
        sample = TrackDataSample()
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[30.0 + i, 32.0, 96.0, 90.0]])
        )
        sample.search_gt_instances = InstanceData(
            bboxes=torch.tensor([[95.0, 100.0, 160.0, 150.0 + i]])
        )
        samples.append(sample)
    mem_feat = None
    if mem:
        mem_feat = torch.randn(
            batch * mem, 8, 31, 31, generator=gen, requires_grad=True
        )
    return z_feat, x_feat, samples, mem_feat


def test_naive_loss_backward():
    head = small_head().train()
    z_feat, x_feat, samples, _ = _loss_inputs()
    losses = head.loss(z_feat, x_feat, samples)
    assert set(losses) == {'loss_cls', 'loss_reg'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert head.cls_pred.weight.grad.abs().sum() > 0
    assert head.adjust.grad is not None and x_feat.grad.abs().sum() > 0
    assert z_feat.grad.abs().sum() > 0
    assert head.cls_memory_pred.weight.grad is None


def test_loss_labels_follow_search_shift():
    """metainfo['search_shift'] moves the cls label (official centre)."""
    head = small_head().train()
    z_feat, x_feat, samples, _ = _loss_inputs(batch=1)
    base = head.loss(z_feat, x_feat, samples)['loss_cls']
    samples[0].set_metainfo(dict(search_shift=[40.0, -24.0]))
    shifted = head.loss(z_feat, x_feat, samples)['loss_cls']
    assert base.item() != pytest.approx(shifted.item())


def test_cycle_loss_weights_and_backward():
    head = small_head().train()
    z_feat, x_feat, samples, mem_feat = _loss_inputs(batch=2, mem=4)
    head.lambda1 = 0.25
    head.cls_ratio = 0.4
    losses = head.loss(z_feat, x_feat, samples, mem_feat)
    assert set(losses) == {'loss_cls', 'loss_reg', 'loss_mem'}
    sum(losses.values()).backward()
    # Gradients reach the memory head, the shared cls encoders and, through
    # the pooled memory kernels, the memory features.
    assert head.cls_memory_pred.weight.grad.abs().sum() > 0
    assert head.conf_fusion.conf_gen[0].weight.grad.abs().sum() > 0
    assert head.cls_encode.matrix11_k[0].weight.grad.abs().sum() > 0
    assert mem_feat.grad.abs().sum() > 0


@pytest.mark.parametrize(
    'stride,offset,feat,resp,first,centre,extent',
    [
        # 255 crop: centre pixel 127; 271 crop: 135; 263 crop: 131
        (8, 7.0, 31, 25, 31.0, 127.0, (23.0, 231.0)),
        (8, 7.0, 33, 27, 31.0, 135.0, (23.0, 247.0)),
        (16, 3.0, 17, 11, 51.0, 131.0, (35.0, 227.0)),
    ],
)
def test_geometry_from_stride_and_offset(
    stride, offset, feat, resp, first, centre, extent
):
    head = small_head(stride=stride, feature_offset=offset)
    assert head.response_size(feat) == resp
    axis = head.response_axis(resp)
    assert axis[0].item() == first and axis[1] - axis[0] == stride
    # the response centre sits on the search-crop centre
    assert axis[resp // 2].item() == centre
    assert head.response_extent(resp, 1) == extent
    boxes = torch.tensor([[offset, offset, offset + stride, 1000.0]])
    assert head.template_box_to_cells(boxes, 15).tolist() == [
        [0.0, 0.0, 1.0, 14.0]
    ]


def test_loss_by_feat_weights():
    head = small_head()
    cls = torch.zeros(1, 1, 25, 25)
    reg = torch.full((1, 4, 25, 25), 2.0)
    label, target, weight = head.get_targets(
        torch.tensor([[100.0, 100.0, 150.0, 150.0]]), 25
    )
    naive = head.loss_by_feat(cls, reg, label, target, weight)
    cycle = head.loss_by_feat(
        cls, reg, label, target, weight, mem_logits=cls, lambda1=0.275
    )
    raw_cls = weighted_bce_loss(cls, label)
    assert naive['loss_cls'].item() == pytest.approx(0.2 * raw_cls.item())
    assert cycle['loss_cls'].item() == pytest.approx(0.275 * raw_cls.item())
    assert cycle['loss_mem'].item() == pytest.approx(0.625 * raw_cls.item())
    assert naive['loss_reg'].item() == pytest.approx(
        iou_loss(reg, target, weight).item()
    )
    # reg_loss_norm='sample': a small and a large target weigh the same
    boxes = torch.tensor(
        [[110.0, 110.0, 140.0, 140.0], [40.0, 40.0, 210.0, 210.0]]
    )
    label, target, weight = head.get_targets(boxes, 25)
    reg = torch.full((2, 4, 25, 25), 12.0)
    cls = cls.expand(2, -1, -1, -1)
    cell = head.loss_by_feat(cls, reg, label, target, weight)
    head.reg_loss_norm = 'sample'
    sample = head.loss_by_feat(cls, reg, label, target, weight)
    per_target = [
        iou_loss(reg[i : i + 1], target[i : i + 1], weight[i : i + 1])
        for i in range(2)
    ]
    assert sample['loss_reg'].item() == pytest.approx(
        (per_target[0].item() + per_target[1].item()) / 2, rel=1e-6
    )
    # the official mean leans towards the large target's (worse) loss
    assert cell['loss_reg'].item() > sample['loss_reg'].item()


def test_head_matches_official_outputs():
    """Offline and memory heads on the golden features (no backbone)."""
    keys = require_shared(PARITY / 'usot_official_keys.txt')
    golden = np.load(require_shared(PARITY / 'golden.npz'))
    specs = read_key_list(str(keys))
    state = build_formula_state_dict(specs)
    prefix = 'connect_model.'
    head_state = {
        k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)
    }
    head = USOTHead()
    head.load_state_dict(head_state, strict=True)
    head.eval()
    xf = torch.from_numpy(golden['xf'])
    with torch.no_grad():
        enc = head.encode_search(xf)
        cls, reg = head.forward_offline(enc, torch.from_numpy(golden['zf']))
        mem = head.forward_memory(
            enc, torch.from_numpy(golden['memory'])[None]
        )
    assert (cls - torch.from_numpy(golden['cls'])).abs().max() <= 1e-5
    assert (reg - torch.from_numpy(golden['reg'])).abs().max() <= 1e-4
    assert (mem - torch.from_numpy(golden['cls_mem'])).abs().max() <= 1e-5


def test_forward_memory_dedupe_equals_full_queue():
    """Distinct kernels + counts == the queue with repeated kernels."""
    torch.manual_seed(0)
    head = USOTHead().eval()  # the real 256-channel head
    xf = torch.randn(2, 256, 31, 31)
    distinct = torch.randn(2, 4, 256, 7, 7)
    # the official queue pattern {f0, f0', best older, 4 x latest}
    counts = torch.tensor([1, 1, 1, 4])
    index = torch.repeat_interleave(torch.arange(4), counts)
    with torch.no_grad():
        enc = head.encode_search(xf)
        full = head.forward_memory(enc, distinct[:, index])
        dedup = head.forward_memory(enc, distinct, counts)
        # per-sample counts, (N, M)
        counts_nm = torch.tensor([[1, 1, 1, 4], [1, 1, 3, 2]])
        dedup_nm = head.forward_memory(enc, distinct, counts_nm)
        full_nm = torch.cat(
            [
                head.forward_memory(
                    {'cls': tuple(t[n : n + 1] for t in enc['cls'])},
                    distinct[
                        n : n + 1,
                        torch.repeat_interleave(torch.arange(4), counts_nm[n]),
                    ],
                )
                for n in range(2)
            ]
        )
    assert dedup.shape == full.shape == (2, 1, 25, 25)
    assert (dedup - full).abs().max() <= 1e-5
    assert (dedup_nm - full_nm).abs().max() <= 1e-5
    # no counts: the plain branch
    with torch.no_grad():
        plain = head.forward_memory(enc, distinct)
        ones = head.forward_memory(enc, distinct, torch.ones(4))
    assert torch.equal(plain, ones)
