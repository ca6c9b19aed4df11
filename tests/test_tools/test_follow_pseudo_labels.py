# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The label-free tracker check: its follow figures and its size gain."""

import math

import cv2
import numpy as np
import pytest

from tests.script_loader import load_script

follow = load_script('tools/analysis/follow_pseudo_labels.py')


def test_gain_and_bias_from_forced_records():
    # log r = (1 - gain) log f + bias, exactly
    gain, bias = 0.3, -0.05
    records = [
        dict(scale=f, log_r=(1 - gain) * math.log(f) + bias)
        for f in (0.67, 1.0, 1.5)
        for _ in range(3)
    ]
    summary = follow.summarise_forced(records, [0.67, 1.0, 1.5])
    assert summary['gain'] == pytest.approx(gain)
    assert summary['per_scale'][1.0] == pytest.approx(bias)
    assert summary['n'] == 9


class _Replay:
    """A tracker that answers with given boxes, scaled about their centre."""

    def __init__(self, boxes, factor):
        self.boxes, self.factor, self.i = boxes, factor, 0

    def init(self, frame, box):
        assert frame is not None
        self.i = 0

    def track(self, frame):
        assert frame is not None
        self.i += 1
        x, y, w, h = self.boxes[self.i]
        cx, cy = x + w / 2, y + h / 2
        w, h = w * self.factor, h * self.factor
        return np.array([cx - w / 2, cy - h / 2, w, h]), 1.0


def test_follow_track_figures(tmp_path):
    files = []
    for i in range(6):
        path = tmp_path / f'{i}.jpg'
        cv2.imwrite(str(path), np.zeros((20, 30, 3), np.uint8))
        files.append(str(path))
    boxes = [[2.0 + i, 3.0, 10.0, 8.0] for i in range(6)]
    # frames 0, 2, 4, 5 picked; the others are interpolated, not measured
    labels = {i: boxes[i] for i in (0, 2, 4, 5)}
    track = ('t', files, labels)

    same = follow.follow_track(lambda: _Replay(boxes, 1.0), track, 10)
    assert same['iou'] == pytest.approx(1.0)
    assert same['measured'] == 3 and same['frames'] == 5
    assert same['log_r'] == pytest.approx(0.0)

    small = follow.follow_track(lambda: _Replay(boxes, 0.4), track, 10)
    assert small['iou'] == pytest.approx(0.16)
    assert small['log_r'] == pytest.approx(math.log(0.4))
    assert small['lost_scale'] == 1.0  # under half the label's size
    # --max-frames 2 follows frames 1-2 only: one picked frame measured
    short = follow.follow_track(lambda: _Replay(boxes, 1.0), track, 2)
    assert short['measured'] == 1 and short['frames'] == 2
