# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Filling, quality (Eq. (4), (5), (7)) and flow helpers by hand."""

import numpy as np
import pytest

from mmusot.pseudo_labels import (
    FLOW_BACKENDS,
    build_flow_backend,
    corner_frequency,
    corner_score,
    fill_boxes,
    fragment_bounds,
    frame_quality,
    interpolate_box,
    max_flow_component,
    next_frame_interval,
    passes_video_filter,
    resize_flow,
    unit_ranges,
    video_quality,
    video_rng,
)


def test_interpolation_correct_and_reversed():
    a, b = np.array([0, 0, 10, 10]), np.array([40, 0, 50, 10])
    # j = 1 of 0..4: correct is 1/4 of the way from a
    np.testing.assert_allclose(interpolate_box(a, b, 0, 4, 1), [10, 0, 20, 10])
    np.testing.assert_allclose(
        interpolate_box(a, b, 0, 4, 1, reversed_official=True), [30, 0, 40, 10]
    )


def test_fill_boxes_ends_and_jitter_rule():
    picked = [3, 7]
    boxes = np.array([[100.5, 100, 150, 160], [108.9, 100, 158, 160]])
    out = fill_boxes(picked, boxes, 10, video_rng('v'))
    assert out.dtype == np.int64 and out.shape == (10, 4)
    np.testing.assert_array_equal(out[3], [100, 100, 150, 160])
    np.testing.assert_array_equal(out[5], [104, 100, 154, 160])
    # head copies are jittered within +-3 (smallest coordinate >= 75)
    assert np.all(np.abs(out[:3] - boxes[0]) <= 3 + 1)
    assert not np.all(out[:3] == out[3])
    # reruns with the same name are identical, other names differ
    np.testing.assert_array_equal(
        out, fill_boxes(picked, boxes, 10, video_rng('v'))
    )
    # small coordinates: exact copies, no jitter
    small = np.array([[10, 10, 40, 40], [20, 10, 50, 40]], np.float64)
    out2 = fill_boxes(picked, small, 10, video_rng('v'))
    np.testing.assert_array_equal(out2[:3], np.repeat(out2[3:4], 3, 0))
    np.testing.assert_array_equal(out2[8:], np.repeat(out2[7:8], 2, 0))
    with pytest.raises(ValueError):
        fill_boxes([5, 3], small, 10, video_rng('v'))


def test_video_quality_and_filter():
    assert video_quality(6, 10) == pytest.approx(0.6)
    assert video_quality(0, 0) == 0
    assert passes_video_filter(0.6, 0.1) == (True, '')
    assert not passes_video_filter(0.34, 0.0)[0]
    assert not passes_video_filter(0.9, 0.41)[0]
    # 0.4 - 0.3 / 3 = 0.30 < 0.33
    assert 'Q_v - corner/3' in passes_video_filter(0.4, 0.3)[1]


def test_frame_quality_eq5_by_hand():
    flow = [3, 6, 9, 12, 15]
    picked = [3, 9, 12]
    qf = frame_quality(picked, flow, 20, radius=3)
    # frame 6: flow {3, 6, 9}, picked {3, 9} -> 2/3
    assert qf[6] == pytest.approx(2 / 3)
    # frame 0: flow {3}, picked {3}
    assert qf[0] == pytest.approx(1)
    # frame 19: nothing within 3
    assert qf[19] == 0


def test_corner_frequency_and_score():
    w, h = 320, 320  # margins at 10 and 310
    inside = [100, 100, 150, 150]
    x_border = [12, 100, 60, 150]  # x1 < 20
    both = [12, 12, 60, 60]
    boxes = np.array([inside, x_border, both, inside])
    assert corner_frequency(boxes, w, h) == pytest.approx((0.3 + 1) / 4)
    cs = corner_score(np.array([inside, both]), w, h)
    # inside: x_border = min(90, 160) = 90 -> min(90/300, 0.1) = 0.1, twice
    assert cs[0] == pytest.approx(0.2)
    assert cs[1] == pytest.approx(2 / 300 * 2)


def test_fragment_bounds_eq7():
    boxes = np.tile([100.0, 100, 140, 140], (12, 1))
    boxes[9:] += 200  # a jump after frame 8
    qf = np.ones(12)
    qf[0] = 0.2  # too low a quality to extend onto frame 0
    t_l, t_u = fragment_bounds(boxes, qf, search_gap=2, max_frame_gap=320)
    # frame 0: backward nothing; forward 2, 4, 6, 8 accepted, 10 jumps
    assert (t_l[0], t_u[0]) == (0, 7)
    # frames 1..7 reuse frame 0's fragment
    assert all((t_l[i], t_u[i]) == (0, 7) for i in range(1, 8))
    # frame 8: backward 6, 4, 2 accepted, 0 has Q_f 0.2 -> T_l = 3
    assert t_l[8] == 3 and t_u[8] == 8
    # max_frame_gap caps the walk
    t_l2, t_u2 = fragment_bounds(boxes[:8], np.ones(8), 2, 4)
    assert t_u2[0] == 1  # accepted 2 only (4 >= 0 + 4 stops) -> 2 - 1


def test_resize_flow_scales_vectors_align_corners():
    flow = np.zeros((3, 5, 2), np.float32)
    flow[..., 0] = np.arange(5)[None]  # u = column index
    flow[..., 1] = 2.0
    out = resize_flow(flow, (5, 9))
    assert out.shape == (5, 9, 2)
    # corners map to corners; u values scaled by 9 / 5, v by 5 / 3
    assert out[0, 0, 0] == pytest.approx(0)
    assert out[0, -1, 0] == pytest.approx(4 * 9 / 5, rel=1e-5)
    assert out[2, 4, 0] == pytest.approx(2 * 9 / 5, rel=1e-5)
    assert out[3, 3, 1] == pytest.approx(2 * 5 / 3, rel=1e-5)
    assert max_flow_component(flow, (9 / 5, 5 / 3)) == pytest.approx(7.2)


def test_adaptive_interval_rules():
    assert next_frame_interval(20, 4, False, False) == 3
    assert next_frame_interval(5, 4, False, False) == 5
    assert next_frame_interval(12, 4, False, False) is None
    assert next_frame_interval(20, 1, False, False) is None  # floor
    assert next_frame_interval(5, 7, False, False) is None  # ceiling
    # one direction per frame
    assert next_frame_interval(20, 5, True, False) is None
    assert next_frame_interval(5, 3, False, True) is None


@pytest.mark.parametrize('name', ['dis', 'farneback'])
def test_backends_recover_a_shift(name):
    assert name in FLOW_BACKENDS
    rng = np.random.default_rng(0)
    import cv2

    tex = cv2.GaussianBlur(
        rng.uniform(0, 255, (140, 180)).astype(np.uint8), (0, 0), 2
    )
    a, b = tex[10:106, 10:138], tex[10:106, 7:135]  # content moves +3 in x
    flow = build_flow_backend(name)(a, b)
    assert flow.shape == (96, 128, 2)
    centre = flow[30:66, 40:88]
    assert np.median(centre[..., 0]) == pytest.approx(3, abs=0.5)
    assert np.median(centre[..., 1]) == pytest.approx(0, abs=0.5)
    with pytest.raises(KeyError):
        build_flow_backend('nope')


def test_unit_ranges_lasot_windows():
    assert unit_ranges(100, (221, 200)) == [(0, 99)]
    assert unit_ranges(500, (221, 200)) == [(0, 220), (200, 420), (279, 499)]
    assert unit_ranges(421, (221, 200)) == [(0, 220), (200, 420)]
    assert unit_ranges(0, None) == []
