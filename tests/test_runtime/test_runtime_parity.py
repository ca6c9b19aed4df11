# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""PARITY: the exported tracker reproduces the official tracker.

The ResNet-50 weights of ``parity/tracker_golden.npz`` (the tracker
fixture, see ``tests/test_models/test_sot/test_usot_tracker_parity.py``)
are exported with ``mmusot-export``'s code; the runtime tracker with
``crop_mode='official'`` must follow the official trajectories of the
three fixture sequences with IoU >= 0.99 on every frame, forced to the
official box before each frame as the PyTorch parity test is. A few
frames per sequence here (Surfer's small target takes the 271 search);
``tools/deploy/check_parity.py --golden`` runs all of them.
"""

import pytest
import torch

pytest.importorskip('mmtrack')
pytest.importorskip('onnxruntime')
pytest.importorskip('onnx')

from mmusot.apis import build_tracker  # noqa: E402
from mmusot.apis.onnx_export import export_model, verify_export  # noqa: E402
from tests.fixtures import require_shared  # noqa: E402
from tests.script_loader import load_script  # noqa: E402
from tests.test_models.test_sot.test_usot_tracker_parity import (  # noqa: E402
    CONFIG,
    fixture_state_dict,
)

FRAMES = 12
MIN_IOU = 0.99


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    import numpy as np

    golden = np.load(require_shared('docs/parity/tracker_golden.npz'))
    tmp = tmp_path_factory.mktemp('golden_export')
    src, dst = tmp / 'official.pth', tmp / 'mmusot.pth'
    torch.save(dict(state_dict=fixture_state_dict(golden)), src)
    converter = load_script('tools/convert_checkpoint.py')
    assert converter.main([str(src), str(dst)]) == 0
    model = build_tracker(CONFIG, str(dst), 'cpu')
    package = export_model(model, str(tmp / 'onnx'), CONFIG, str(dst))
    return model, package


def test_export_of_the_fixture_matches_pytorch(exported):
    model, package = exported
    errors = verify_export(model, package)
    assert max(errors.values()) < 1e-3, errors


def test_runtime_follows_the_official_tracker(exported):
    _, package = exported
    tool = load_script('tools/deploy/check_parity.py')
    rows = tool.check_golden(package.folder, threads=2, max_frames=FRAMES)
    assert [r['sequence'] for r in rows] == ['Crossing', 'bag', 'Surfer']
    assert [r['search'] for r in rows] == [255, 255, 271]
    for row in rows:
        assert row['frames'] == FRAMES
        assert row['min_iou'] >= MIN_IOU, row
