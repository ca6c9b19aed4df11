# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Issue 19, tracking inputs and outputs: nothing comes out silently wrong.

``mmusot-track`` (:mod:`mmusot.cli.track_video`) and the tracking API
(:mod:`mmusot.apis`) on small broken inputs:

* frames and ground truth out of step (a missing frame in an OTB folder,
  a ``--gt`` file longer or shorter than the video) are errors naming
  both counts, not scores of shifted boxes;
* a frame of another size or an empty image file mid-way stops the run
  with the frame named, after writing the boxes (and the video) so far;
* unwritable outputs fail before the model is built;
* a first box larger than the frame is refused;
* a failed re-``init`` leaves no tracker following the old target, and a
  failed ``init_many`` starts nothing and uses up no id.
"""

import os

import cv2
import numpy as np
import pytest

from tests.test_apis.tiny_models import (
    moving_square,
    write_otb_sequence,
    write_tiny_usot_config,
)

NUM_FRAMES = 6
SIZE = (120, 160)  # H, W
INIT_BOX = '40,40,24,24'


pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    import torch

    from mmusot.apis import build_tracker

    config = write_tiny_usot_config(
        tmp_path_factory.mktemp('cfg') / 'tiny_usot.py'
    )
    torch.manual_seed(0)
    return build_tracker(config)


@pytest.fixture
def track(tiny_model, monkeypatch):
    """``mmusot-track`` with the tiny model (built once for the module);
    ``track.built`` counts the models the command asked for."""
    from mmusot.apis import Tracker
    from mmusot.cli import track_video

    built = []

    def from_config(cls, *args, **kwargs):
        built.append(args)
        return cls(tiny_model)

    monkeypatch.setattr(Tracker, 'from_config', classmethod(from_config))

    def run(*argv):
        return track_video.main([str(a) for a in argv])

    run.built = built
    return run


@pytest.fixture(scope='module')
def clip():
    return moving_square(NUM_FRAMES, size=SIZE)


def write_folder(folder, frames):
    folder.mkdir(parents=True)
    paths = []
    for i, frame in enumerate(frames):
        paths.append(folder / f'{i:04d}.png')
        cv2.imwrite(str(paths[-1]), frame)
    return paths


def write_video(path, frames):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, SIZE[::-1]
    )
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_gt(path, boxes):
    path.write_text('\n'.join(','.join(f'{v:g}' for v in b) for b in boxes))
    return path


def video_length(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def fails_with(run, *argv):
    with pytest.raises(SystemExit) as info:
        run(*argv)
    message = str(info.value.code)
    assert message.startswith('error: '), message
    return message


# ------------------------------------------- frames vs ground truth
def test_otb_folder_missing_a_frame_is_refused(track, clip, tmp_path):
    frames, boxes = clip
    seq = write_otb_sequence(tmp_path, 'Square', frames, boxes)
    os.remove(seq / 'img' / '0003.png')
    out = tmp_path / 'out.mp4'
    message = fails_with(track, seq, '--out', out)
    assert f'{seq / "img"}' in message
    assert f'{NUM_FRAMES} boxes for {NUM_FRAMES - 1} frames' in message
    assert 'groundtruth_rect.txt' in message
    # refused up front: nothing tracked, no model built
    assert not out.exists() and not track.built


def test_gt_file_of_another_length_than_the_folder(track, clip, tmp_path):
    frames, boxes = clip
    folder = tmp_path / 'frames'
    write_folder(folder, frames[:4])
    gt = write_gt(tmp_path / 'gt.txt', boxes)
    message = fails_with(
        track, folder, '--gt', gt, '--out', tmp_path / 'o.mp4'
    )
    assert f'{gt} has {NUM_FRAMES} boxes for 4 frames' in message
    assert str(folder) in message
    # even when --max-frames would stop before the missing frames
    message = fails_with(
        track, folder, '--gt', gt, '--max-frames', '2', '--out',
        tmp_path / 'o.mp4',
    )  # fmt: skip
    assert 'ground truth is long' in message


@pytest.mark.parametrize('gt_lines', [NUM_FRAMES - 2, NUM_FRAMES + 1])
def test_gt_file_out_of_step_with_a_video(track, clip, tmp_path, gt_lines):
    frames, boxes = clip
    video = write_video(tmp_path / 'clip.mp4', frames)
    extra = [boxes[-1]] * max(0, gt_lines - NUM_FRAMES)
    gt = write_gt(tmp_path / 'gt.txt', list(boxes[:gt_lines]) + extra)
    out = tmp_path / 'out.mp4'
    message = fails_with(track, video, '--gt', gt, '--out', out)
    assert 'out of step' in message and str(video) in message
    assert f'{gt} has {gt_lines} boxes' in message
    assert f'{NUM_FRAMES} frames' in message
    # the boxes tracked are kept
    written = np.loadtxt(tmp_path / 'out.txt', delimiter=',')
    assert written.shape == (NUM_FRAMES, 4)


# ------------------------------------------------ frames mid-way
def test_frame_of_another_size_keeps_the_work_done(track, clip, tmp_path):
    frames, _ = clip
    frames = list(frames)
    frames[3] = frames[3][:100, :140]
    paths = write_folder(tmp_path / 'frames', frames)
    out = tmp_path / 'out.mp4'
    message = fails_with(
        track, tmp_path / 'frames', '--init-box', INIT_BOX, '--out', out
    )
    assert f'frame #3 ({paths[3]})' in message
    assert '140x100 differs from the first frame (160x120)' in message
    assert '--resize-frames' in message
    assert str(tmp_path / 'out.txt') in message
    written = np.loadtxt(tmp_path / 'out.txt', delimiter=',')
    assert written.shape == (3, 4) and np.isfinite(written).all()
    assert video_length(out) == 3  # closed, so readable


def test_resize_frames_goes_on_in_the_first_frame_size(
    track, clip, tmp_path, capsys
):
    frames, _ = clip
    frames = list(frames)
    frames[3] = cv2.resize(frames[3], (80, 60))
    write_folder(tmp_path / 'frames', frames)
    out = tmp_path / 'out.mp4'
    summary = track(
        tmp_path / 'frames', '--init-box', INIT_BOX, '--out', out,
        '--resize-frames',
    )  # fmt: skip
    assert summary['frames'] == NUM_FRAMES
    assert video_length(out) == NUM_FRAMES
    assert '1 frames of another size were resized' in capsys.readouterr().err


def test_empty_frame_file_keeps_the_work_done(track, clip, tmp_path):
    frames, _ = clip
    paths = write_folder(tmp_path / 'frames', frames)
    paths[4].write_bytes(b'')
    out = tmp_path / 'out.mp4'
    message = fails_with(
        track, tmp_path / 'frames', '--init-box', INIT_BOX, '--out', out
    )
    assert f'frame #4 ({paths[4]})' in message
    assert 'empty file (0 bytes)' in message
    written = np.loadtxt(tmp_path / 'out.txt', delimiter=',')
    assert written.shape == (4, 4)
    assert video_length(out) == 4


# ------------------------------------------------------- outputs
def test_unwritable_outputs_fail_before_tracking(track, clip, tmp_path):
    frames, _ = clip
    folder = tmp_path / 'frames'
    write_folder(folder, frames[:2])
    (tmp_path / 'boxes_dir').mkdir()
    (tmp_path / 'a_file').write_text('not a folder')
    args = [folder, '--init-box', INIT_BOX]
    cases = [
        (
            ['--out', tmp_path / 'o.mp4', '--out-txt', tmp_path / 'boxes_dir'],
            f'boxes file {tmp_path / "boxes_dir"} is a folder',
        ),
        (
            ['--out', tmp_path / 'video_dir'],
            f'output video {tmp_path / "video_dir"} is a folder',
        ),
        (
            ['--out', tmp_path / 'a_file' / 'sub' / 'o.mp4'],
            f'{tmp_path / "a_file"} is a file, not a folder',
        ),
        (
            ['--out', tmp_path / 'o.mp4', '--out-txt', tmp_path / 'o.mp4'],
            'would both be written to',
        ),
    ]
    (tmp_path / 'video_dir').mkdir()
    if os.path.isdir('/proc/self'):  # not writable, even for root
        cases.append(
            (['--out', '/proc/self/o.mp4'], 'cannot write output video')
        )
    for extra, expected in cases:
        message = fails_with(track, *args, *extra)
        assert expected in message, message
    assert not track.built  # all refused before the model was built
    assert not (tmp_path / 'o.mp4').exists()


# --------------------------------------------------- the first box
def test_box_larger_than_the_frame_is_refused(track, tiny_model, tmp_path):
    from mmusot.apis import Tracker

    frames, _ = moving_square(2, size=SIZE)
    folder = tmp_path / 'frames'
    write_folder(folder, frames)
    message = fails_with(
        track, folder, '--init-box=-100,-100,400,400', '--out',
        tmp_path / 'o.mp4',
    )  # fmt: skip
    assert 'larger than the 160x120 frame' in message
    tracker = Tracker(tiny_model)
    with pytest.raises(ValueError, match='400x40, larger than the 160x120'):
        tracker.init(frames[0], (-120, 40, 400, 40))
    # a box partly out of the frame (centre inside) is still a target
    tracker.init(frames[0], (130, 100, 40, 30))
    assert tracker.frame_id == 0


# ---------------------------------------------------------- the API
def test_failed_reinit_does_not_track_the_old_target(tiny_model):
    from mmusot.apis import OpenCVTracker, Tracker

    frames, truth = moving_square(3, size=SIZE)
    for tracker in (Tracker(tiny_model), OpenCVTracker('MIL')):
        tracker.init(frames[0], truth[0])
        tracker.track(frames[1])
        with pytest.raises(ValueError, match='not finite'):
            tracker.init(frames[2], (np.nan, 40, 24, 24))
        with pytest.raises(RuntimeError, match='after an init that failed'):
            tracker.track(frames[2])
        assert tracker.box is None and tracker.score is None
        # a good init starts again
        tracker.init(frames[2], truth[2])
        box, _ = tracker.track(frames[2])
        assert np.isfinite(box).all()


def test_failed_init_many_starts_nothing(tiny_model, monkeypatch):
    from mmusot.apis import MultiTracker

    frames, truth = moving_square(2, size=SIZE)
    multi = MultiTracker(tiny_model, batch=False)
    assert multi.init_many(frames[0], [truth[0]]) == [0]
    with pytest.raises(ValueError, match='target 3: box x, y, w, h is not'):
        multi.init_many(frames[0], [truth[0], truth[0], (np.nan, 1, 2, 3)])
    assert multi.target_ids == [0]
    # no id used up by the failed call
    assert multi.init_many(frames[0], [truth[0]]) == [1]

    # a model error on the second new target: the first is not kept
    init_target = multi.engine.init_target
    calls = []

    def failing(frame, box):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('model failure')
        return init_target(frame, box)

    monkeypatch.setattr(multi.engine, 'init_target', failing)
    with pytest.raises(RuntimeError, match='model failure'):
        multi.init_many(frames[0], {'a': truth[0], 'b': truth[0]})
    assert multi.target_ids == [0, 1]
    monkeypatch.undo()
    results = multi.track_many(frames[1])
    assert sorted(results) == [0, 1]
