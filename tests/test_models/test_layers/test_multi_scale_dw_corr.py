# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import torch
import torch.nn.functional as F

from mmusot.models.layers import (
    MultiScaleDWFusion,
    MultiScaleEncoder,
    depthwise_xcorr,
)


def test_depthwise_xcorr_matches_per_channel_conv():
    gen = torch.Generator().manual_seed(0)
    search = torch.randn(2, 3, 9, 8, generator=gen)
    kernel = torch.randn(2, 3, 3, 2, generator=gen)
    out = depthwise_xcorr(search, kernel)
    assert out.shape == (2, 3, 7, 7)
    for n in range(2):
        for c in range(3):
            ref = F.conv2d(
                search[n : n + 1, c : c + 1], kernel[n : n + 1, c : c + 1]
            )
            torch.testing.assert_close(out[n, c], ref[0, 0])


def test_encoder_shapes_follow_the_dilations():
    enc = MultiScaleEncoder(channels=4).eval()
    kernel_encs = enc.encode_kernel(torch.randn(2, 4, 7, 7))
    search_encs = enc.encode_search(torch.randn(2, 4, 31, 31))
    assert [tuple(t.shape[2:]) for t in kernel_encs] == [
        (5, 5),
        (3, 5),
        (5, 3),
    ]
    assert [tuple(t.shape[2:]) for t in search_encs] == [
        (29, 29),
        (27, 29),
        (29, 27),
    ]
    names = {n for n, _ in enc.named_parameters()}
    assert 'matrix12_k.0.weight' in names and 'matrix21_s.1.bias' in names
    assert enc.matrix12_k[0].dilation == (2, 1)
    assert enc.matrix21_s[0].dilation == (1, 2)
    fused = MultiScaleDWFusion()(search_encs, kernel_encs)
    assert fused.shape == (2, 4, 25, 25)


def test_fusion_uses_softmax_weights():
    fusion = MultiScaleDWFusion()
    gen = torch.Generator().manual_seed(1)
    searches = tuple(torch.randn(1, 2, 6, 6, generator=gen) for _ in range(3))
    kernels = tuple(torch.randn(1, 2, 2, 2, generator=gen) for _ in range(3))
    corr = [depthwise_xcorr(s, k) for s, k in zip(searches, kernels)]
    # Initial weights are equal: the mean of the three maps.
    torch.testing.assert_close(fusion(searches, kernels), sum(corr) / 3)
    with torch.no_grad():
        fusion.weight.copy_(torch.tensor([0.0, 1.0, 2.0]))
    w = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0)
    torch.testing.assert_close(
        fusion(searches, kernels),
        w[0] * corr[0] + w[1] * corr[1] + w[2] * corr[2],
    )
