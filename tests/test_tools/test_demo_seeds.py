# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The demo-seeds benchmark's scoring and its committed reference track."""

import numpy as np
import pytest

from mmusot.cli.learn_and_track import DEFAULT_INIT_BOX
from tests.script_loader import load_script

demo_seeds = load_script('tools/benchmark/demo_seeds.py')


def reference():
    return demo_seeds.read_boxes(demo_seeds.REFERENCE)


def test_reference_is_the_demo_clip_from_its_init_box():
    ref = reference()
    assert ref.shape == (132, 4)
    np.testing.assert_array_equal(
        ref[0], [float(v) for v in DEFAULT_INIT_BOX.split(',')]
    )
    assert np.isfinite(ref).all() and (ref[:, 2:] > 100).all()
    # inside the 1280x720 frame (a pixel of slack for rounding)
    assert (ref[:, :2] >= -1).all()
    assert (ref[:, 0] + ref[:, 2] <= 1281).all()
    assert (ref[:, 1] + ref[:, 3] <= 721).all()
    # the bunny grows: several times the first box's area by frame 60
    area = ref[:, 2] * ref[:, 3]
    assert area[60] > 3 * area[0]


def test_score_of_the_reference_itself_and_of_a_shrinking_box():
    ref = reference()
    same = demo_seeds.score_track(ref.copy(), ref)
    assert same['mean_iou'] == pytest.approx(1.0)
    assert same['min_size_ratio'] == pytest.approx(1.0)
    assert same['passed']

    # the known failure: the box shrinks onto the face (0.4 of the side)
    shrunk = ref.copy()
    centre = ref[:, :2] + ref[:, 2:] / 2
    shrunk[40:, 2:] = ref[40:, 2:] * 0.4
    shrunk[40:, :2] = centre[40:] - shrunk[40:, 2:] / 2
    score = demo_seeds.score_track(shrunk, ref)
    assert score['min_size_ratio'] == pytest.approx(0.4)
    # IoU of a centred box 0.4 of the side: 0.16 on 92 of 132 frames
    expected = (40 + 92 * 0.16) / 132
    assert score['mean_iou'] == pytest.approx(expected)
    assert not score['passed']


def test_iou_of_shifted_boxes_and_length_mismatch():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 0.0, 10.0, 10.0]])
    np.testing.assert_allclose(demo_seeds.iou_xywh(a, b), [50 / 150])
    with pytest.raises(ValueError, match='reference of 132'):
        demo_seeds.score_track(reference()[:-1], reference())
