# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Tests of USOT inference: memory queue, decoding, cropping, state update.

The tracking-loop tests use a controlled "network": the search feature is
the crop itself and the head finds the bright textured target in it, so a
correct crop → decode → state update chain must follow the target, and any
error in the geometry makes the box drift away. The decoding is the real
:meth:`USOTHead.predict_by_feat`.
"""

import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmusot.models.sot.usot_memory import USOTMemoryQueue
from mmusot.models.sot.usot_subwindow import (
    box_in_crop,
    crop_siamfc,
    python2round,
)
from mmusot.models.sot.usot_tracking import (
    USOTTestConfig,
    USOTTrackingMixin,
    update_size,
)
from mmusot.models.track_heads.usot_head import (
    USOTHead,
    cosine_window,
    size_change_penalty,
)
from mmusot.structures import context_side, region_overlap

#: A head for the decoding tests (tiny channels: only geometry is used).
HEAD = USOTHead(in_channels=4, num_tower_convs=1)

# --------------------------------------------------------------------------
# memory queue (official lib/tracker/usot_tracker.py)
# --------------------------------------------------------------------------


def make_queue(mode, scores):
    """Queue whose history entry i is a feature filled with i."""
    queue = USOTMemoryQueue(7, mode, init_score=scores[0])
    feat = lambda v: torch.full((2, 3, 3), float(v))  # noqa: E731
    queue.reset(feat(0), torch.full((2, 3, 3), -1.0))
    for i, score in enumerate(scores[1:], start=1):
        queue.append(feat(i), torch.tensor(score))
    return queue


def queue_ids(queue):
    """History ids of the 7 queue entries (-1 is the flipped template)."""
    return [int(v) for v in queue.build_queue()[:, 0, 0, 0]]


def test_queue_first_frame_repeats_template():
    queue = make_queue('official', [0.9])
    assert queue_ids(queue) == [0, -1, 0, 0, 0, 0, 0]
    assert make_queue('corrected', [0.9]).build_queue().shape == (7, 2, 3, 3)


@pytest.mark.parametrize('mode', ['official', 'corrected'])
def test_queue_n2(mode):
    # both modes: [h0, h0, h0, h0, h1] after [f0, f0']
    assert queue_ids(make_queue(mode, [0.9, 0.95])) == [0, -1, 0, 0, 0, 0, 1]


def test_queue_official_n3_n4():
    # n = 3: [h0, best(h0, h1), h2, h2, h2]
    assert queue_ids(make_queue('official', [0.9, 0.95, 0.1])) == [
        0,
        -1,
        0,
        1,
        2,
        2,
        2,
    ]
    assert queue_ids(make_queue('official', [0.9, 0.5, 0.99])) == [
        0,
        -1,
        0,
        0,
        2,
        2,
        2,
    ]
    # n = 4: [h0, best(h0..h2), h3, h3, h3]
    assert queue_ids(make_queue('official', [0.9, 0.2, 0.97, 0.99])) == [
        0,
        -1,
        0,
        2,
        3,
        3,
        3,
    ]
    assert queue_ids(make_queue('official', [0.9, 0.2, 0.3, 0.99])) == [
        0,
        -1,
        0,
        0,
        3,
        3,
        3,
    ]


@pytest.mark.parametrize('n', [5, 6, 9, 40])
def test_queue_official_long_history(n):
    # n >= 5: best of history[0 .. n-2], then four copies of the latest
    scores = [0.9] + [0.1] * (n - 1)
    best = n // 2
    scores[best] = 0.95
    scores[-1] = 0.99  # the latest is excluded from the best-of scan
    assert queue_ids(make_queue('official', scores)) == [
        0,
        -1,
        best,
        n - 1,
        n - 1,
        n - 1,
        n - 1,
    ]
    scores[best] = 0.5  # then f0 (0.9) is the best older entry
    assert queue_ids(make_queue('official', scores)) == [
        0,
        -1,
        0,
        n - 1,
        n - 1,
        n - 1,
        n - 1,
    ]


def test_queue_corrected_segments():
    # n = 3: gap 0.5 → segments [0,1) [0,1) [1,2) [1,2) → h0 h0 h1 h1, h2
    assert queue_ids(make_queue('corrected', [0.9, 0.1, 0.2])) == [
        0,
        -1,
        0,
        0,
        1,
        1,
        2,
    ]
    # n = 5: gap 1 → one entry per segment, then the latest
    assert queue_ids(make_queue('corrected', [0.9, 0.1, 0.2, 0.3, 0.4])) == [
        0,
        -1,
        0,
        1,
        2,
        3,
        4,
    ]
    # n = 9: gap 2 → best of [0,2) [2,4) [4,6) [6,8), then h8
    scores = [0.9, 0.95, 0.3, 0.2, 0.1, 0.6, 0.7, 0.8, 0.05]
    assert queue_ids(make_queue('corrected', scores)) == [0, -1, 1, 2, 5, 7, 8]
    # ties go to the first maximum (numpy argmax)
    scores = [0.9, 0.9, 0.4, 0.4, 0.1, 0.1, 0.7, 0.7, 0.05]
    assert queue_ids(make_queue('corrected', scores)) == [0, -1, 0, 2, 4, 6, 8]


@pytest.mark.parametrize('mode', ['official', 'corrected'])
def test_queue_device_selection_matches_segments(mode):
    gen = torch.Generator().manual_seed(0)
    for n in range(2, 30):
        scores = [0.9] + torch.rand(n - 1, generator=gen).tolist()
        queue = make_queue(mode, scores)
        expected = [
            max(range(s, e), key=lambda j: (scores[j], -j))
            for s, e in queue.segment_bounds(n)
        ] + [n - 1]
        assert queue.history_indices().tolist() == expected, n


@pytest.mark.parametrize('mode', ['official', 'corrected'])
def test_distinct_queue_expands_to_the_queue(mode):
    gen = torch.Generator().manual_seed(1)
    for n in range(1, 30):
        scores = [0.9] + torch.rand(n - 1, generator=gen).tolist()
        queue = make_queue(mode, scores)
        kernels, counts = queue.build_distinct_queue()
        ids = [int(v) for v in kernels[:, 0, 0, 0]]
        if counts is None:
            assert ids == queue_ids(queue), n
            continue
        assert counts.dtype == torch.float32 and counts.shape == (len(ids),)
        assert counts[:2].tolist() == [1.0, 1.0]  # f0 and f0' kept
        expanded = [
            i for i, c in zip(ids, counts.tolist()) for _ in range(int(c))
        ]
        # the fusion is order-free: same multiset of kernels
        assert sorted(expanded) == sorted(queue_ids(queue)), n
        # merged entries are repeats of one history range only
        assert len(ids) == 2 + len(set(queue.history_segments())), n
        if mode == 'official' and n >= 5:
            # {f0, f0', best older, latest} with the latest 4 times
            assert counts.tolist() == [1.0, 1.0, 1.0, 4.0]
            assert ids[-1] == n - 1


def test_queue_grows_past_capacity_and_validates():
    queue = make_queue('corrected', [0.9] + [0.5] * 150)
    assert queue.num_history == 151
    assert queue.features.shape == (151, 2, 3, 3)
    assert queue_ids(queue)[-1] == 150
    with pytest.raises(ValueError, match='memory_index'):
        USOTMemoryQueue(7, 'buggy')
    with pytest.raises(RuntimeError, match='reset'):
        USOTMemoryQueue().build_queue()


# --------------------------------------------------------------------------
# decoding, penalty, window, size update (§6.3, §6.4)
# --------------------------------------------------------------------------


def test_python2round_and_window():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 2.4])
    assert python2round(x).tolist() == [1, 2, 3, -1, -3, 2]
    assert torch.round(x).tolist() == [0, 2, 2, -0, -2, 2]  # half to even
    win = cosine_window(25)
    ref = np.outer(np.hanning(25), np.hanning(25))
    assert np.allclose(win.numpy(), ref, atol=1e-6)
    # the head's response axis is the official grid 8 (c - S // 2) + I // 2
    for score_size, instance_size in ((25, 255), (27, 271)):
        official = [
            8 * (c - score_size // 2) + instance_size // 2
            for c in range(score_size)
        ]
        assert HEAD.response_axis(score_size).tolist() == official
    assert HEAD.response_axis(25).tolist()[:2] == [31, 39]
    assert HEAD.response_axis(27).tolist()[-1] == 239


def test_size_change_penalty_by_hand():
    k = 0.021
    target = torch.tensor([10.0, 10.0])
    same = size_change_penalty(torch.tensor([[10.0], [10.0]]), target, k)
    assert torch.allclose(same, torch.ones(1))
    # twice the size, same aspect: s_c = 2, r_c = 1
    double = size_change_penalty(torch.tensor([[20.0], [20.0]]), target, k)
    assert math.isclose(double.item(), math.exp(-k), rel_tol=1e-6)
    # aspect 1 → 1/2: r_c = 2, s_c = sqrt(25*35)/20
    s_c = math.sqrt(25 * 35) / 20
    aspect = size_change_penalty(torch.tensor([[10.0], [20.0]]), target, k)
    assert math.isclose(
        aspect.item(), math.exp(-(2 * s_c - 1) * k), rel_tol=1e-6
    )


def hand_response(size=5, peaks=((1, 3, 0.8),), reg_wh=(16.0, 16.0)):
    score = torch.full((size, size), 0.05)
    for r, c, v in peaks:
        score[r, c] = v
    w, h = reg_wh
    reg = torch.empty(4, size, size)
    reg[0], reg[2] = w / 2, w / 2
    reg[1], reg[3] = h / 2, h / 2
    return score, reg


def decode_response(
    score, reg, target_wh, window, penalty_k, window_influence
):
    """``USOTHead.predict_by_feat`` on a given fused score map.

    Both branches get ``logit(score)``, so any offline weight fuses back
    to ``score``.
    """
    logits = torch.logit(score.double()).float()[None, None]
    return HEAD.predict_by_feat(
        logits,
        logits,
        reg[None],
        target_wh,
        window,
        offline_weight=0.3,
        penalty_k=penalty_k,
        window_influence=window_influence,
    )


def test_decode_picks_peak_and_box():
    score, reg = hand_response()
    reg[:, 1, 3] = torch.tensor([6.0, 5.0, 10.0, 11.0])  # l, t, r, b
    out = decode_response(
        score,
        reg,
        torch.tensor([16.0, 16.0]),
        cosine_window(5),
        penalty_k=0.021,
        window_influence=0.0,
    )
    assert out.indices.tolist() == [1 * 5 + 3]
    # a 5-cell response: cells at 31 + 8 c, i.e. 8 (c - 2) + 47
    gx, gy = 8 * (3 - 2) + 47, 8 * (1 - 2) + 47
    assert out.bboxes.tolist() == [[gx - 6, gy - 5, gx + 10, gy + 11]]
    assert math.isclose(out.scores.item(), 0.8, rel_tol=1e-6)
    assert 0 < out.penalties.item() <= 1


def test_decode_window_and_penalty_change_choice():
    score, reg = hand_response(peaks=((0, 0, 0.9), (2, 2, 0.6)))
    target = torch.tensor([16.0, 16.0])
    no_win = decode_response(
        score, reg, target, cosine_window(5), 0.021, window_influence=0.0
    )
    assert no_win.indices.item() == 0  # the corner peak wins alone
    # window 0 on the border, 1 at the centre: 0.9 * 0.679 = 0.611 loses
    # to 0.6 * 0.679 + 0.321 = 0.728
    win = decode_response(
        score, reg, target, cosine_window(5), 0.021, window_influence=0.321
    )
    assert win.indices.item() == 2 * 5 + 2
    pscore, penalty = HEAD.penalized_scores(
        score, HEAD.decode_boxes(reg), target, cosine_window(5), 0.021, 0.321
    )
    assert torch.allclose(penalty, torch.ones(5, 5))  # every box 16 x 16
    assert math.isclose(pscore[2, 2].item(), 0.6 * 0.679 + 0.321, rel_tol=1e-6)
    assert math.isclose(pscore[0, 0].item(), 0.9 * 0.679, rel_tol=1e-6)
    # equal peaks: the one predicting the current size wins the penalty
    score, reg = hand_response(peaks=((2, 1, 0.7), (2, 3, 0.7)))
    reg[:, 2, 1] *= 3
    out = decode_response(
        score,
        reg,
        target,
        torch.zeros(5, 5),
        window_influence=0.0,
        penalty_k=0.5,
    )
    assert out.indices.item() == 2 * 5 + 3
    with pytest.raises(ValueError, match='disagree'):
        decode_response(score, reg, target, torch.zeros(6, 6), 0.5, 0.0)


def test_update_size_single_and_double():
    size, pred, lr = (
        torch.tensor([10.0, 40.0]),
        torch.tensor([20.0, 20.0]),
        torch.tensor(0.5),
    )
    assert update_size(size, pred, lr, 'single').tolist() == [15.0, 30.0]
    # reference: R = lr p + (1-lr) T; T' = (1-lr) T + lr R = T + lr²(p - T)
    assert update_size(size, pred, lr, 'double').tolist() == [12.5, 35.0]
    with pytest.raises(ValueError, match='size_smoothing'):
        update_size(size, pred, lr, 'triple')


# --------------------------------------------------------------------------
# cropping (§6.2)
# --------------------------------------------------------------------------


def reference_subwindow(img, cx, cy, side, out, avg):
    """numpy/OpenCV sub-window: pad with ``avg``, slice, cv2.resize."""
    height, width = img.shape[:2]
    x0 = round(cx - (side + 1) / 2)
    y0 = round(cy - (side + 1) / 2)
    left, top = max(0, -x0), max(0, -y0)
    right = max(0, x0 + side - width)
    bottom = max(0, y0 + side - height)
    padded = np.empty(
        (height + top + bottom, width + left + right, 3), np.float32
    )
    padded[:] = avg
    padded[top : top + height, left : left + width] = img
    patch = padded[y0 + top : y0 + top + side, x0 + left : x0 + left + side]
    return patch if side == out else cv2.resize(patch, (out, out))


@pytest.mark.parametrize(
    'cx,cy,side,out',
    [
        (40.0, 30.0, 21, 21),  # no resize: an exact slice
        (40.3, 30.7, 40, 21),  # downscale
        (5.0, 5.0, 30, 50),  # padding top-left + upscale
        (75.0, 55.0, 31, 127),  # padding bottom-right
        (40.0, 30.0, 200, 64),  # window much larger than the frame
        (10.5, 12.5, 17, 17),  # half-pixel centre: round half to even
    ],
)
def test_crop_matches_padded_opencv_resize(cx, cy, side, out):
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, (60, 80, 3)).astype(np.float32)
    avg = img.mean(axis=(0, 1))
    expected = reference_subwindow(img, cx, cy, side, out, avg)
    patch = crop_siamfc(
        torch.from_numpy(img).permute(2, 0, 1)[None],
        torch.tensor([[cx, cy]]),
        torch.tensor([float(side)]),
        out,
        torch.from_numpy(avg),
    )
    assert patch.shape == (1, 3, out, out)
    got = patch[0].permute(1, 2, 0).numpy()
    assert np.abs(got - expected).max() < 5e-3


def test_crop_padding_value_and_batch():
    img = torch.full((1, 3, 20, 30), 100.0)
    pad = torch.tensor([1.0, 2.0, 3.0])
    patch = crop_siamfc(
        img,
        torch.tensor([[0.0, 0.0], [15.0, 10.0]]),
        torch.tensor([20.0, 10.0]),
        20,
        pad,
    )
    # first crop: centred on the corner, top-left quadrant is padding
    assert torch.allclose(
        patch[0, :, :8, :8], pad[:, None, None].expand(3, 8, 8)
    )
    assert torch.allclose(patch[0, :, 12:, 12:], torch.full((3, 8, 8), 100.0))
    assert torch.allclose(patch[1], torch.full((3, 20, 20), 100.0))


@pytest.mark.parametrize(
    'center,size,side,out',
    [
        ((60.0, 50.0), (20.0, 12.0), 41, 127),
        ((60.0, 50.0), (20.0, 12.0), 123, 255),
        ((12.0, 9.0), (16.0, 10.0), 80, 255),  # with left/top padding
    ],
)
def test_box_in_crop_lands_on_the_target(center, size, side, out):
    img = torch.zeros(1, 3, 100, 140)
    cx, cy = center
    w, h = size
    img[
        ...,
        int(cy - h / 2) : int(cy + h / 2),
        int(cx - w / 2) : int(cx + w / 2),
    ] = 255.0
    patch = crop_siamfc(
        img,
        torch.tensor([center]),
        torch.tensor([float(side)]),
        out,
        torch.zeros(3),
    )
    ys, xs = torch.nonzero(patch[0, 0] > 127.5, as_tuple=True)
    seen = torch.tensor(
        [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=torch.float32
    )
    box = box_in_crop(
        torch.tensor(center),
        torch.tensor(size),
        torch.tensor(float(side)),
        out,
    )
    # the reference formula is a pixel-level approximation of the box
    assert torch.allclose(box, seen, atol=1.0 + out / side)


# --------------------------------------------------------------------------
# tracking loop with a controlled head
# --------------------------------------------------------------------------


class TargetFinderHead(USOTHead):
    """Head stand-in: "features" are crops; the target is the bright blob.

    The offline and memory logits peak at the response cell nearest to the
    blob centre and the regression gives the blob's extent, i.e. what a
    perfect network would output. Geometry (``search_box_to_cells``,
    ``response_axis`` ...) and decoding (``predict_by_feat``) are the real
    :class:`USOTHead`'s.
    """

    def __init__(self):
        super().__init__(in_channels=4, num_tower_convs=1)
        self.memory_calls = []

    def pool(self, feat, boxes):
        return feat.new_zeros(feat.size(0), 4, 7, 7) + boxes.mean()

    def response_size(self, crop_size):
        # the stand-in's "feature" is the crop itself: the official score
        # size (I - 127) // 8 + 1 + 8
        return (crop_size - 127) // 8 + 1 + 8

    def encode_search(self, xf):
        return dict(crop=xf)

    def _locate(self, crop):
        mask = crop[0, 0] > 100
        ys, xs = torch.nonzero(mask, as_tuple=True)
        return torch.stack(
            (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        ).float()

    def forward_offline(self, search_enc, z_kernel):
        crop = search_enc['crop']
        size = crop.size(-1)
        score_size = self.response_size(size)
        grid = self.response_axis(score_size)
        gx = grid[None, :].expand(score_size, -1)
        gy = grid[:, None].expand(-1, score_size)
        x1, y1, x2, y2 = self._locate(crop)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        logits = -((gx - cx) ** 2 + (gy - cy) ** 2) / 64.0
        reg = torch.stack((gx - x1, gy - y1, x2 - gx, y2 - gy)).clamp(min=1)
        return logits[None, None], reg[None]

    def forward_memory(self, search_enc, mem_kernels, kernel_counts=None):
        num = (
            mem_kernels.size(1)
            if kernel_counts is None
            else int(kernel_counts.sum())
        )
        self.memory_calls.append((tuple(mem_kernels.shape), num))
        return self.forward_offline(search_enc, None)[0]


def _tracker_class():
    from mmtrack.models.sot.base import BaseSingleObjectTracker

    class ControlledUSOT(USOTTrackingMixin, BaseSingleObjectTracker):
        def __init__(self, test_cfg=None):
            super().__init__()
            self.test_cfg = dict(test_cfg or {})
            self.head = TargetFinderHead()

        def forward_template(self, img):
            return img.new_zeros(img.size(0), 4, 15, 15)

        def forward_search(self, img):
            return img

        def loss(self, inputs, data_samples, **kwargs):
            raise NotImplementedError

    return ControlledUSOT


def textured_frame(box, hw=(240, 320), seed=0, channels=3):
    """Dark noisy frame with a bright random-texture box (xyxy)."""
    gen = torch.Generator().manual_seed(seed)
    height, width = hw
    img = torch.rand(channels, height, width, generator=gen) * 60
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    patch = 150 + torch.rand(channels, y2 - y1, x2 - x1, generator=gen) * 105
    img[:, y1:y2, x1:x2] = patch
    return img


def make_sample(frame_id, box, hw):
    from mmengine.structures import InstanceData
    from mmtrack.structures import TrackDataSample

    sample = TrackDataSample()
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([box], dtype=torch.float32)
    )
    sample.set_metainfo(dict(frame_id=frame_id, img_shape=hw, ori_shape=hw))
    return sample


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def run_sequence(model, boxes, hw=(240, 320), channels=3):
    outputs = []
    for frame_id, box in enumerate(boxes):
        img = textured_frame(box, hw, seed=frame_id, channels=channels)
        inputs = dict(img=img[None, None])
        result = model.predict(inputs, [make_sample(frame_id, box, hw)])
        outputs.append(result[0].pred_track_instances)
    return outputs


@pytest.mark.parametrize(
    'cfg',
    [
        dict(),
        dict(memory_index='corrected', size_smoothing='single'),
    ],
)
def test_box_follows_moving_textured_square(cfg):
    model = _tracker_class()(cfg)
    boxes = [
        (60 + 9 * t, 70 + 5 * t, 100 + 9 * t + t, 110 + 5 * t + t)
        for t in range(12)
    ]
    outputs = run_sequence(model, boxes)
    assert outputs[0].scores.tolist() == [-1.0]
    for out, box in zip(outputs[1:], boxes[1:]):
        assert out.bboxes.shape == (1, 4) and out.scores.shape == (1,)
        assert iou(out.bboxes[0].tolist(), box) > 0.75, (out.bboxes, box)
    # memory head saw the 7-entry queue (its distinct kernels with counts
    # summing to 7 when deduplicated), the history grew every frame
    assert {num for _, num in model.head.memory_calls} == {7}
    shapes = {shape for shape, _ in model.head.memory_calls}
    assert all(
        s[0] == 1 and 3 <= s[1] <= 7 and s[2:] == (4, 7, 7) for s in shapes
    )
    model = _tracker_class()(dict(cfg, dedupe_memory=False))
    run_sequence(model, boxes)
    assert {shape for shape, _ in model.head.memory_calls} == {(1, 7, 4, 7, 7)}
    assert model.memo.memory.num_history == len(boxes)
    assert model.memo.instance_size == 255


def test_static_target_box_stays():
    # state update alone: a static target stays put, boxes keep their size
    model = _tracker_class()()
    boxes = [(100, 80, 140, 120)] * 5
    outputs = run_sequence(model, boxes)
    for out in outputs[1:]:
        assert iou(out.bboxes[0].tolist(), boxes[0]) > 0.9


def test_small_target_uses_big_search_and_clips_to_frame():
    model = _tracker_class()()
    # 12x12 target in 320x240: 0.19% of the frame → 271 search
    boxes = [(300 - 2 * t, 20, 312 - 2 * t, 32) for t in range(4)]
    outputs = run_sequence(model, boxes)
    assert model.memo.instance_size == 271
    for out in outputs[1:]:
        x1, y1, x2, y2 = out.bboxes[0].tolist()
        assert x1 >= 0 and y1 >= 0
        assert x2 - x1 >= 10 and y2 - y1 >= 10
        assert iou([x1, y1, x2, y2], boxes[-1]) > 0.3


def test_grayscale_frame_tracks_like_replicated_bgr():
    boxes = [(60 + 6 * t, 70, 100 + 6 * t, 110) for t in range(4)]
    grey = run_sequence(_tracker_class()(), boxes, channels=1)
    for out, box in zip(grey[1:], boxes[1:]):
        assert iou(out.bboxes[0].tolist(), box) > 0.75


@pytest.mark.parametrize(
    'box,match',
    [
        ((50, 50, 50, 90), 'zero or negative area'),
        ((50, 50, 90, 50), 'zero or negative area'),
        ((400, 300, 450, 350), 'outside the frame'),
        ((-80, 10, -20, 40), 'outside the frame'),
    ],
)
def test_bad_init_box_raises(box, match):
    model = _tracker_class()()
    img = textured_frame((10, 10, 20, 20))
    with pytest.raises(ValueError, match=match):
        model.predict(
            dict(img=img[None, None]), [make_sample(0, box, (240, 320))]
        )


def test_bad_frame_and_config_raise():
    model = _tracker_class()()
    with pytest.raises(RuntimeError, match='before its frame 0'):
        model.predict(
            dict(img=textured_frame((10, 10, 40, 40))[None, None]),
            [make_sample(3, (10, 10, 40, 40), (240, 320))],
        )
    img = torch.rand(1, 1, 4, 240, 320) * 255
    with pytest.raises(ValueError, match='channels'):
        model.predict(
            dict(img=img), [make_sample(0, (10, 10, 40, 40), (240, 320))]
        )
    with pytest.raises(ValueError, match='memory_index'):
        _tracker_class()(dict(memory_index='bug')).usot_test_cfg()
    with pytest.raises(ValueError, match='crop_mode'):
        _tracker_class()(dict(crop_mode='float')).usot_test_cfg()
    # the stride is the head's: a stale total_stride key is rejected
    with pytest.raises(ValueError, match="unknown.*'total_stride'"):
        _tracker_class()(dict(total_stride=8)).usot_test_cfg()
    assert (
        _tracker_class()().usot_test_cfg().window_influence
        == USOTTestConfig().window_influence
    )


def test_region_overlap():
    box = np.array([0, 0, 10, 10.0])
    assert region_overlap(box, box) == pytest.approx(1.0)
    assert region_overlap(
        box, np.array([0, 0, 10, 0, 10, 10, 0, 10.0])
    ) == pytest.approx(1.0)
    assert region_overlap(box, np.array([5, 0, 15, 10.0])) == pytest.approx(
        1 / 3
    )
    assert region_overlap(box, np.array([20, 20, 30, 30.0])) == 0.0
    # diamond inscribed in the box: area 50 of 100
    diamond = np.array([5, 0, 10, 5, 5, 10, 0, 5.0])
    assert region_overlap(box, diamond) == pytest.approx(0.5)
    # bounds cut both regions to the image
    assert region_overlap(
        np.array([-10, 0, 10, 10.0]), box, bounds=(100, 100)
    ) == pytest.approx(1.0)


def test_vot_mode_resets_after_failure_without_vot_toolkit():
    model = _tracker_class()(dict(test_mode='VOT'))
    hw = (240, 320)
    states = []
    for frame_id in range(9):
        box = (60, 70, 100, 110)
        # frame 2: the target jumps far away → the tracker loses it
        gt = (250, 180, 290, 220) if frame_id == 2 else box
        img = textured_frame(box, hw, seed=frame_id)
        res = model.predict(
            dict(img=img[None, None]), [make_sample(frame_id, gt, hw)]
        )
        states.append(res[0].pred_track_instances.bboxes[0].tolist())
    assert states[0] == [1.0]
    assert len(states[1]) == 4
    assert states[2] == [2.0]
    assert states[3:7] == [[0.0]] * 4
    assert states[7] == [1.0]  # re-initialised 5 frames after the failure
    assert len(states[8]) == 4


def test_official_crop_mode_tracks_and_needs_8bit_frames():
    boxes = [
        (60 + 9 * t, 70 + 5 * t, 100 + 10 * t, 110 + 6 * t) for t in range(6)
    ]
    model = _tracker_class()(dict(crop_mode='official'))
    outputs = []
    for frame_id, box in enumerate(boxes):
        img = textured_frame(box, seed=frame_id).round()  # 8-bit values
        result = model.predict(
            dict(img=img[None, None]),
            [make_sample(frame_id, box, (240, 320))],
        )
        outputs.append(result[0].pred_track_instances)
    assert model.memo.pad_value.dtype == np.uint8  # truncated mean
    for out, box in zip(outputs[1:], boxes[1:]):
        assert iou(out.bboxes[0].tolist(), box) > 0.75, (out.bboxes, box)
    # fractional (e.g. normalised) frames cannot be cropped the 8-bit way
    with pytest.raises(ValueError, match="crop_mode='official'"):
        run_sequence(_tracker_class()(dict(crop_mode='official')), boxes[:1])


def test_one_based_gt_shifts_init_and_results():
    """1-based GT b + 1 tracks like 0-based GT b, reported as output + 1."""
    boxes = [
        (60 + 6 * t, 70 + 4 * t, 100 + 6 * t, 112 + 4 * t) for t in range(5)
    ]
    zero = run_sequence(_tracker_class()(), boxes)
    model = _tracker_class()(dict(one_based_gt=True))
    one = []
    for frame_id, box in enumerate(boxes):
        img = textured_frame(box, seed=frame_id)
        gt = [v + 1 for v in box]  # the same target, 1-based
        result = model.predict(
            dict(img=img[None, None]), [make_sample(frame_id, gt, (240, 320))]
        )
        one.append(result[0].pred_track_instances)
    assert one[0].bboxes[0].tolist() == [v + 1.0 for v in boxes[0]]
    assert one[0].scores.tolist() == [-1.0]
    for a, b in zip(zero, one):
        assert torch.allclose(b.bboxes, a.bboxes + 1, atol=1e-4)
        assert torch.allclose(b.scores, a.scores)
    # the state is 0-based: the tracker started from the centre - (1, 1)
    model = _tracker_class()(dict(one_based_gt=True))
    run_sequence(model, [boxes[0]])
    x1, y1, x2, y2 = boxes[0]
    assert model.memo.center.tolist() == [(x1 + x2) / 2 - 1, (y1 + y2) / 2 - 1]
    vot = _tracker_class()(dict(test_mode='VOT', one_based_gt=True))
    with pytest.raises(ValueError, match='OPE protocol only'):
        run_sequence(vot, boxes[:1])


def test_context_side():
    assert context_side(torch.tensor([10.0, 10.0])).item() == 20.0


# --------------------------------------------------------------------------
# the real network: the per-frame path runs end to end (random weights)
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def usot_model():
    from mmengine.config import Config
    from mmtrack.registry import MODELS
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    repo = osp.dirname(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    )
    cfg = Config.fromfile(
        osp.join(repo, 'configs', 'usot', '_base_', 'usot_r50.py')
    )
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


@pytest.mark.parametrize(
    'box,instance_size',
    [
        ((100, 80, 160, 150), 255),
        ((150, 110, 162, 120), 271),  # 0.16% of the frame
    ],
)
def test_real_usot_predict_loop(usot_model, box, instance_size):
    boxes = [box] * 3
    with torch.no_grad():
        outputs = run_sequence(usot_model, boxes)
    memo = usot_model.memo
    assert memo.instance_size == instance_size
    assert memo.score_size == (instance_size - 127) // 8 + 1 + 8
    assert memo.memory.num_history == 3
    assert memo.memory.build_queue().shape == (7, 256, 7, 7)
    for out in outputs[1:]:
        assert out.bboxes.shape == (1, 4) and out.scores.shape == (1,)
        assert torch.isfinite(out.bboxes).all()
        x1, y1, x2, y2 = out.bboxes[0].tolist()
        assert 0 <= x1 < x2 and 0 <= y1 < y2
        assert 0 < out.scores.item() < 1


def test_track_reads_nothing_back_to_the_host(usot_model, monkeypatch):
    """The per-frame path (crop → network → decode → memory) is sync-free.

    Every Tensor → Python conversion is made to raise while ``track`` runs
    (on CUDA each would be a device synchronisation).
    """
    hw = (240, 320)
    box = (100, 80, 160, 150)
    with torch.no_grad():
        usot_model.predict(
            dict(img=textured_frame(box, hw)[None, None]),
            [make_sample(0, box, hw)],
        )

        def forbidden(*args, **kwargs):
            raise AssertionError('host read in the per-frame path')

        for name in (
            'item',
            'tolist',
            'cpu',
            'numpy',
            '__bool__',
            '__float__',
            '__int__',
            '__index__',
        ):
            monkeypatch.setattr(torch.Tensor, name, forbidden)
        img = textured_frame(box, hw, seed=1)
        for _ in range(3):
            result = usot_model.track(img[None], None)
        monkeypatch.undo()
    assert result[0].bboxes.shape == (1, 4)
    assert usot_model.memo.memory.num_history == 4


@pytest.mark.parametrize('memory_index', ['official', 'corrected'])
def test_real_usot_dedupe_memory_tracks_the_same(
    usot_model, monkeypatch, memory_index
):
    """Deduplicated memory kernels give the boxes of the full queue."""
    boxes = [
        (100 + 4 * t, 80 + 2 * t, 160 + 4 * t, 150 + 2 * t) for t in range(9)
    ]
    head = usot_model.head
    calls = []
    full_forward = head.forward_memory

    def spy(search_enc, mem_kernels, kernel_counts=None):
        calls.append(mem_kernels.size(1))
        return full_forward(search_enc, mem_kernels, kernel_counts)

    monkeypatch.setattr(head, 'forward_memory', spy)
    saved = dict(usot_model.test_cfg)
    results = {}
    try:
        for dedupe in (False, True):
            usot_model.test_cfg.update(
                dedupe_memory=dedupe, memory_index=memory_index
            )
            calls.clear()
            with torch.no_grad():
                outputs = run_sequence(usot_model, boxes)
            results[dedupe] = (
                torch.cat([o.bboxes for o in outputs[1:]]),
                torch.cat([o.scores for o in outputs[1:]]),
                list(calls),
            )
    finally:
        usot_model.test_cfg.clear()
        usot_model.test_cfg.update(saved)
    full_boxes, full_scores, full_calls = results[False]
    boxes_d, scores_d, dedup_calls = results[True]
    assert full_calls == [7] * 8
    assert min(dedup_calls) < 7  # the repeats were merged
    if memory_index == 'official':
        assert dedup_calls[4:] == [4] * 4  # n >= 5: f0, f0', best, latest
    assert (boxes_d - full_boxes).abs().max() <= 1e-3
    assert (scores_d - full_scores).abs().max() <= 1e-5


def test_sub_pixel_init_box_gives_finite_boxes(usot_model):
    # a 0.2 px box: crop sides clamp to 1 px, then the size floor (10 px)
    box = (100.0, 100.0, 100.2, 100.2)
    with torch.no_grad():
        outputs = run_sequence(usot_model, [box] * 2)
    out = outputs[1].bboxes[0]
    assert torch.isfinite(out).all()
    assert (out[2:] - out[:2]).min().item() >= 10 - 1e-4
