# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""tools/track_video.py (mmusot-track): video / frame folder / OTB folder
inputs, outputs, and clear failures (message, non-zero exit) on bad input."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.script_loader import REPO, load_script
from tests.test_apis.tiny_models import (
    moving_square,
    write_otb_sequence,
    write_tiny_usot_config,
)

NUM_FRAMES = 5
SIZE = (120, 160)  # H, W


pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def demo():
    # tools/track_video.py is a thin wrapper around this module
    import mmusot.cli.track_video as module

    assert load_script('tools/track_video.py').main is module.main
    return module


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """A synthetic mp4, the same frames as an OTB folder, and a config."""
    root = tmp_path_factory.mktemp('demo')
    frames, boxes = moving_square(NUM_FRAMES, size=SIZE)
    video = root / 'square.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, SIZE[::-1]
    )
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    seq = write_otb_sequence(root / 'otb', 'Square', frames, boxes)
    config = write_tiny_usot_config(root / 'tiny.py')
    return dict(root=root, video=video, seq=seq, boxes=boxes, config=config)


def read_video(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_video_input(demo, clip, tmp_path, capsys):
    out = tmp_path / 'out' / 'result.mp4'
    box = clip['boxes'][0]
    summary = demo.main(
        [
            str(clip['video']),
            '--init-box',
            ','.join(f'{v:g}' for v in box),
            '--config',
            clip['config'],
            '--out',
            str(out),
        ]
    )
    assert summary['frames'] == NUM_FRAMES and summary['mean_iou'] is None
    written = read_video(out)
    assert len(written) == NUM_FRAMES
    assert written[0].shape == (*SIZE, 3)
    # the box is drawn in red on the first frame (the init box)
    x, y, w, h = (int(v) for v in box)
    edge = written[0][y, x + 2 : x + w - 2].astype(int)
    assert (edge[:, 2] > 150).mean() > 0.8 and (edge[:, 1] < 100).mean() > 0.8
    boxes = np.loadtxt(tmp_path / 'out' / 'result.txt', delimiter=',')
    assert boxes.shape == (NUM_FRAMES, 4)
    np.testing.assert_allclose(boxes[0], box)
    assert np.isfinite(boxes).all()
    printed = capsys.readouterr().out
    assert f'{NUM_FRAMES} frames; tracking' in printed and 'fps' in printed


def test_otb_folder_gives_init_box_and_live_iou(demo, clip, tmp_path, capsys):
    out = tmp_path / 'otb.mp4'
    summary = demo.main(
        [str(clip['seq']), '--config', clip['config'], '--out', str(out)]
    )
    assert summary['frames'] == NUM_FRAMES == summary['iou_frames']
    boxes = np.loadtxt(tmp_path / 'otb.txt', delimiter=',')
    np.testing.assert_allclose(boxes[0], clip['boxes'][0])
    # the mean IoU is the mean over frames of IoU(box, ground truth)
    gt = clip['boxes']

    def iou(a, b):
        x1, y1 = np.maximum(a[:2], b[:2])
        x2, y2 = np.minimum(a[:2] + a[2:], b[:2] + b[2:])
        inter = max(x2 - x1, 0) * max(y2 - y1, 0)
        return inter / (a[2] * a[3] + b[2] * b[3] - inter)

    expected = np.mean([iou(b, g) for b, g in zip(boxes, gt)])
    assert summary['mean_iou'] == pytest.approx(expected, abs=1e-3)
    # printed as computed (the expected value is from the rounded boxes)
    assert f'mean IoU {summary["mean_iou"]:.3f}' in capsys.readouterr().out
    assert len(read_video(out)) == NUM_FRAMES


def test_plain_folder_with_gt_file_and_max_frames(demo, clip, tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    # frames are taken in natural order (f2 before f10)
    names = ['f10.png', 'f2.png', 'f1.png']
    from mmusot.apis.video import natural_key

    assert sorted(names, key=natural_key) == names[::-1]
    for i, path in enumerate(sorted((clip['seq'] / 'img').iterdir())):
        (folder / f'f{i + 1}.png').write_bytes(path.read_bytes())
    gt = tmp_path / 'gt.txt'
    gt.write_text(
        '\n'.join(' '.join(f'{v:g}' for v in b) for b in clip['boxes'])
    )
    summary = demo.main(
        [
            str(folder),
            '--gt',
            str(gt),
            '--config',
            clip['config'],
            '--out',
            str(tmp_path / 'f.mp4'),
            '--max-frames',
            '3',
        ]
    )
    assert summary['frames'] == 3 == summary['iou_frames']
    assert summary['mean_iou'] > 0


def test_bad_inputs_fail_clearly(demo, clip, tmp_path):
    config = ['--config', clip['config'], '--out', str(tmp_path / 'o.mp4')]
    box = ['--init-box', '40,40,24,24']
    not_video = tmp_path / 'broken.mp4'
    not_video.write_text('not a video')
    empty = tmp_path / 'empty'
    empty.mkdir()
    cases = [
        ([str(tmp_path / 'missing.mp4'), *box], 'input not found'),
        ([str(not_video), *box], 'cannot (open|read a frame from) video'),
        (['--webcam', '97', *box], 'cannot open webcam 97'),
        ([str(empty), *box], 'no image'),
        ([str(clip['video'])], 'no initial box'),
        ([str(clip['video']), '--init-box', '1,2,3'], 'x,y,w,h'),
        (
            [str(clip['video']), '--init-box', '400,40,24,24'],
            'initial box: .*outside the 160x120 frame',
        ),
        ([str(clip['video']), '--init-box', '4,4,0,9'], 'no area'),
        ([str(clip['video']), *box, '--gt', 'nope.txt'], 'not found'),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=message) as info:
            demo.main(argv + config)
        assert str(info.value.code).startswith('error: '), argv
    for argv, message in (
        (['--config', str(tmp_path / 'no.py')], 'config file not found'),
        (
            ['--config', clip['config'], '--checkpoint', 'no.pth'],
            'checkpoint file not found: no.pth',
        ),
    ):
        with pytest.raises(SystemExit, match=message):
            demo.main([str(clip['video']), *box, *argv])
    # neither or both of input / --webcam: argparse's usage error (code 2)
    with pytest.raises(SystemExit) as info:
        demo.main([*box, *config])
    assert info.value.code == 2


def test_exit_status_and_message_of_the_script(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / 'tools' / 'demo.py'),
            str(tmp_path / 'missing.mp4'),
            '--init-box',
            '1,1,5,5',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f'error: input not found: {tmp_path / "missing.mp4"}'
    )
