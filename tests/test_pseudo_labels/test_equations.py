# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Eq. 1-3 and the box helpers on hand-worked numbers."""

import numpy as np
import pytest

from mmusot.pseudo_labels import (
    CandidateConfig,
    box_diou,
    box_iou,
    box_score,
    candidate_boxes,
    clean_mask,
    dp_select_boxes,
    motion_distance_map,
    motion_threshold,
    passes_saliency_gate,
    score_component,
    transition_reward,
)


def test_iou_and_diou_by_hand():
    a = np.array([0, 0, 10, 10])
    b = np.array([5, 0, 15, 10])
    # overlap 50, union 150
    assert box_iou(a, b) == pytest.approx(1 / 3)
    # centres 5 apart (rho^2 = 25), enclosing 15x10 (c^2 = 325)
    assert box_diou(a, b, 4.1) == pytest.approx(1 / 3 - 4.1 * 25 / 325)
    assert box_iou(a, np.array([20, 20, 30, 30])) == 0


def test_transition_reward_triples_negative():
    a = np.array([0, 0, 10, 10])
    far = np.array([[20, 0, 30, 10]])
    # IoU 0; rho^2 = 400, c^2 = 900 + 100 -> r = -4.1 * 0.4 = -1.64, x3
    assert transition_reward(a, far)[0] == pytest.approx(-3 * 1.64)
    assert transition_reward(a, far, negative_factor=1)[0] == pytest.approx(
        -1.64
    )
    same = transition_reward(a, a[None])[0]
    assert same == pytest.approx(1.0)


def test_distance_map_and_threshold_eq1():
    flow = np.zeros((2, 2, 2), np.float32)
    flow[0, 0] = (4, 0)  # mean flow (1, 0)
    d = motion_distance_map(flow)
    assert d[0, 0] == pytest.approx(3)
    assert d[1, 1] == pytest.approx(1)
    # tau = 0.3 * 3 + 0.7 * 1.5
    assert motion_threshold(3, 1.5, 0.3) == pytest.approx(1.95)
    assert passes_saliency_gate(3.0, 1.0)  # ratio 3 > 2.5
    assert not passes_saliency_gate(2.0, 1.0)
    assert passes_saliency_gate(0.0, 0.01)  # mean below 0.05


def test_box_score_eq2_and_official_multipliers():
    # 20x30 box at rows 40..60, cols 50..80 in a 200x300 map
    s = box_score(40, 50, 60, 80, 200, 300, 0.5)
    assert s == pytest.approx(600 + 0.5 * 40 * 50)
    cfg = CandidateConfig()
    assert score_component(
        40, 50, 60, 80, 200, 300, (0, 0), cfg
    ) == pytest.approx(1600)
    # the distance peak inside the box doubles it
    assert score_component(
        40, 50, 60, 80, 200, 300, (60, 80), cfg
    ) == pytest.approx(3200)
    # 10 rows from the top: halved (border distance term then 10 * 50)
    assert score_component(
        10, 50, 30, 80, 200, 300, (0, 0), cfg
    ) == pytest.approx((600 + 0.5 * 10 * 50) / 2)
    # near the top and wider than 0.7 w_c: dropped
    assert score_component(5, 10, 30, 260, 200, 300, (0, 0), cfg) is None
    # aspect ratio 7 > 6: dropped
    assert score_component(40, 50, 110, 60, 200, 300, (0, 0), cfg) is None
    # area below 50: dropped
    assert score_component(40, 50, 47, 57, 200, 300, (0, 0), cfg) is None


def test_clean_mask_removes_specks_and_fills_holes():
    m = np.zeros((40, 40), bool)
    m[5:25, 5:25] = True
    m[10:13, 10:13] = False  # 9 px hole -> filled
    m[32:35, 32:35] = True  # 9 px speck -> removed
    out = clean_mask(m, 80)
    assert out[11, 11] and not out[33, 33]
    assert out.sum() == 400


def test_candidate_boxes_find_moving_block():
    h, w = 192, 256
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0] = 1.0  # camera pan
    flow[60:100, 90:150] = (9.0, -3.0)  # the object
    boxes = candidate_boxes(flow)
    assert 1 <= len(boxes) <= 2
    # margin cut is int(h / 32) = 6 rows, int(w / 32) = 8 columns, and the
    # boxes come back shifted by h / 32, w / 32
    np.testing.assert_allclose(boxes[0], [90, 60, 150, 100])
    # no motion at all: the whole map is one component at the border
    assert len(candidate_boxes(np.zeros((h, w, 2), np.float32))) == 0
    # all-NaN flow: no candidate, no exception
    assert len(candidate_boxes(np.full((h, w, 2), np.nan, np.float32))) == 0


def _box(x, y, s=20):
    return np.array([[x, y, x + s, y + s]], np.float64)


def test_dp_skips_outliers_and_keeps_smooth_track():
    cands = []
    for k in range(10):
        smooth = _box(50 + 2 * k, 60 + k)
        if k in (3, 6):  # outlier frames: only a far-away box
            cands.append(_box(200, 10))
        elif k == 5:  # two candidates, the second one is right
            cands.append(np.concatenate([_box(5, 150), smooth]))
        else:
            cands.append(smooth)
    path = dp_select_boxes(cands)
    nodes = [n for n, _ in path]
    assert nodes == [0, 1, 2, 4, 5, 7, 8, 9]
    assert dict(path)[5] == 1


def test_dp_single_node_and_new_path():
    assert dp_select_boxes([]) == []
    assert dp_select_boxes([_box(0, 0)]) == [(0, 0)]
    # two far-apart segments: the longer one is the answer
    cands = [_box(0, 0) for _ in range(3)] + [_box(300, 300) for _ in range(5)]
    assert [n for n, _ in dp_select_boxes(cands)] == [3, 4, 5, 6, 7]


def test_dp_cost_by_hand():
    # two identical boxes: r = 1, cost = -K then -K - 1 - K; ending at node 1
    path = dp_select_boxes([_box(0, 0), _box(0, 0)], node_reward=0.091)
    assert path == [(0, 0), (1, 0)]
    # a far second box: linking costs 3 * 1.64 > K, so a new path starts and
    # the earliest of the equal minima (-K, -K) ends the path
    far = np.array([[20, 0, 30, 10]], np.float64)
    near = np.array([[0, 0, 10, 10]], np.float64)
    assert dp_select_boxes([near, far]) == [(0, 0)]
