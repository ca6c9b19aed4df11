# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import pytest
import torch
import torch.nn.functional as F

from mmusot.models.layers import PrRoIPool2d, prroi_pool2d


def bilinear_surface(feat, ys, xs):
    """F(y, x) of a (C, H, W) map, zero outside its lattice, on a grid."""
    _, height, width = feat.shape
    ky = (1 - (ys[:, None] - torch.arange(height)[None]).abs()).clamp(min=0)
    kx = (1 - (xs[:, None] - torch.arange(width)[None]).abs()).clamp(min=0)
    return torch.einsum(
        'yh,chw,xw->cyx', ky.double(), feat.double(), kx.double()
    )


def brute_force(feat, roi, bins, samples=120):
    """Midpoint-rule integral of the bilinear surface over each bin."""
    x1, y1, x2, y2 = roi
    out = torch.zeros(feat.shape[0], bins, bins, dtype=torch.float64)
    bw, bh = (x2 - x1) / bins, (y2 - y1) / bins
    if bw <= 0 or bh <= 0:
        return out
    offsets = (torch.arange(samples, dtype=torch.float64) + 0.5) / samples
    for p in range(bins):
        ys = y1 + (p + offsets) * bh
        for q in range(bins):
            xs = x1 + (q + offsets) * bw
            out[:, p, q] = bilinear_surface(feat, ys, xs).mean(dim=(1, 2))
    return out


def test_golden_case_matches_avg_pool():
    # The upstream PrRoIPool check: RoI (0, 0, 14, 14) at scale 0.5 with
    # 7x7 bins covers unit cells, whose bilinear average is a 2x2 mean.
    feat = torch.randn(2, 3, 9, 10)
    rois = torch.tensor([[0, 0.0, 0.0, 14.0, 14.0], [1, 0.0, 0.0, 14.0, 14.0]])
    out = prroi_pool2d(feat, rois, 7, spatial_scale=0.5)
    expected = F.avg_pool2d(feat, kernel_size=2, stride=1)[:, :, :7, :7]
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)


def test_random_rois_match_numerical_integration():
    gen = torch.Generator().manual_seed(0)
    feat = torch.randn(1, 4, 12, 11, generator=gen)
    for _ in range(5):
        x1, y1 = (torch.rand(2, generator=gen) * 6).tolist()
        w, h = (torch.rand(2, generator=gen) * 5 + 0.3).tolist()
        roi = (x1, y1, x1 + w, y1 + h)
        out = prroi_pool2d(feat, torch.tensor([[0.0, *roi]]), 3)
        ref = brute_force(feat[0], roi, 3)
        torch.testing.assert_close(out[0].double(), ref, atol=2e-3, rtol=0)


def test_rois_partly_outside_the_map():
    # Beyond the last cell the surface decays linearly to zero, then is 0.
    feat = torch.randn(1, 2, 6, 6)
    for roi in [
        (-3.0, -2.5, 2.0, 3.0),
        (3.5, 4.0, 9.0, 8.5),
        (-4.0, -4.0, -1.5, -1.0),
    ]:
        out = prroi_pool2d(feat, torch.tensor([[0.0, *roi]]), 2)
        ref = brute_force(feat[0], roi, 2)
        torch.testing.assert_close(out[0].double(), ref, atol=2e-3, rtol=0)
    # Entirely outside by more than a cell pools to exactly zero.
    far = prroi_pool2d(feat, torch.tensor([[0.0, -9.0, -9.0, -2.0, -2.0]]), 2)
    assert torch.count_nonzero(far) == 0


def test_zero_area_rois_pool_to_zero_with_finite_grads():
    feat = torch.randn(1, 3, 8, 8, requires_grad=True)
    rois = torch.tensor(
        [
            [0, 2.0, 2.0, 2.0, 5.0],  # zero width
            [0, 1.0, 4.0, 6.0, 4.0],  # zero height
            [0, 5.0, 5.0, 3.0, 7.0],
        ]
    )  # inverted
    out = prroi_pool2d(feat, rois, 4)
    assert out.shape == (3, 3, 4, 4)
    assert torch.count_nonzero(out) == 0
    out.sum().backward()
    assert torch.isfinite(feat.grad).all()


def test_per_image_rois_and_batch_indices_agree():
    feat = torch.randn(3, 2, 9, 9)
    boxes = torch.tensor(
        [[1.0, 1.0, 6.0, 7.0], [0.0, 2.0, 8.0, 8.0], [2.5, 0.5, 4.0, 3.0]]
    )
    per_image = prroi_pool2d(feat, boxes, 7)
    indexed = prroi_pool2d(
        feat, torch.cat([torch.arange(3.0)[:, None], boxes], dim=1), 7
    )
    torch.testing.assert_close(per_image, indexed)
    # Several RoIs on one image, in any order.
    rois = torch.tensor([[2, 1.0, 1.0, 6.0, 7.0], [0, 1.0, 1.0, 6.0, 7.0]])
    out = prroi_pool2d(feat, rois, (3, 5))
    assert out.shape == (2, 2, 3, 5)
    torch.testing.assert_close(
        out[0], prroi_pool2d(feat[2:], boxes[:1], (3, 5))[0]
    )


def test_gradcheck_features_and_rois():
    feat = torch.randn(1, 2, 5, 6, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor(
        [[0, 0.7, 0.4, 3.9, 4.2]], dtype=torch.float64, requires_grad=True
    )

    def pool(f, r):
        return prroi_pool2d(f, r, 2)

    assert torch.autograd.gradcheck(pool, (feat, rois), eps=1e-6, atol=1e-5)


def test_module_and_bad_input():
    pool = PrRoIPool2d(7, spatial_scale=0.25)
    out = pool(
        torch.randn(2, 8, 16, 16), torch.tensor([[1, 0.0, 0.0, 28.0, 28.0]])
    )
    assert out.shape == (1, 8, 7, 7)
    assert 'output_size=7' in repr(pool)
    with pytest.raises(ValueError, match='batch indices'):
        prroi_pool2d(
            torch.randn(1, 1, 4, 4), torch.tensor([[3, 0.0, 0, 1, 1]]), 2
        )
    with pytest.raises(ValueError, match='one RoI per image'):
        prroi_pool2d(torch.randn(2, 1, 4, 4), torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match='N, C, H, W'):
        prroi_pool2d(torch.randn(4, 4), torch.zeros(1, 5), 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_parity_with_mmcv_cuda_op():
    ops = pytest.importorskip('mmcv.ops')
    feat = torch.randn(2, 16, 20, 20, device='cuda')
    rois = torch.tensor(
        [
            [0, 1.0, 2.0, 30.0, 25.0],
            [1, 10.0, 4.0, 12.0, 50.0],
            [1, -5.0, -5.0, 20.0, 20.0],
        ],
        device='cuda',
    )
    try:
        ref = ops.PrRoIPool(7, 0.5)(feat, rois)
    except (RuntimeError, NotImplementedError) as err:
        pytest.skip(f'mmcv was built without the CUDA op: {err}')
    out = prroi_pool2d(feat, rois, 7, spatial_scale=0.5)
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-4)
