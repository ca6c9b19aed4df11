# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The pinned stack end to end: mmtrack's SiamRPN++ built offline, on CPU."""

import math

import torch

from tests.script_loader import load_script


def load_demo():
    return load_script('tools/demo/smoke_demo.py')


def test_siamrpn_loss_and_predict_offline_on_cpu():
    demo = load_demo()
    torch.manual_seed(0)
    model = demo.build_siamrpn('cpu')
    losses = demo.siamrpn_loss_step(model)
    assert {'loss_rpn_cls', 'loss_rpn_bbox'} <= set(losses)
    assert all(math.isfinite(v) for v in losses.values())
    grads = [p.grad for p in model.head.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)

    frames, truth = demo.moving_square_frames(num_frames=2)
    boxes = demo.siamrpn_track(model, frames, truth[0])
    assert len(boxes) == 2
    # Frame 0 returns the initial box; later frames a box centred in the
    # image (mmtrack clips the centre, not the edges).
    assert boxes[0] == [float(v) for v in truth[0]]
    height, width = frames[1].shape[:2]
    x1, y1, x2, y2 = boxes[1]
    assert x1 < x2 and y1 < y2
    assert 0 <= (x1 + x2) / 2 <= width and 0 <= (y1 + y2) / 2 <= height
