# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The ONNX export and the torch-free runtime (:mod:`mmusot.runtime`).

A tiny USOT (the MobileNetV2 network, PyTorch's default init) is exported
once per module; the runtime tracker must then track as the PyTorch
tracker of the same weights does, in both crop modes, batched and not, on
ONNX Runtime and OpenVINO; run without torch; and refuse bad folders and
non-USOT models with a message naming the file.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('mmtrack')
pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

from mmusot.apis import MultiTracker as TorchMultiTracker  # noqa: E402
from mmusot.apis import Tracker as TorchTracker  # noqa: E402
from mmusot.apis import build_tracker  # noqa: E402
from mmusot.apis.onnx_export import (  # noqa: E402
    ExportError,
    export_model,
    verify_export,
)
from mmusot.runtime import (  # noqa: E402
    DeployError,
    DeployPackage,
    MultiTracker,
    Tracker,
)
from mmusot.runtime.package import FORMAT_VERSION  # noqa: E402
from tests.test_apis.tiny_models import (  # noqa: E402
    SIAMRPN_CONFIG,
    moving_square,
    write_tiny_usot_config,
)

#: The issue's bar for the per-frame IoU between the two trackers.
MIN_IOU = 0.99
NUM_FRAMES = 8


def box_iou(a, b) -> float:
    lo = np.maximum(a[:2], b[:2])
    hi = np.minimum(a[:2] + a[2:], b[:2] + b[2:])
    inter = np.prod(np.clip(hi - lo, 0, None))
    return float(inter / (a[2] * a[3] + b[2] * b[3] - inter))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny model and its export folder."""
    import torch

    tmp = tmp_path_factory.mktemp('runtime')
    config = write_tiny_usot_config(tmp / 'tiny_usot.py')
    torch.manual_seed(0)
    model = build_tracker(config, None, 'cpu')
    package = export_model(model, str(tmp / 'onnx'), config)
    return model, package


@pytest.fixture(scope='module')
def clip():
    frames, boxes = moving_square(NUM_FRAMES, size=(144, 192), side=28)
    return frames, boxes


def test_export_writes_checked_graphs_and_deploy_json(tiny):
    model, package = tiny
    data = json.loads(open(f'{package.folder}/deploy.json').read())
    assert data['format_version'] == FORMAT_VERSION
    assert data['test_cfg'] == json.loads(
        json.dumps(package.test_cfg.__dict__)
    )
    geometry = package.geometry
    assert geometry.feature_sizes == {127: 15, 255: 31, 271: 33}
    assert (geometry.stride, geometry.pool_size, geometry.channels) == (
        8,
        7,
        128,
    )
    errors = verify_export(model, package)
    assert set(errors) >= {'features', 'cls_logits', 'reg', 'memory_logits'}
    assert max(errors.values()) < 1e-3, errors


@pytest.mark.parametrize('crop_mode', ['exact', 'official'])
def test_runtime_tracks_as_pytorch(tiny, clip, crop_mode):
    model, package = tiny
    frames, boxes = clip
    model.test_cfg.update(crop_mode=crop_mode)
    try:
        reference = TorchTracker(model)
        runtime = Tracker(package, test_cfg=dict(crop_mode=crop_mode))
        reference.init(frames[0], boxes[0])
        runtime.init(frames[0], boxes[0])
        assert np.allclose(runtime.box, reference.box)
        for frame in frames[1:]:
            ref_box, ref_score = reference.track(frame)
            box, score = runtime.track(frame)
            assert box_iou(ref_box, box) >= MIN_IOU, (ref_box, box)
            assert abs(score - ref_score) < 1e-3
        assert runtime.frame_id == reference.frame_id == NUM_FRAMES - 1
    finally:
        model.test_cfg.update(crop_mode='exact')


def test_batched_targets_equal_single_ones(tiny, clip):
    _, package = tiny
    frames, boxes = clip
    small = boxes[0].copy()
    small[2:] = 6  # a tiny target: the 271 search, in its own group
    starts = {'a': boxes[0], 'b': boxes[0] + [40, 30, 0, 0], 'c': small}
    multi = MultiTracker(package)
    multi.init_many(frames[0], starts)
    singles = {}
    for key, box in starts.items():
        singles[key] = Tracker(package)
        singles[key].init(frames[0], box)
    assert multi.state('c').instance_size == 271
    for frame in frames[1:4]:
        found = multi.track_many(frame)
        for key, tracker in singles.items():
            box, _ = tracker.track(frame)
            assert box_iou(box, found[key][0]) >= MIN_IOU


def test_multitracker_follows_the_pytorch_one(tiny, clip):
    model, package = tiny
    frames, boxes = clip
    starts = [boxes[0], boxes[0] + [50, 40, 4, 0]]
    reference, runtime = TorchMultiTracker(model), MultiTracker(package)
    reference.init_many(frames[0], starts)
    runtime.init_many(frames[0], starts)
    for frame in frames[1:4]:
        expected, found = (
            reference.track_many(frame),
            runtime.track_many(frame),
        )
        for key in expected:
            assert box_iou(expected[key][0], found[key][0]) >= MIN_IOU


@pytest.mark.parametrize('backend', ['openvino', 'opencv'])
def test_other_backends_run_the_same_graphs(tiny, clip, backend):
    if backend == 'openvino':
        pytest.importorskip('openvino')
    _, package = tiny
    frames, boxes = clip
    trackers = [Tracker(package, name) for name in ('onnxruntime', backend)]
    for tracker in trackers:
        tracker.init(frames[0], boxes[0])
    for frame in frames[1:4]:
        ort_box, _ = trackers[0].track(frame)
        ov_box, _ = trackers[1].track(frame)
        assert box_iou(ort_box, ov_box) >= MIN_IOU


TORCH_FREE = """
import sys
sys.modules['torch'] = None  # any import of torch now fails
import numpy as np
from mmusot.runtime import Tracker
frames = np.load(sys.argv[2])
tracker = Tracker(sys.argv[1])
tracker.init(frames[0], [float(v) for v in sys.argv[3].split(',')])
boxes = [tracker.track(f)[0] for f in frames[1:]]
loaded = [m for m in ('torch', 'mmtrack', 'mmcv', 'mmdet')
          if sys.modules.get(m) is not None]
assert not loaded, loaded
np.save(sys.argv[4], np.array(boxes))
print('ok')
"""


def test_runtime_runs_without_torch(tiny, clip, tmp_path):
    _, package = tiny
    frames, boxes = clip
    np.save(tmp_path / 'frames.npy', np.stack(frames[:4]))
    out = subprocess.run(
        [
            sys.executable,
            '-c',
            TORCH_FREE,
            package.folder,
            str(tmp_path / 'frames.npy'),
            ','.join(str(v) for v in boxes[0]),
            str(tmp_path / 'boxes.npy'),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    tracker = Tracker(package)
    tracker.init(frames[0], boxes[0])
    expected = [tracker.track(f)[0] for f in frames[1:4]]
    assert np.allclose(np.load(tmp_path / 'boxes.npy'), expected)


# ------------------------------------------------------------ bad input
def copy_package(package, tmp_path):
    folder = tmp_path / 'copy'
    shutil.copytree(package.folder, folder)
    return folder


def test_missing_folder_and_file(tiny, tmp_path):
    _, package = tiny
    with pytest.raises(DeployError, match='no such exported tracker folder'):
        Tracker(str(tmp_path / 'nowhere'))
    folder = copy_package(package, tmp_path)
    (folder / 'head.onnx').unlink()
    with pytest.raises(DeployError, match=r'head\.onnx: missing'):
        Tracker(str(folder))
    (folder / 'deploy.json').unlink()
    with pytest.raises(DeployError, match=r'deploy\.json: missing'):
        DeployPackage.load(str(folder))


@pytest.mark.parametrize(
    'edit, message',
    [
        (lambda d: d.update(format_version=FORMAT_VERSION + 1), 'version'),
        (lambda d: d.update(format='something-else'), 'not an mmusot export'),
        (lambda d: d.pop('geometry'), 'malformed'),
        (lambda d: d['test_cfg'].update(crop_mode='bicubic'), 'crop_mode'),
    ],
)
def test_bad_deploy_json(tiny, tmp_path, edit, message):
    _, package = tiny
    folder = copy_package(package, tmp_path)
    path = folder / 'deploy.json'
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(DeployError, match=message) as err:
        DeployPackage.load(str(folder))
    assert 'deploy.json' in str(err.value)


def test_deploy_json_not_json(tiny, tmp_path):
    _, package = tiny
    folder = copy_package(package, tmp_path)
    (folder / 'deploy.json').write_text('{"format": ')
    with pytest.raises(DeployError, match='not readable JSON'):
        DeployPackage.load(str(folder))


def test_corrupt_graph_names_the_file(tiny, tmp_path):
    _, package = tiny
    folder = copy_package(package, tmp_path)
    (folder / 'kernel.onnx').write_bytes(b'not a graph')
    with pytest.raises(DeployError, match=r'kernel\.onnx: onnxruntime'):
        Tracker(str(folder))


def test_unknown_backend(tiny):
    _, package = tiny
    with pytest.raises(DeployError, match='unknown runtime backend'):
        Tracker(package, backend='tensorrt')


def test_non_usot_model_is_refused(tmp_path):
    model = build_tracker(
        SIAMRPN_CONFIG,
        None,
        'cpu',
        {'model.backbone.init_cfg': None},
    )
    with pytest.raises(ExportError, match='not a USOT model'):
        export_model(model, str(tmp_path / 'out'), 'siamrpn.py')


@pytest.mark.parametrize('mode', ['official', 'corrected'])
def test_numpy_memory_queue_selects_as_the_torch_one(mode):
    import torch

    from mmusot.models.sot.usot_memory import USOTMemoryQueue
    from mmusot.tracking.memory import NumpyMemoryQueue

    rng = np.random.default_rng(0)
    feats = rng.random((40, 2, 3, 3), dtype=np.float32)
    scores = rng.random(40, dtype=np.float32)
    flip = rng.random((2, 3, 3), dtype=np.float32)
    ours, theirs = NumpyMemoryQueue(7, mode), USOTMemoryQueue(7, mode)
    ours.reset(feats[0], flip)
    theirs.reset(torch.from_numpy(feats[0]), torch.from_numpy(flip))
    for feat, score in zip(feats[1:], scores[1:]):
        ours.append(feat, score)
        theirs.append(torch.from_numpy(feat), torch.tensor(score))
        assert np.array_equal(ours.build_queue(), theirs.build_queue().numpy())
        kernels, counts = ours.build_distinct_queue()
        ref_kernels, ref_counts = theirs.build_distinct_queue()
        assert np.array_equal(kernels, ref_kernels.numpy())
        expected = np.ones(len(kernels)) if ref_counts is None else ref_counts
        assert np.array_equal(counts, np.asarray(expected, np.float32))


@pytest.mark.parametrize(
    'center, side, out_size',
    [
        ((10.3, 20.7), 301.0, 255),  # mostly outside the frame
        ((96.5, 70.2), 57.0, 127),  # upscaled
        ((180.0, 130.0), 255.0, 255),  # same size, corner
        ((5.0, 5.0), 400.0, 271),
    ],
)
def test_host_exact_crop_equals_the_model_crop(center, side, out_size):
    import torch

    from mmusot.models.sot.usot_subwindow import crop_siamfc
    from mmusot.tracking.crops import crop_exact, exact_pad_value

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (144, 192, 3), dtype=np.uint8)
    image = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    pad = image.mean(dim=(0, 2, 3))
    assert np.allclose(pad.numpy(), exact_pad_value(frame), atol=1e-4)
    expected = crop_siamfc(
        image, torch.tensor([center]), torch.tensor([side]), out_size, pad
    )[0].permute(1, 2, 0)
    found = crop_exact(frame, center, side, out_size, exact_pad_value(frame))
    assert found.dtype == np.float32 and found.shape == (out_size,) * 2 + (3,)
    assert np.abs(found - expected.numpy()).max() < 0.05


def test_host_crops_refuse_a_non_finite_state():
    from mmusot.tracking.crops import crop_exact

    frame = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match='exact crop of a non-finite window'):
        crop_exact(frame, (np.nan, 3.0), 9.0, 15, np.zeros(3, np.float32))


def test_read_frame_names_an_unreadable_file(tmp_path):
    from mmusot.tracking.inputs import read_frame

    bad = tmp_path / 'frame.jpg'
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='frame.jpg: missing or not a'):
        read_frame(str(bad))
