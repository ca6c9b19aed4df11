# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import pytest
import torch

from mmusot.models.layers import ConfidenceValueFusion


def _fusion():
    torch.manual_seed(0)
    return ConfidenceValueFusion(channels=3).eval()


def test_one_memory_map_returns_the_value_map():
    fusion = _fusion()
    corr = torch.randn(2, 1, 3, 5, 5)
    out = fusion(corr)
    torch.testing.assert_close(out, fusion.value_gen(corr[:, 0]))


def test_eq8_softmax_over_the_memory_axis():
    fusion = _fusion()
    corr = torch.randn(2, 4, 3, 5, 5)
    flat = corr.flatten(0, 1)
    conf = fusion.conf_gen(flat).clamp(-6, 4).view(2, 4, 3, 5, 5)
    value = fusion.value_gen(flat).view(2, 4, 3, 5, 5)
    expected = (conf.exp() / conf.exp().sum(1, keepdim=True) * value).sum(1)
    out = fusion(corr)
    assert out.shape == (2, 3, 5, 5)
    torch.testing.assert_close(out, expected)
    # The order of the memory maps does not matter.
    torch.testing.assert_close(fusion(corr.flip(1)), out)


def test_confidence_clamped_after_relu():
    fusion = _fusion()
    with torch.no_grad():
        fusion.conf_gen[0].weight.zero_()
        fusion.conf_gen[0].bias.copy_(torch.tensor([100.0, -100.0, 2.0]))
    corr = torch.randn(1, 2, 3, 4, 4)
    conf = fusion.conf_gen(corr.flatten(0, 1)).clamp(*fusion.conf_range)
    # ReLU first: never negative; clamp caps at 4.
    assert conf.min() >= 0 and conf.max() <= 4


def _repeated(corr, counts):
    """corr (N, M, ...) with map u repeated counts[u] times."""
    index = torch.repeat_interleave(torch.arange(corr.size(1)), counts)
    return corr[:, index]


def test_kernel_counts_equal_the_repeated_maps():
    torch.manual_seed(0)
    fusion = ConfidenceValueFusion(channels=6).double().eval()
    # random BN statistics so the confidences spread over [0, 4]
    for seq in (fusion.conf_gen, fusion.value_gen):
        seq[1].running_mean.uniform_(-0.5, 0.5)
        seq[1].running_var.uniform_(0.5, 2.0)
    corr = 3 * torch.randn(2, 4, 6, 5, 5, dtype=torch.float64)
    counts = torch.tensor([1, 1, 1, 4])
    with torch.no_grad():
        expected = fusion(_repeated(corr, counts))
        out = fusion(corr, kernel_counts=counts)
        # (N, M): a different pattern per sample
        counts_nm = torch.tensor([[1, 1, 1, 4], [2, 1, 3, 1]])
        out_nm = fusion(corr, kernel_counts=counts_nm)
        expected_nm = torch.cat(
            [
                fusion(_repeated(corr[n : n + 1], counts_nm[n]))
                for n in range(2)
            ]
        )
    assert out.shape == (2, 6, 5, 5)
    assert (out - expected).abs().max() <= 1e-12
    assert (out_nm - expected_nm).abs().max() <= 1e-12
    # float multiplicities; only the ratios matter
    with torch.no_grad():
        scaled = fusion(corr, kernel_counts=counts.double() * 0.37)
    assert (scaled - expected).abs().max() <= 1e-12


def test_kernel_counts_float32_and_ones():
    fusion = _fusion()
    corr = torch.randn(3, 5, 3, 4, 4)
    counts = torch.tensor([1.0, 1.0, 2.0, 1.0, 3.0])
    with torch.no_grad():
        expected = fusion(_repeated(corr, counts.long()))
        out = fusion(corr, counts)
        # all ones: bit-for-bit the plain fusion
        ones = fusion(corr, torch.ones(5))
        plain = fusion(corr)
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-6)
    assert torch.equal(ones, plain)


def test_kernel_counts_shape_is_checked():
    fusion = _fusion()
    corr = torch.randn(2, 3, 3, 4, 4)
    with pytest.raises(ValueError, match='kernel_counts'):
        fusion(corr, torch.ones(4))
    with pytest.raises(ValueError, match='kernel_counts'):
        fusion(corr, torch.ones(3, 3))
