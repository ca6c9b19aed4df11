# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Shot cuts: an edited video becomes one pseudo-label track per shot."""

import glob
import os
from dataclasses import replace

import numpy as np
import pytest

from mmusot.cli.pseudo_label_args import settings_from_args
from mmusot.cli.videos_to_pseudo_sot import parse_args
from mmusot.pseudo_labels import (
    SHOT_CUT_DISTANCE,
    PseudoLabelSettings,
    ShotCutDetector,
    VideoSource,
    box_iou,
    process_video,
    read_boxes_xywh,
    xywh_to_xyxy,
)
from tests.script_loader import load_script

from .synth_video import moving_object_video, write_folder

SHOT = 24


def two_shots():
    """Two shots of different scenes (the second warmer), and their boxes."""
    a, gt_a = moving_object_video(num_frames=SHOT, seed=0)
    b, gt_b = moving_object_video(
        num_frames=SHOT, seed=1, obj_speed=(-2.0, 1.5)
    )
    warm = np.array([0.6, 0.9, 1.4])  # BGR gains: another light, colours
    b = [np.clip(f * warm, 0, 255).astype(np.uint8) for f in b]
    return a + b, (gt_a, gt_b)


def test_detector_fires_on_the_cut_only():
    frames, _ = two_shots()
    detect = ShotCutDetector()
    assert [i for i, f in enumerate(frames) if detect(f)] == [SHOT]


def run(tmp_path, settings):
    frames, gts = two_shots()
    write_folder(str(tmp_path / 'in' / 'v'), frames)
    files = tuple(sorted(glob.glob(str(tmp_path / 'in' / 'v' / '*.png'))))
    out = str(tmp_path / 'out')
    source = VideoSource('v', str(tmp_path / 'in' / 'v'), files)
    return process_video(source, out, settings), out, gts


def test_each_shot_is_its_own_track(tmp_path):
    s = replace(PseudoLabelSettings(), shot_cut=SHOT_CUT_DISTANCE)
    rec, out, gts = run(tmp_path, s)
    assert rec['shot_cuts'] == [SHOT + 1]
    tracks = rec['tracks']
    assert [(t['start_frame_id'], t['end_frame_id']) for t in tracks] == [
        (1, SHOT),
        (SHOT + 1, 2 * SHOT),
    ]
    assert [t['ann_path'] for t in tracks] == [
        'annotations/v.s000.txt',
        'annotations/v.s001.txt',
    ]
    for t, gt in zip(tracks, gts):
        assert t['kept'], t
        boxes = read_boxes_xywh(os.path.join(out, t['ann_path']))
        assert boxes.shape == (SHOT, 4)
        # the flow-mask box covers the object and its motion (see
        # test_pipeline): > 0.5 is on the object of this shot
        assert box_iou(xywh_to_xyxy(boxes), gt).mean() > 0.5
    # all frames are written once, numbered through the video
    assert len(glob.glob(os.path.join(out, 'frames', 'v', '*.jpg'))) == 48


def test_without_shot_cut_one_track_spans_the_cut(tmp_path):
    rec, out, _ = run(tmp_path, PseudoLabelSettings())
    assert rec['shot_cuts'] == []
    spans = [(t['start_frame_id'], t['end_frame_id']) for t in rec['tracks']]
    assert spans == [(1, 2 * SHOT)]
    assert rec['tracks'][0]['ann_path'] in (None, 'annotations/v.txt')


def test_settings_check_and_record():
    with pytest.raises(ValueError, match='in \\(0, 1\\]'):
        PseudoLabelSettings(shot_cut=1.5)
    with pytest.raises(ValueError, match='cannot be combined'):
        PseudoLabelSettings(shot_cut=0.4, window=(221, 200))
    # off: settings.json as before shot cuts existed (old folders resume)
    assert 'shot_cut' not in PseudoLabelSettings().to_dict()
    assert PseudoLabelSettings(shot_cut=0.4).to_dict()['shot_cut'] == 0.4


def test_videos_converter_splits_by_default():
    on = settings_from_args(parse_args(['in', 'out']))
    assert on.shot_cut == SHOT_CUT_DISTANCE
    off = settings_from_args(parse_args(['in', 'out', '--no-shot-cut']))
    assert off.shot_cut is None
    mine = settings_from_args(parse_args(['in', 'out', '--shot-cut', '0.6']))
    assert mine.shot_cut == 0.6


def test_shot_cuts_tool_reports_the_cut(tmp_path, capsys):
    frames, _ = two_shots()
    write_folder(str(tmp_path / 'clips' / 'v'), frames)
    tool = load_script('tools/analysis/shot_cuts.py')
    assert tool.main([str(tmp_path / 'clips')]) == 0
    out = capsys.readouterr().out
    assert '| v | ' in out and f'[{SHOT + 1}] |' in out
    assert '1 videos, threshold 0.4' in out and '1 cut(s)' in out
    assert tool.main([str(tmp_path / 'nothing')]) == 1
    (tmp_path / 'empty').mkdir()
    assert tool.main([str(tmp_path / 'empty')]) == 1
    assert 'no videos under' in capsys.readouterr().err


def test_redo_removes_only_this_videos_tracks(tmp_path):
    from mmusot.pseudo_labels.pipeline import _remove_outputs

    ann = tmp_path / 'annotations'
    ann.mkdir()
    mine = ['v.txt', 'v.w000.txt', 'v.s012.txt', 'v.s1000.txt']
    others = ['v.small.txt', 'v.sx.txt', 'vv.txt', 'v.s012.json']
    for name in mine + others:
        (ann / name).write_text('')
    _remove_outputs(str(tmp_path), 'v')
    assert sorted(p.name for p in ann.iterdir()) == sorted(others)
