# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Nothing silently wrong: pseudo labels, frames, data roots, converters.

Each test feeds a tiny broken input that the code used to accept (exit 0,
a wrong result) or answer with a raw traceback, and checks for an error
that names the file (and line) or for the documented repair.
"""

import json
import logging
import os

import numpy as np
import pytest
from mmtrack.utils import register_all_modules

from mmusot.cli import eval_pseudo_labels, videos_to_pseudo_sot
from mmusot.datasets import PseudoLabelSOTDataset
from mmusot.datasets import pseudo_label_loading as loading_module
from mmusot.pseudo_labels import (
    PseudoLabelSettings,
    VideoReadError,
    convert_sources,
    discover_sources,
    merge,
    process_video,
    read_infos,
)
from mmusot.pseudo_labels import pipeline as pipeline_module

from ..test_datasets.usot_data import video_spec, write_dataset
from ..test_pseudo_labels.synth_video import (
    moving_object_video,
    write_folder,
    write_video,
)

FAST = ['--work-size', '96', '128', '--quiet']
SMALL = PseudoLabelSettings(work_size=(96, 128))
GOOD = '30,20,40,30'
LOAD = [
    dict(
        type='TransformBroadcaster',
        transforms=[dict(type='LoadImageFromFile')],
    )
]


@pytest.fixture(autouse=True, scope='module')
def mmtrack_scope():
    register_all_modules(init_default_scope=True)


def build(root, **kwargs):
    kwargs.setdefault('pipeline', [])
    return PseudoLabelSOTDataset(
        data_root=str(root),
        ann_file='pseudo_infos.txt',
        data_prefix=dict(img_path=''),
        **kwargs,
    )


def labelled(root, lines, frames=False, **spec):
    """A one-track folder (128x96 frames) whose annotation is ``lines``."""
    write_dataset(root, [video_spec('a', len(lines), **spec)], frames=frames)
    (root / 'annotations' / 'a.txt').write_text(
        ''.join(line + '\n' for line in lines)
    )
    return root


# ------------------------------------------------------------ 1. labels
@pytest.mark.parametrize(
    'bad, line, why',
    [
        ('nan,nan,nan,nan', 2, 'not finite'),
        ('inf,20,40,30', 2, 'not finite'),
        ('30,20,0,0', 2, 'w=0, h=0'),
        ('30,20,-10,-5', 2, 'w=-10, h=-5'),
        ('5000,5000,40,30', 2, 'outside the 128x96 frame'),
        ('30,20,40,30,7', 2, 'expected 4 values.*got 5'),
        ('30,20,40', 2, 'expected 4 values.*got 3'),
        ('30,20,abc,30', 2, 'not a number'),
    ],
)
def test_dataset_names_file_and_line_of_a_bad_box(tmp_path, bad, line, why):
    root = labelled(tmp_path, [GOOD, bad, GOOD, GOOD])
    with pytest.raises(ValueError, match=rf'a\.txt line {line}: .*{why}'):
        build(root)


def test_plain_dataset_checks_boxes_against_the_first_frame(tmp_path):
    # no sidecars: the frame size comes from the first frame's header
    root = labelled(tmp_path, [GOOD, '500,20,40,30'], frames=True)
    with pytest.raises(ValueError, match=r'a\.txt line 2: .*128x96 frame'):
        build(root, quality_prefix=None)


def test_all_nan_labels_do_not_reach_training(tmp_path):
    root = labelled(tmp_path, ['nan,nan,nan,nan'] * 4)
    with pytest.raises(ValueError, match='4 bad lines.*strict=False'):
        build(root)
    # strict=False drops the track, and with it the last one: an error
    with pytest.raises(ValueError, match='no usable track'):
        build(root, strict=False)


def test_non_strict_leaves_bad_frames_out_of_sampling(tmp_path, monkeypatch):
    n = 12
    lines = [GOOD] * n
    for k in (0, 3, 4, 7, 11):
        lines[k] = 'nan,nan,nan,nan'
    write_dataset(tmp_path, [video_spec('a', n), video_spec('b', n)])
    (tmp_path / 'annotations' / 'a.txt').write_text(
        ''.join(x + '\n' for x in lines)
    )
    # a third, listed track whose every box is outside the frame
    write_dataset(tmp_path / 'c', [video_spec('c', 3)], frames=False)
    (tmp_path / 'annotations' / 'c.txt').write_text('900,900,9,9\n' * 3)
    (tmp_path / 'quality' / 'c.json').write_text(
        (tmp_path / 'c' / 'quality' / 'c.json').read_text()
    )
    with open(tmp_path / 'pseudo_infos.txt', 'a') as f:
        f.write('frames/c,annotations/c.txt,1,3\n')
    logs = []
    monkeypatch.setattr(
        loading_module, 'print_log', lambda msg, **kw: logs.append(msg)
    )
    ds = build(tmp_path, strict=False, stage='cycle')
    log = '\n'.join(logs)
    assert 'dropped 1 track(s), 2 left' in log and 'c.txt' in log
    assert '5 frame(s) with a bad box in 1 track(s)' in log
    assert len(ds) == 2
    bad = {0, 3, 4, 7, 11}
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(300):
        draw = ds.sample_instance(0, rng)
        assert not bad & set(draw['positions'])
        assert np.isfinite(draw['bboxes']).all()
        seen |= set(draw['positions'])
    assert seen == set(range(n)) - bad
    # good tracks draw exactly as under strict=True (no behaviour change)
    strict = build(tmp_path / 'c', stage='cycle')
    loose = build(tmp_path / 'c', strict=False, stage='cycle')
    for seed in range(5):
        a = strict.sample_instance(0, np.random.default_rng(seed))
        b = loose.sample_instance(0, np.random.default_rng(seed))
        assert a['positions'] == b['positions']
        np.testing.assert_array_equal(a['bboxes'], b['bboxes'])


def test_non_strict_plain_dataset_marks_bad_frames_not_visible(tmp_path):
    lines = [GOOD, '30,20,40', GOOD, '30,20,0,30']
    root = labelled(tmp_path, lines, frames=True)
    with pytest.raises(ValueError, match=r'a\.txt line 2'):
        build(root, quality_prefix=None)
    ds = build(root, quality_prefix=None, strict=False)
    ann = ds.get_ann_infos_from_video(0)
    assert ann['visible'].tolist() == [True, False, True, False]
    assert ann['bboxes_isvalid'].tolist() == [True, False, True, False]
    np.testing.assert_array_equal(ann['bboxes'][0], [30, 20, 70, 50])


# ------------------------------------------------------------ 2. frames
@pytest.mark.parametrize(
    'data, why',
    [(b'\xff\xd8garbage' * 10, 'not a decodable image'), (b'', '0 bytes')],
)
def test_unreadable_frame_is_named(tmp_path, data, why):
    write_dataset(tmp_path, [video_spec('a', 2)])
    frame = tmp_path / 'frames' / 'a' / '00000001.jpg'
    frame.write_bytes(data)
    ds = build(tmp_path, pipeline=LOAD, seed=0)
    with pytest.raises(VideoReadError, match=rf'00000001\.jpg: .*{why}'):
        ds[0]


# --------------------------------------------------------- 3. data_root
def test_empty_or_missing_data_root_says_how_to_make_labels(tmp_path):
    (tmp_path / 'empty').mkdir()
    config = dict(usot_sampling=True, quality_prefix='quality')
    with pytest.raises(FileNotFoundError, match='holds no pseudo labels'):
        build(tmp_path / 'empty', **config)
    with pytest.raises(FileNotFoundError, match='mmusot-videos-to-pseudo'):
        build(tmp_path / 'missing', **config)


# ------------------------------------------------------- 4. converter
def small_video(path, seed=0):
    frames, _ = moving_object_video(
        30, size_hw=(96, 128), obj_hw=(24, 28), seed=seed
    )
    write_video(str(path), frames)
    return frames


def test_converter_missing_input_is_an_error(tmp_path, capsys):
    rc = videos_to_pseudo_sot.main(
        [str(tmp_path / 'nope'), str(tmp_path / 'out')] + FAST
    )
    assert rc == 1
    assert 'nope does not exist' in capsys.readouterr().err


def test_datasets_converter_missing_root_is_named(tmp_path, capsys):
    from mmusot.cli import datasets_to_pseudo_sot

    args = ['got10k', str(tmp_path / 'nope'), str(tmp_path / 'out')]
    assert datasets_to_pseudo_sot.main(args + FAST) == 1
    assert 'nope does not exist' in capsys.readouterr().err


def test_converter_follows_folder_links_and_stops_at_loops(tmp_path, caplog):
    frames, _ = moving_object_video(5, size_hw=(96, 128))
    write_folder(str(tmp_path / 'elsewhere' / 'seq'), frames, '.jpg')
    src = tmp_path / 'in'
    src.mkdir()
    small_video(src / 'clip.avi')
    os.symlink(tmp_path / 'elsewhere', src / 'linked')
    os.symlink(src, src / 'loop')  # points back up
    with caplog.at_level(logging.WARNING):
        names = [s.name for s in discover_sources(str(src))]
    assert names == ['clip', 'linked/seq']
    assert 'loop: skipped' in caplog.text


def test_converter_output_inside_input_is_not_rescanned(tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    small_video(src / 'clip.avi')
    out = src / 'pseudo'
    for _ in range(2):
        assert videos_to_pseudo_sot.main([str(src), str(out)] + FAST) == 0
    infos = read_infos(str(out / 'pseudo_infos.txt'))
    assert [v for v, *_ in infos] == ['frames/clip']
    assert videos_to_pseudo_sot.main([str(src), str(src)] + FAST) == 1


def test_converter_lock_fails_fast_and_takes_over_dead_locks(tmp_path, capsys):
    from mmusot.pseudo_labels.convert import OutputLockedError, output_lock

    src = tmp_path / 'in'
    src.mkdir()
    small_video(src / 'clip.avi')
    out = tmp_path / 'out'
    with output_lock(str(out)):  # "another converter" on the folder
        rc = videos_to_pseudo_sot.main([str(src), str(out)] + FAST)
        assert rc == 3
        assert f'pid {os.getpid()}' in capsys.readouterr().err
        assert not (out / 'status').exists()  # nothing was touched
    # the shards of a split run write other videos: side by side
    with output_lock(str(out), (0, 2)):
        with output_lock(str(out), (1, 2)):
            pass
        with pytest.raises(OutputLockedError, match='shard 0/2'):
            with output_lock(str(out), (0, 1)):
                pass
    # a lock left by a killed run (its pid is gone) is taken over
    (out / '.converter-0of1.lock').write_text(
        json.dumps(dict(pid=2**22 + 1, host='x', started='t', shard='0/1'))
    )
    assert videos_to_pseudo_sot.main([str(src), str(out)] + FAST) == 0
    assert not (out / '.converter-0of1.lock').exists()


def test_converter_never_writes_a_nan_box(tmp_path, monkeypatch):
    frames, _ = moving_object_video(30, size_hw=(96, 128), obj_hw=(24, 28))
    write_folder(str(tmp_path / 'in' / 'v'), frames, '.jpg')
    (source,) = discover_sources(str(tmp_path / 'in'))
    fill = pipeline_module.fill_boxes

    def fill_with_a_nan(*args, **kwargs):
        boxes = fill(*args, **kwargs)
        boxes[5] = np.nan
        return boxes

    monkeypatch.setattr(pipeline_module, 'fill_boxes', fill_with_a_nan)
    with pytest.raises(ValueError, match=r'annotations/v\.txt line 6: .*fin'):
        process_video(source, str(tmp_path / 'strict'), SMALL)
    rec = process_video(source, str(tmp_path / 'fixed'), SMALL, fix=True)
    assert rec['status'] == 'filtered'
    assert 'unusable boxes' in rec['reason'] and 'line 6' in rec['reason']
    assert not (tmp_path / 'fixed' / 'annotations' / 'v.txt').exists()


def test_merge_refuses_a_bad_annotation_unless_fix(tmp_path, capsys):
    src = tmp_path / 'in'
    src.mkdir()
    small_video(src / 'a.avi', seed=0)
    small_video(src / 'b.avi', seed=1)
    out = tmp_path / 'out'
    recs = convert_sources(discover_sources(str(src)), str(out), SMALL)
    assert [r['status'] for r in recs] == ['kept', 'kept']
    ann = out / 'annotations' / 'a.txt'
    lines = ann.read_text().splitlines()
    lines[2] = 'nan,nan,nan,nan'
    ann.write_text('\n'.join(lines) + '\n')
    args = [str(src), str(out), '--merge-only'] + FAST
    assert videos_to_pseudo_sot.main(args) == 1
    assert 'a.txt line 3' in capsys.readouterr().err
    assert videos_to_pseudo_sot.main(args + ['--fix']) == 0
    infos = read_infos(str(out / 'pseudo_infos.txt'))
    assert [v for v, *_ in infos] == ['frames/b']
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['invalid_tracks'][0][0] == 'a'
    # a good folder merges exactly as before
    ann.write_text('\n'.join(ann.read_text().splitlines()[:2]) + '\n')
    with pytest.raises(ValueError, match=r'a\.txt: 2 box line'):
        merge(str(out))


# --------------------------------------------------- 5. eval tool
@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp('eval')
    frames, gt = moving_object_video(40)
    write_folder(str(root / 'seq' / 'Obj' / 'img'), frames, '.jpg')
    xywh = np.c_[gt[:, :2], gt[:, 2:] - gt[:, :2]]
    np.savetxt(
        root / 'seq' / 'Obj' / 'groundtruth_rect.txt',
        xywh,
        fmt='%d',
        delimiter=',',
    )
    out = root / 'out'
    convert_sources(
        discover_sources(str(root / 'seq')), str(out), PseudoLabelSettings()
    )
    merge(str(out))
    return root, out


def test_eval_readme_command_without_gt_root(converted, capsys):
    root, out = converted
    res_file = root / 'stats.json'
    args = [str(out), '--sampler', 'usot', '--samples', '50']
    assert eval_pseudo_labels.main(args + ['--json', str(res_file)]) == 0
    stats = json.loads(res_file.read_text())['usot_sampler']
    assert stats['cycle']['mean_interval'] > 0
    assert 0 <= stats['naive']['resampled'] <= 1
    assert 'not scored' in capsys.readouterr().out
    # scoring needs the ground truth: say so, and what works without it
    with pytest.raises(SystemExit):
        eval_pseudo_labels.main([str(out)])
    assert 'sampler statistics only' in capsys.readouterr().err


def test_eval_names_a_bad_pseudo_box(converted, capsys):
    root, out = converted
    ann = out / 'annotations' / 'Obj' / 'img.txt'
    saved = ann.read_text()
    lines = saved.splitlines()
    lines[4] = '1,2,3'
    ann.write_text('\n'.join(lines) + '\n')
    try:
        args = [str(out), '--gt-root', str(root / 'seq'), '--samples', '20']
        assert eval_pseudo_labels.main(args) == 1
        assert 'img.txt line 5' in capsys.readouterr().err
        assert eval_pseudo_labels.main(args + ['--fix']) == 0
        assert '1 frame(s)' in capsys.readouterr().err
    finally:
        ann.write_text(saved)
