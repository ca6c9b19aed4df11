# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Raw dataset layouts: discovery ignores labels; presets are applied."""

from mmusot.cli import datasets_to_pseudo_sot
from mmusot.pseudo_labels import datasets

from ..test_pseudo_labels.synth_video import moving_object_video, write_folder


def load_cli():
    # the layouts are library functions; the CLI only parses arguments
    return datasets


def test_layout_discovery(tmp_path):
    cli = load_cli()
    frames, _ = moving_object_video(3, size_hw=(48, 64), obj_hw=(10, 12))
    for d in (
        'got/train/GOT-10k_Train_000001',
        'got/val/GOT-10k_Val_000002',
        'lasot/cat/cat-1/img',
        'lasot/cat/cat-2/img',
        'lasot/coin/coin-1/img',
        'vid/Data/VID/train/ILSVRC2015_VID_train_0000/a',
        'vid/Data/VID/val/b',
        'yt/train/JPEGImages/c',
    ):
        write_folder(str(tmp_path / d), frames, '.jpg')
    (tmp_path / 'got/train/GOT-10k_Train_000001/groundtruth.txt').write_text(
        '1,2,3,4\n'
    )
    (tmp_path / 'test.txt').write_text('cat-2\n')
    names = lambda srcs: [s.name for s in srcs]  # noqa: E731
    got = cli.got10k_sources(tmp_path / 'got')
    assert names(got) == [
        'train/GOT-10k_Train_000001',
        'val/GOT-10k_Val_000002',
    ]
    assert all(len(s.frame_files) == 3 for s in got)  # txt files ignored
    assert names(
        cli.lasot_sources(tmp_path / 'lasot', str(tmp_path / 'test.txt'))
    ) == ['cat/cat-1']
    assert names(cli.vid_sources(tmp_path / 'vid')) == [
        'train/ILSVRC2015_VID_train_0000/a',
        'val/b',
    ]
    assert names(cli.ytvos_sources(tmp_path / 'yt')) == ['c']


def test_ytvos_preset_run(tmp_path):
    cli = datasets_to_pseudo_sot
    frames, _ = moving_object_video(20, size_hw=(96, 128), obj_hw=(24, 28))
    write_folder(str(tmp_path / 'yt/train/JPEGImages/c'), frames, '.jpg')
    out = tmp_path / 'out'
    assert (
        cli.main(
            [
                'ytvos',
                str(tmp_path / 'yt'),
                str(out),
                '--quiet',
                '--work-size',
                '96',
                '128',
            ]
        )
        == 0
    )
    import json

    q = json.loads((out / 'quality' / 'c.json').read_text())
    # gap 1: flow at every frame 1 .. L - 2
    assert q['tracks'][0]['flow_frames'] == list(range(1, 19))
    settings = json.loads((out / 'settings.json').read_text())['settings']
    assert settings['theta2'] == 0.40 and settings['theta3'] == 0.35
