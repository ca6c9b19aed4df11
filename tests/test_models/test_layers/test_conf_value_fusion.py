# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
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
