# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Audit against the official preprocessing: details the first version
missed.

Each test is worked by hand and pins one rule of the official
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py`` (paper
Sec. 3.1) that the implementation got wrong at first.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from mmusot.pseudo_labels import dp_select_boxes
from mmusot.pseudo_labels.candidates import candidate_boxes, cut_margin
from mmusot.pseudo_labels.pipeline import (
    PseudoLabelSettings,
    _label_unit,
    _Unit,
)


def test_margin_cut_ends_at_int_of_31_32():
    # flow_to_bbox: rows int(H / 32) .. int(H * (1 - 1/32)) (exclusive).
    # H = 240: 7 .. int(232.5) = 232 -> 225 rows (not 240 - 7 = 233).
    # W = 360: 11 .. int(348.75) = 348 -> 337 columns (not 349).
    flow = np.zeros((240, 360, 2), np.float32)
    cropped, r0, c0 = cut_margin(flow)
    assert (r0, c0) == (7, 11)
    assert cropped.shape[:2] == (225, 337)
    # Multiples of 32 are unchanged: 384 x 640 -> 12..372, 20..620.
    cropped, r0, c0 = cut_margin(np.zeros((384, 640, 2), np.float32))
    assert (r0, c0) == (12, 20)
    assert cropped.shape[:2] == (360, 600)


def test_margin_cut_bottom_row_is_dropped():
    # H = 72, W = 96: rows 2 .. int(69.75) = 69, columns 3 .. 93.
    # A 20x20 moving block whose last row is frame row 69 lies one row
    # below the official crop: its box ends at crop row 67 (exclusive),
    # i.e. frame row 67 + 72/32 = 69.25, not 70.25.
    flow = np.zeros((72, 96, 2), np.float32)
    flow[50:70, 40:60] = (5.0, 0.0)
    boxes = candidate_boxes(flow)
    assert len(boxes) == 2
    # x: columns 40..60 -> crop 37..57 -> + 3.0; y: rows 50..69 -> crop
    # 48..67 -> + 2.25.
    np.testing.assert_allclose(boxes[0], [40.0, 50.25, 60.0, 69.25])


class _SpikeBackend:
    """Working-size flow that is zero except one pixel with u = 40."""

    uses_previous_frame = False

    def prepare(self, frame, size_hw):
        return frame

    def __call__(self, center, target, previous=None):
        flow = np.zeros((3, 5, 2), np.float32)
        flow[1, 1, 0] = 40.0
        return flow


def test_adaptive_interval_uses_the_resized_flow():
    # The adaptive T_f: m is the max |component| of the flow resized (align
    # corners) to the original frame. Working 3x5 -> frame 2x3 samples
    # working columns 0, 2, 4 and rows 0, 2 only, so the spike at (1, 1)
    # vanishes: m = 0 < 8 and T_f grows 4 -> 5 -> 6 -> 7. Scaling the
    # working map instead gives m = 40 * 3/5 = 24 > 16 and T_f = 1.
    settings = PseudoLabelSettings(work_size=(3, 5))
    unit = _Unit(0, None, settings, _SpikeBackend(), (2, 3))
    frame = np.zeros((2, 3), np.uint8)
    for k in range(12):
        unit.push(k, frame)
    unit.finish()
    assert unit.flow_frames[0] == 3
    assert unit.intervals[0] == 7
    assert unit.max_flows[0] == 0.0


def test_dp_path_end_tie_takes_last_candidate_of_earliest_node():
    # smooth_bbox_dp: the end is searched from the last node to the first with
    # '<=' over candidates 0..k-1, so among equal minima the earliest node
    # wins and, inside it, the last candidate. Far-apart boxes: every
    # transition reward is negative, so every cost is -K and the path is
    # a single box: node 0, candidate 1.
    a = [0.0, 0.0, 10.0, 10.0]
    b = [200.0, 0.0, 210.0, 10.0]
    c = [0.0, 300.0, 10.0, 310.0]
    assert dp_select_boxes([np.array([a, b]), np.array([c])]) == [(0, 1)]
    # A real improvement still wins: identical boxes in nodes 0 and 1 give
    # cost(1) = -K - 1 - K, the global minimum.
    assert dp_select_boxes([np.array([a, b]), np.array([a])]) == [
        (0, 0),
        (1, 0),
    ]


def test_corner_frequency_uses_unrounded_boxes():
    # Official code: corner_bbox_freq is computed on the
    # filled boxes before the int truncation of the json. W = 320:
    # right = int(310.0) = 310, so x2 = 300.5 > 300 is at the x border
    # (0.3 per frame) but its truncation 300 is not. min(box) = 40 < 50,
    # so the end copies are not jittered.
    unit = SimpleNamespace(
        start=0,
        frame_hw=(240, 320),
        flow_frames=[3],
        intervals=[4],
        max_flows=[10.0],
        nan_frames=0,
        cands=[np.array([[40.0, 40.0, 300.5, 150.0]])],
    )
    track = _label_unit(unit, 9, 'v', 0, PseudoLabelSettings())
    assert track['picked_frames'] == [3]
    assert track['corner_freq'] == pytest.approx(0.3)
    # the stored boxes are still int-truncated
    assert track['boxes'].tolist() == [[40, 40, 300, 150]] * 9
