# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The GOT-10k toolkit adapter (mmusot.toolkits.GOT10kTracker).

* ``ExperimentGOT10k`` runs the adapter on a synthetic square laid out by
  :func:`mmusot.toolkits.otb_to_got10k`: an OpenCV tracker follows it
  (the toolkit's own AO / SR, checked against the result files), the
  result and timing files are where the server expects them, and the
  test subset gives the submission zip;
* with an mmtrack model (tiny USOT) the adapter's boxes equal those of
  :class:`mmusot.apis.Tracker` on the same frames.

Skips when the optional extra (``got10k``) is not installed.
"""

import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image

from mmusot.toolkits import GOT10kTracker, otb_to_got10k, pil_to_bgr
from tests.test_apis.tiny_models import (
    moving_square,
    save_init_checkpoint,
    write_otb_sequence,
    write_tiny_usot_config,
)

#: The toolkit writes boxes with 3 decimals.
RECORD_ATOL = 5e-4
#: An OpenCV tracker on a clean checkered square overlaps it well.
MIN_AO = 0.6


pytestmark = pytest.mark.usefixtures('torch_one_thread')


def _iou(a, b):
    """IoU of (N, 4) [x, y, w, h] boxes, no clipping."""
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return inter / union


def test_pil_to_bgr():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200  # red
    bgr = pil_to_bgr(Image.fromarray(rgb))
    assert bgr.shape == (2, 3, 3) and bgr.flags['C_CONTIGUOUS']
    assert (bgr[..., 2] == 200).all() and (bgr[..., :2] == 0).all()
    grey = pil_to_bgr(Image.fromarray(rgb[..., 0]))
    assert grey.shape == (2, 3, 3) and (grey == 200).all()


def test_experiment_got10k_tracks_a_square(tmp_path):
    pytest.importorskip('got10k')
    from got10k.experiments import ExperimentGOT10k

    from mmusot.apis import OpenCVTracker

    frames, truth = moving_square(12, size=(120, 160), side=30)
    write_otb_sequence(tmp_path / 'otb', 'square', frames, truth)
    root = tmp_path / 'got10k'
    for subset in ('val', 'test'):
        otb_to_got10k(str(tmp_path / 'otb'), str(root), subset=subset)

    tracker = GOT10kTracker(OpenCVTracker('MIL'), name='mil')
    results, reports = tmp_path / 'results', tmp_path / 'reports'
    experiment = ExperimentGOT10k(
        str(root), 'val', result_dir=str(results), report_dir=str(reports)
    )
    experiment.run(tracker)
    record = results / 'GOT-10k' / 'mil' / 'square' / 'square_001.txt'
    times = record.parent / 'square_time.txt'
    assert record.is_file() and times.is_file()
    assert not (record.parent / 'square_002.txt').exists()  # deterministic
    boxes = np.loadtxt(record, delimiter=',')
    assert boxes.shape == (12, 4)
    np.testing.assert_allclose(boxes[0], truth[0])
    assert len(np.loadtxt(times)) == 12
    assert len(tracker.scores) == 12

    performance = experiment.report(['mil'])['mil']
    ao = performance['overall']['ao']
    # the toolkit scores frames 1.. against the ground truth
    np.testing.assert_allclose(
        ao, _iou(boxes[1:], truth[1:]).mean(), atol=1e-3
    )
    assert ao > MIN_AO
    assert performance['overall']['sr'] == pytest.approx(
        (_iou(boxes[1:], truth[1:]) > 0.5).mean()
    )
    assert (reports / 'GOT-10k' / 'mil' / 'performance.json').is_file()

    # the test subset: first box only, and the server's zip
    test = ExperimentGOT10k(
        str(root), 'test', result_dir=str(results), report_dir=str(reports)
    )
    test.run(GOT10kTracker(OpenCVTracker('MIL'), name='mil_test'))
    assert test.report(['mil_test']) is None
    archive = results / 'GOT-10k' / 'mil_test.zip'
    with zipfile.ZipFile(archive) as handle:
        names = {osp.normpath(n) for n in handle.namelist()}
    assert {'square/square_001.txt', 'square/square_time.txt'} <= names


def test_model_boxes_equal_the_tracking_api(tmp_path):
    pytest.importorskip('got10k')
    from mmusot.apis import Tracker

    config = write_tiny_usot_config(tmp_path / 'tiny.py')
    checkpoint = save_init_checkpoint(config, tmp_path / 'tiny.pth')
    frames, truth = moving_square(4)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(str(tmp_path / f'{i:04d}.png'))  # lossless
        cv2.imwrite(paths[-1], frame)

    adapter = GOT10kTracker.from_config(config, checkpoint, name='tiny')
    assert adapter.name == 'tiny' and adapter.is_deterministic
    boxes, times = adapter.track(paths, truth[0])
    assert boxes.shape == (4, 4) and times.shape == (4,)

    reference = Tracker(adapter.tracker.model)
    reference.init(cv2.imread(paths[0]), truth[0])
    expected = [reference.track(cv2.imread(p)) for p in paths[1:]]
    np.testing.assert_array_equal(boxes[1:], [b for b, _ in expected])
    assert adapter.scores[1:] == [s for _, s in expected]
    assert adapter.scores[0] == -1.0
