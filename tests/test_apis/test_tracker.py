# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot.apis: build_tracker, Tracker, MultiTracker.

* mechanics and output format with mmtrack's own SiamRPN++ (random
  weights) on a synthetic moving square;
* the API gives the boxes ``tools/test.py`` gives (USOT R50, random
  weights, real frames);
* several targets in one network equal one tracker per target, and the
  adapter of mmtrack's memo contract;
* input validation and error messages.
"""

import numpy as np
import pytest
import torch

from tests.fixtures import require_shared
from tests.script_loader import load_script
from tests.test_apis.tiny_models import (
    OTB_FOLDER_CONFIG,
    SIAMRPN_CONFIG,
    moving_square,
    save_init_checkpoint,
    write_tiny_usot_config,
)

NO_PRETRAINED = {'model.backbone.init_cfg': None}


pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    return write_tiny_usot_config(
        tmp_path_factory.mktemp('cfg') / 'tiny_usot.py'
    )


@pytest.fixture(scope='module')
def tiny_model(tiny_config):
    from mmusot.apis import build_tracker

    torch.manual_seed(0)
    return build_tracker(tiny_config)


def test_siamrpn_tracks_a_moving_square(tmp_path):
    from mmusot.apis import Tracker, build_tracker

    checkpoint = save_init_checkpoint(
        SIAMRPN_CONFIG, tmp_path / 'siamrpn.pth', cfg_options=NO_PRETRAINED
    )
    model = build_tracker(SIAMRPN_CONFIG, checkpoint, 'cpu', NO_PRETRAINED)
    assert type(model).__name__ == 'SiamRPN' and not model.training
    assert 'test_dataloader' in model.cfg
    frames, truth = moving_square(2, size=(160, 200), side=40)
    tracker = Tracker(model)
    assert tracker.frame_id == -1
    tracker.init(frames[0], truth[0])
    # OPE: the first "prediction" is the given box, score -1 (mmtrack).
    np.testing.assert_allclose(tracker.box, truth[0])
    assert tracker.score == -1.0 and tracker.frame_id == 0
    # The tracker keeps its own state: none is left on the model.
    assert not hasattr(model, 'memo')
    for i, frame in enumerate(frames[1:], start=1):
        box, score = tracker.track(frame)
        assert isinstance(box, np.ndarray) and box.shape == (4,)
        assert box.dtype == np.float64 and np.isfinite(box).all()
        assert isinstance(score, float)
        assert box[2] > 0 and box[3] > 0
        assert tracker.frame_id == i
    # grey frames are expanded to BGR, as cv2.imread does for grey files
    grey = frames[-1][..., 0].copy()
    box, _ = tracker.track(grey)
    assert box.shape == (4,) and np.isfinite(box).all()


def test_api_boxes_equal_tools_test_py(tmp_path):
    """Same weights, same first box: the API reproduces tools/test.py."""
    from mmusot.apis import Tracker, track_sequence
    from mmusot.evaluation import load_sequences, read_track_results

    data = require_shared('data/sot_eval')
    num_frames = 3
    config = str(OTB_FOLDER_CONFIG)
    checkpoint = save_init_checkpoint(config, tmp_path / 'usot.pth')
    test_tool = load_script('tools/test.py')
    saved = tmp_path / 'saved'
    test_tool.main(
        [
            config,
            checkpoint,
            '--work-dir',
            str(tmp_path / 'work'),
            '--cfg-options',
            f'test_dataloader.dataset.data_root={data}',
            'test_dataloader.dataset.sequences=[Crossing]',
            f'test_dataloader.dataset.max_frames={num_frames}',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False',
            f'test_evaluator.saved_track_res_path={saved}',
        ]
    )
    expected = read_track_results(str(saved / 'Crossing.txt'))
    assert expected.shape == (num_frames, 4)

    import cv2

    (info,) = load_sequences(str(data), ['Crossing'], num_frames)
    tracker = Tracker.from_config(config, checkpoint)
    boxes, scores = track_sequence(
        tracker, (cv2.imread(p) for p in info.img_paths), info.gt_xywh[0]
    )
    # SOTMetric writes 4 decimals.
    np.testing.assert_allclose(boxes, expected, atol=6e-5, rtol=0)
    assert not np.allclose(boxes[1:], boxes[0])  # it did move
    assert scores[0] == -1.0 and np.all(np.isfinite(scores))


def test_multi_tracker_equals_one_tracker_per_target(tiny_model):
    from mmusot.apis import MultiTracker, Tracker

    frames, truth = moving_square(3)
    second = np.array([100.0, 70.0, 30.0, 30.0])
    singles = []
    for box in (truth[0], second):
        tracker = Tracker(tiny_model)
        tracker.init(frames[0], box)
        singles.append([tracker.track(f) for f in frames[1:]])

    multi = MultiTracker(tiny_model, batch=False)  # one after the other
    ids = multi.init_many(frames[0], {'square': truth[0], 'other': second})
    assert ids == ['square', 'other'] == multi.target_ids
    for t, frame in enumerate(frames[1:]):
        results = multi.track_many(frame)
        for target_id, single in zip(ids, singles):
            box, score = results[target_id]
            np.testing.assert_array_equal(box, single[t][0])
            assert score == single[t][1]
    # a target added later starts from its own first frame
    (new_id,) = multi.init_many(frames[-1], [second])
    assert new_id == 0 and len(multi.target_ids) == 3
    multi.remove('other')
    assert multi.target_ids == ['square', 0]
    with pytest.raises(KeyError, match='no target'):
        multi.remove('other')
    with pytest.raises(ValueError, match='already tracked'):
        multi.init_many(frames[-1], {'square': truth[0]})


def test_memo_adapter_tracks_as_the_state_path(tiny_model, monkeypatch):
    """A model without ``init_target`` / ``track_targets`` (mmtrack's memo
    contract, e.g. SiamRPN++) goes through :class:`MemoTarget`, one target
    after the other: for USOT the same boxes as its explicit states."""
    from mmusot.apis import InferenceEngine, MultiTracker
    from mmusot.apis.tracker import MemoTarget
    from mmusot.tracking import USOTTrackState

    frames, truth = moving_square(3)
    boxes = {'a': truth[0], 'b': [90.0, 60.0, 28.0, 28.0]}
    plain = MultiTracker(tiny_model, batch=False)
    assert plain.engine.uses_states
    plain.init_many(frames[0], boxes)
    assert isinstance(plain.state('a'), USOTTrackState)
    expected = [plain.track_many(f) for f in frames[1:]]
    assert plain.state('a').frame_id == 2

    # the engine treats USOT as a model of mmtrack's memo contract
    monkeypatch.setattr(InferenceEngine, 'uses_states', False)
    adapted = MultiTracker(tiny_model)
    adapted.init_many(frames[0], boxes)
    assert isinstance(adapted.state('a'), MemoTarget)
    got = [adapted.track_many(f) for f in frames[1:]]
    assert adapted.state('b').frame_id == 2
    assert not hasattr(tiny_model, 'memo')  # swapped back out
    for exp, res in zip(expected, got):
        for key in boxes:
            np.testing.assert_array_equal(res[key][0], exp[key][0])
            assert res[key][1] == exp[key][1]


def test_usot_batches_targets_through_one_network_pass(tiny_model):
    """USOT's track_targets: the same boxes as one tracker per target,
    with one backbone pass per frame for all targets (same search size)."""
    from mmusot.apis import MultiTracker

    frames, truth = moving_square(4)
    boxes = {'a': truth[0], 'b': [90.0, 60.0, 28.0, 28.0], 'c': truth[0]}
    plain = MultiTracker(tiny_model, batch=False)
    plain.init_many(frames[0], boxes)
    expected = [plain.track_many(f) for f in frames[1:]]

    batch_sizes = []
    hook = tiny_model.backbone.register_forward_hook(
        lambda module, args, out: batch_sizes.append(args[0].shape[0])
    )
    try:
        batched = MultiTracker(tiny_model)
        batched.init_many(frames[0], boxes)
        batch_sizes.clear()
        got = [batched.track_many(f) for f in frames[1:]]
    finally:
        hook.remove()
    assert batch_sizes == [3, 3, 3]
    for exp, res in zip(expected, got):
        for key in boxes:
            np.testing.assert_allclose(res[key][0], exp[key][0], atol=1e-3)
            assert res[key][1] == pytest.approx(exp[key][1], abs=1e-4)
    # identical targets stay identical, whatever their batch position
    for res in got:
        np.testing.assert_allclose(res['a'][0], res['c'][0], atol=1e-4)


@pytest.mark.parametrize(
    'box,match',
    [
        ((10, 10, 20), '4 numbers'),
        ((10, 10, float('nan'), 20), 'not finite'),
        ((10, 10, 0, 20), 'no area'),
        ((10, 10, 20, -3), 'no area'),
        ((150, 10, 40, 40), 'outside the 160x120 frame'),
        ((-40, -40, 30, 30), 'outside'),
        ('a,b,c,d', '4 numbers'),
    ],
)
def test_bad_init_box_is_a_clear_value_error(tiny_model, box, match):
    from mmusot.apis import Tracker

    frames, _ = moving_square(1)
    tracker = Tracker(tiny_model)
    with pytest.raises(ValueError, match=match):
        tracker.init(frames[0], box)
    assert tracker.frame_id == -1


def test_bad_frames_and_call_order(tiny_model):
    from mmusot.apis import Tracker

    frames, truth = moving_square(2)
    tracker = Tracker(tiny_model)
    with pytest.raises(RuntimeError, match='before Tracker.init'):
        tracker.track(frames[0])
    with pytest.raises(TypeError, match='uint8'):
        tracker.init(frames[0].astype(np.float32), truth[0])
    with pytest.raises(TypeError, match='numpy array'):
        tracker.init(frames[0].tolist(), truth[0])
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        tracker.init(np.zeros((120, 160, 4), np.uint8), truth[0])
    tracker.init(frames[0], truth[0])
    with pytest.raises(ValueError, match='differs from the 160x120'):
        tracker.track(np.zeros((100, 160, 3), np.uint8))


def test_build_tracker_errors(tmp_path, tiny_config):
    from mmusot.apis import build_tracker
    from mmusot.engine import MissingCheckpointError

    with pytest.raises(FileNotFoundError, match='config file not found'):
        build_tracker(str(tmp_path / 'nope.py'))
    with pytest.raises(FileNotFoundError, match='not among the configs'):
        build_tracker('mmtrack::sot/nope/nope.py')
    with pytest.raises(FileNotFoundError, match='not installed'):
        build_tracker('no_such_package_xyz::a.py')
    with pytest.raises(MissingCheckpointError, match='missing.pth'):
        build_tracker(tiny_config, str(tmp_path / 'missing.pth'))
    # without a checkpoint, a local init_cfg checkpoint must exist
    with pytest.raises(MissingCheckpointError, match='backbone.init_cfg'):
        build_tracker(
            tiny_config,
            cfg_options={
                'model.backbone.init_cfg': dict(
                    _delete_=True,
                    type='Pretrained',
                    checkpoint=str(tmp_path / 'bb.pth'),
                )
            },
        )


def test_checkpoint_is_loaded(tmp_path, tiny_config):
    from mmusot.apis import build_tracker

    checkpoint = save_init_checkpoint(tiny_config, tmp_path / 'w.pth', 3)
    state = torch.load(checkpoint, weights_only=False)['state_dict']
    model = build_tracker(tiny_config, checkpoint)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], msg=key)


def test_vot_config_tracks_with_ope(tmp_path):
    from mmusot.apis import Tracker, build_tracker

    config = str(OTB_FOLDER_CONFIG).replace('otb-folder', 'vot2018')
    model = build_tracker(
        config, save_init_checkpoint(config, tmp_path / 'w.pth')
    )
    assert model.test_cfg.test_mode == 'VOT'
    tracker = Tracker(model)
    assert model.test_cfg.test_mode == 'OPE'
    frames, truth = moving_square(2)
    tracker.init(frames[0], truth[0])
    box, _ = tracker.track(frames[1])
    assert box.shape == (4,) and box[2] > 1  # a box, not a VOT state
