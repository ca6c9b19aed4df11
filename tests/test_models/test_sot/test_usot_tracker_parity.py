# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""PARITY: mmusot's whole tracking path reproduces the official tracker.

``parity/tracker_golden.npz`` holds the official USOT tracker's boxes on
real sequences (Crossing, bag, Surfer) with deterministic weights whose
response follows the image content (``parity/README.md``, "Tracker
fixture"). The official-layout weights are rebuilt (formula with frequency
0.31, plus the stored BN/gain overrides), converted with
``tools/convert_usot_checkpoint.py`` and loaded into the model of
``configs/usot/usot_r50-official_test-otb-folder.py``; frames go through
that config's dataset pipeline (``LoadImageFromFile``, BGR uint8) and the
model's ``test_step`` (``TrackDataPreprocessor`` → ``predict``), i.e. the
path of ``tools/test.py``, on 2 CPU threads like the fixture.

* ``crop_mode='official'`` must follow ``{seq}/boxes`` (GT used as given)
  with a per-frame IoU >= 0.99 on every frame.
* With the config's 1-based protocol (``one_based_gt=True``) it must follow
  ``{seq}/protocol_boxes``, and mmtrack's ``SOTMetric`` must score the run
  as the official boxes.

Each frame is checked on its own (teacher forcing, :func:`force_state`):
before frame t the tracker's centre and size are set to the official
box of frame t - 1; everything else (memory queue, template, search size)
is the tracker's own. The fixture holds the rounding of the CPU it was
made on, and left to run freely the tracking loop amplifies a rounding
difference until one argmax flips: on an AVX2 AMD EPYC our free run (and
the code before the "Learning that pays" work, equally) keeps IoU >= 0.99
up to frame 80 of Crossing and frame 10 of the bag protocol run, then
parts, at another frame again with oneDNN's convolutions off. Forced,
every frame of the three sequences stays >= 0.99 there too.

``crop_mode='exact'`` (the default float crop) parts from the official
trajectories within a few frames on these chaotic random weights (see the
fixture README); it is not gated here.
"""

import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('mmtrack')

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.evaluator import Evaluator  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

from tests.fixtures import REPO, require_shared  # noqa: E402
from tests.official_layout import (  # noqa: E402
    build_formula_state_dict,
    read_key_list,
)
from tests.script_loader import load_script  # noqa: E402

CONFIG = osp.join(
    REPO, 'configs', 'usot', 'usot_r50-official_test-otb-folder.py'
)
SEQUENCES = ('Crossing', 'bag', 'Surfer')
#: The README's tolerance: minimum per-frame IoU against the official run.
MIN_IOU = 0.99
#: Fused scores: the README measured <= 1.2e-5 with the official crop.
SCORE_ATOL = 1e-3
#: SOTMetric values are percentages; one frame at one threshold of a
#: 60-frame video moves the success by 100 / 60 / 21 = 0.08.
METRIC_ATOL = 0.1
#: CPU threads of the official run (another count is another reduction
#: order; see the README).
NUM_THREADS = 2
#: Sequence of the 1-based protocol check: fractional GT, frame clamps.
PROTOCOL_SEQUENCE = 'bag'


def fixture_state_dict(golden) -> dict:
    """The official-layout weights of the tracker fixture."""
    parity = require_shared('docs/parity')
    specs = read_key_list(str(parity / 'usot_official_keys.txt'))
    frequency = float(golden['calibration/formula_frequency'])
    state = dict(build_formula_state_dict(specs, frequency))
    overrides = [
        key[len('calibration/') :]
        for key in golden.files
        if key.startswith('calibration/')
    ]
    overrides = [key for key in overrides if key in state]
    assert len(overrides) == 59, len(overrides)
    for key in overrides:
        value = torch.from_numpy(golden[f'calibration/{key}'])
        assert value.shape == state[key].shape, key
        state[key] = value.to(torch.float32)
    return state


@pytest.fixture(scope='module')
def golden():
    return np.load(require_shared('docs/parity/tracker_golden.npz'))


@pytest.fixture(scope='module')
def config():
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    import mmusot  # noqa: F401  (registers USOT, OTBFolderDataset)

    cfg = Config.fromfile(CONFIG)
    cfg.test_dataloader.dataset.data_root = str(
        require_shared('data/sot_eval')
    )
    return cfg


@pytest.fixture(scope='module')
def model(golden, config, tmp_path_factory):
    from mmtrack.registry import MODELS

    tmp = tmp_path_factory.mktemp('tracker_parity')
    src, dst = tmp / 'usot_official.pth', tmp / 'usot_mmusot.pth'
    torch.save(dict(state_dict=fixture_state_dict(golden)), src)
    converter = load_script('tools/convert_usot_checkpoint.py')
    assert converter.main([str(src), str(dst)]) == 0
    model = MODELS.build(config.model)
    load_checkpoint(model, str(dst), map_location='cpu', strict=True)
    return model.eval()


@pytest.fixture
def two_threads():
    saved = torch.get_num_threads()
    torch.set_num_threads(NUM_THREADS)
    yield
    torch.set_num_threads(saved)


def force_state(model, box, origin):
    """Set the tracker's state to an official output box (teacher forcing).

    The official output is ``[top-left clamped at 0, size]``: the size is
    the state's; the centre is recovered where the corner was not clamped.
    """
    memo = model.memo
    box = torch.as_tensor(box, dtype=memo.size.dtype)
    size = box[2:].clone()
    center = memo.center.clone()
    for axis in range(2):
        if box[axis] - origin > 0:
            center[axis] = box[axis] - origin + size[axis] / 2
    memo.center, memo.size = center, size


def track(model, config, sequence, num_frames, teacher=None, **test_cfg):
    """Run a sequence the way ``tools/test.py`` does.

    With ``teacher`` (official boxes), the state is set to the official
    box of frame t - 1 before frame t is tracked: each frame is then
    checked on its own, so that a rounding flip does not carry over.

    Returns:
        tuple: boxes (N, 4) float64 ``[x, y, w, h]``, scores (N,), the
        frame names and the SOTMetric results of the run.
    """
    from mmtrack.registry import DATASETS

    dataset = DATASETS.build(
        dict(
            config.test_dataloader.dataset,
            sequences=[sequence],
            max_frames=num_frames,
        )
    )
    evaluator = Evaluator(config.test_evaluator)
    saved = dict(model.test_cfg)
    model.test_cfg.update(test_cfg)
    boxes, scores, names = [], [], []
    try:
        with torch.no_grad():
            origin = 1.0 if model.usot_test_cfg().one_based_gt else 0.0
            for frame_id in range(num_frames):
                if teacher is not None and frame_id >= 2:
                    force_state(model, teacher[frame_id - 1], origin)
                batch = pseudo_collate([dataset.prepare_data((0, frame_id))])
                outputs = model.test_step(batch)
                evaluator.process(outputs, batch)
                pred = outputs[0].pred_track_instances
                boxes.append(pred.bboxes[0].double().tolist())
                scores.append(float(pred.scores[0]))
                names.append(osp.basename(outputs[0].metainfo['img_path']))
    finally:
        model.test_cfg.clear()
        model.test_cfg.update(saved)
    boxes = np.asarray(boxes)
    boxes[:, 2:] -= boxes[:, :2]
    return boxes, np.asarray(scores), names, evaluator.evaluate(1)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate((boxes[:, :2], boxes[:, :2] + boxes[:, 2:]), 1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row IoU of (N, 4) ``[x, y, w, h]`` boxes."""
    lo = np.maximum(a[:, :2], b[:, :2])
    hi = np.minimum(a[:, :2] + a[:, 2:], b[:, :2] + b[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    union = np.prod(a[:, 2:], axis=1) + np.prod(b[:, 2:], axis=1) - inter
    return inter / union


def check_run(boxes, scores, ref_boxes, ref_scores, label):
    iou = box_iou(boxes, ref_boxes)
    worst = int(np.argmin(iou))
    assert iou.min() >= MIN_IOU, (
        f'{label}: frame {worst} IoU {iou[worst]:.4f} (ours '
        f'{boxes[worst].round(3).tolist()}, official '
        f'{ref_boxes[worst].round(3).tolist()}); first frame below '
        f'{MIN_IOU}: {int(np.argmax(iou < MIN_IOU))}'
    )
    assert scores[0] == -1.0
    score_diff = np.abs(scores[1:] - ref_scores[1:]).max()
    assert score_diff <= SCORE_ATOL, f'{label}: score diff {score_diff:.2g}'


@pytest.mark.parametrize('sequence', SEQUENCES)
def test_official_crop_follows_the_official_tracker(
    golden, config, model, two_threads, sequence
):
    ref_boxes = golden[f'{sequence}/boxes']
    frames = golden[f'{sequence}/frames'].tolist()
    boxes, scores, names, _ = track(
        model,
        config,
        sequence,
        len(frames),
        teacher=ref_boxes,
        crop_mode='official',
        one_based_gt=False,
    )
    assert names == frames
    assert np.allclose(boxes[0], golden[f'{sequence}/init_box'], atol=1e-4)
    if sequence == 'Surfer':  # a 0.35 % target: the 271 search
        assert model.memo.instance_size == 271
    check_run(boxes, scores, ref_boxes, golden[f'{sequence}/scores'], sequence)


def test_one_based_protocol_follows_the_official_protocol(
    golden, config, model, two_threads
):
    from mmtrack.evaluation.functional import eval_sot_ope

    sequence = PROTOCOL_SEQUENCE
    ref_boxes = golden[f'{sequence}/protocol_boxes']
    assert config.model.test_cfg.one_based_gt
    assert config.model.test_cfg.crop_mode == 'official'
    boxes, scores, _, metrics = track(
        model, config, sequence, len(ref_boxes), teacher=ref_boxes
    )
    # frame 0 reports the GT box itself, in the file's coordinates
    assert np.allclose(boxes[0], golden[f'{sequence}/init_box'], atol=1e-4)
    check_run(
        boxes,
        scores,
        ref_boxes,
        golden[f'{sequence}/protocol_scores'],
        f'{sequence} (protocol)',
    )
    # SOTMetric compares the run with the GT file: it scores it as the
    # official boxes (up to a frame at a threshold)
    gt = np.loadtxt(
        require_shared(f'data/sot_eval/{sequence}/groundtruth_rect.txt'),
        delimiter=',',
    )[: len(ref_boxes)]
    official = eval_sot_ope(
        [list(xywh_to_xyxy(ref_boxes))], [xywh_to_xyxy(gt)]
    )
    for key in ('success', 'norm_precision', 'precision'):
        assert metrics[f'sot/{key}'] == pytest.approx(
            official[key], abs=METRIC_ATOL
        ), key
