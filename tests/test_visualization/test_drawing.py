# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot.visualization: tracked frames, pseudo labels, contact sheets."""

import ast
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmusot.pseudo_labels import write_infos
from mmusot.visualization import (
    VisualizationError,
    contact_sheet,
    draw_label_check,
    draw_tracking,
    film_strip,
    open_video_writer,
    pseudo_label_videos,
)

REPO = Path(__file__).resolve().parents[2]


def write_video(path, frames, fps=10):
    writer = open_video_writer(str(path), fps, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_draw_tracking_copies_and_skips_boxes_without_area():
    frame = np.zeros((60, 80, 3), np.uint8)
    out = draw_tracking(frame, 3, np.array([30, 30, 20, 20.0]), 0.5)
    assert not frame.any() and out.any()
    assert (out[30, 30:51] == (0, 0, 255)).all()  # the red box's top edge
    empty = draw_tracking(frame, 0, np.array([30, 30, 0, 20.0]), 0.5)
    assert not empty[30:51, 30:51].any()  # no area: no box, only text


def test_label_check_draws_finite_boxes_only_and_strips_scale():
    frame = np.zeros((60, 80, 3), np.uint8)
    out = draw_label_check(
        frame, '', np.array([30, 30, 50.7, 50]), np.full(4, np.nan)
    )
    assert (out[30, 30:51] == (0, 0, 255)).all() and not out[:, 52:].any()
    strip = film_strip([out, frame], height=30)
    assert strip.shape == (30, 80, 3)


def test_contact_sheet_grid_and_unreadable_video(tmp_path):
    frames = [np.full((40, 64, 3), i * 20, np.uint8) for i in range(10)]
    write_video(tmp_path / 'a.mp4', frames)
    sheet = contact_sheet(
        str(tmp_path / 'a.mp4'), str(tmp_path / 's.png'), 6, 32, 4
    )
    image = cv2.imread(sheet)
    assert image.shape == (2 * 20, 4 * 32, 3)
    assert not image[20:, 64:].any()  # the last row is padded with black
    with pytest.raises(VisualizationError, match='cannot read back'):
        contact_sheet(str(tmp_path / 'no.mp4'), str(tmp_path / 't.png'))


def test_pseudo_label_videos_one_per_track(tmp_path):
    frames = tmp_path / 'frames' / 'v'
    frames.mkdir(parents=True)
    for k in range(1, 6):
        image = np.zeros((48, 64, 3), np.uint8)
        cv2.imwrite(str(frames / f'{k:08d}.jpg'), image)
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'v.txt').write_text('4,4,20,20\n' * 4)
    write_infos(
        str(tmp_path / 'pseudo_infos.txt'),
        [('frames/v', 'annotations/v.txt', 2, 5)],
    )
    videos = pseudo_label_videos(str(tmp_path), str(tmp_path / 'out'))
    assert videos == [str(tmp_path / 'out' / 'v.mp4')]
    capture = cv2.VideoCapture(videos[0])
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 4


def test_video_writer_refuses_an_unwritable_path(tmp_path):
    with pytest.raises(VisualizationError, match='cannot write video'):
        open_video_writer(str(tmp_path / 'no' / 'a.mp4'), 10, (64, 48))


def test_clis_do_not_call_each_other():
    """A CLI builds on library functions, never on another CLI module."""
    clis = {p.stem for p in (REPO / 'mmusot' / 'cli').glob('*.py')}
    shared = {'__init__', 'pseudo_label_args', 'tracker_args'}
    for name in ('learn_and_track', 'track_video', 'videos_to_pseudo_sot'):
        tree = ast.parse((REPO / 'mmusot' / 'cli' / f'{name}.py').read_text())
        imported = {
            (node.module or '').split('.')[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not (imported & clis) - shared - {name}, name
