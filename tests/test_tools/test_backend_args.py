# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The backend switch of the tracker commands (``--backend``, ``--onnx``,
:mod:`mmusot.cli.tracker_args`): how it resolves, and a clear usage error
(exit status 2, the option named) for each combination that cannot work.

``mmusot-vot-trax`` / ``mmusot-got10k`` (the shared tracker options),
``mmusot-track`` and ``tools/benchmark/compare_trackers.py``. No model is
built here (tests/test_tools/test_backend_tracking.py runs them)."""

import os
import sys

import pytest

from tests.script_loader import load_script

#: Any path: the folder is read when the tracker is built, not parsed.
DIR = 'exported_usot'


@pytest.fixture(scope='module')
def vot():
    from mmusot.cli import vot_trax

    return vot_trax


@pytest.fixture(scope='module')
def got10k():
    from mmusot.cli import got10k_eval

    return got10k_eval


@pytest.fixture(scope='module')
def track():
    from mmusot.cli import track_video

    return track_video


@pytest.fixture(scope='module')
def compare():
    return load_script('tools/benchmark/compare_trackers.py')


def usage_error(parse, argv, capsys, *fragments):
    """``parse(argv)`` exits with status 2 and a message holding every
    fragment."""
    with pytest.raises(SystemExit) as info:
        parse(argv)
    assert info.value.code == 2
    message = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------ the shared tracker args
def test_backend_resolves(vot):
    args = vot.parse_args(['cfg.py', '--checkpoint', 'w.pth'])
    assert args.backend == 'pytorch' and args.onnx is None  # unchanged
    args = vot.parse_args(['--onnx', DIR])
    assert args.backend == 'onnxruntime'  # --onnx alone
    args = vot.parse_args(['--backend', 'openvino', '--onnx', DIR])
    assert args.backend == 'openvino'
    args = vot.parse_args(['--opencv', 'MIL'])
    assert args.opencv == 'MIL'


@pytest.mark.parametrize(
    'argv, fragments',
    [
        (['--backend', 'onnxruntime'], ['--backend onnxruntime needs --onnx']),
        (['--backend', 'openvino'], ['--backend openvino needs --onnx']),
        (
            ['cfg.py', '--backend', 'pytorch', '--onnx', DIR],
            ['--onnx is for the runtime backends'],
        ),
        (
            ['--onnx', DIR, '--checkpoint', 'w.pth'],
            ['--checkpoint is for --backend pytorch'],
        ),
        (['cfg.py', '--onnx', DIR], ['a config is for --backend pytorch']),
        (
            ['--onnx', DIR, '--allow-partial'],
            ['--allow-partial is for --backend pytorch'],
        ),
        (
            ['--onnx', DIR, '--cfg-options', 'model.backbone.depth=18'],
            ['--cfg-options model.backbone.depth', 'model.test_cfg.KEY'],
        ),
        (
            ['--onnx', DIR, '--cfg-options', 'model.test_cfg.nope=1'],
            ["unknown USOT test_cfg key(s) ['nope']"],
        ),
        (
            ['--onnx', DIR, '--cfg-options', 'model.test_cfg.crop_mode=x'],
            ['test_cfg.crop_mode must be one of'],
        ),
        (
            ['--backend', 'openvino', '--onnx', DIR, '--device', 'cuda'],
            ['--backend openvino runs on the CPU'],
        ),
        (['--onnx', DIR, '--device', 'cuda:1'], ['--device cuda:1']),
        (['--onnx', DIR, '--threads', '0'], ['--threads must be >= 1']),
        (
            ['--opencv', 'MIL', '--onnx', DIR],
            ['--opencv runs an OpenCV tracker'],
        ),
        (
            ['--opencv', 'MIL', '--backend', 'pytorch'],
            ['--opencv runs an OpenCV tracker'],
        ),
        ([], ['give either a config, --onnx DIR']),
        (['--backend', 'torch', '--onnx', DIR], ['invalid choice']),
    ],
)
def test_usage_errors(vot, got10k, capsys, argv, fragments):
    usage_error(vot.parse_args, argv, capsys, 'mmusot-vot-trax', *fragments)
    usage_error(
        got10k.parse_args,
        [*argv, '--root', 'r'],
        capsys,
        'mmusot-got10k',
        *fragments,
    )


def test_runtime_test_cfg_from_cfg_options():
    from mmusot.cli.tracker_args import runtime_test_cfg

    items = ['model.test_cfg.crop_mode=official', 'model.test_cfg.lr=0.5']
    expected = dict(crop_mode='official', lr=0.5)
    assert runtime_test_cfg(items) == expected  # KEY=VALUE items
    assert runtime_test_cfg({'model.test_cfg.one_based_gt': True}) == dict(
        one_based_gt=True
    )  # mmengine's DictAction result
    assert runtime_test_cfg(None) == {} and runtime_test_cfg([]) == {}
    with pytest.raises(ValueError, match='model.neck.out_channels'):
        runtime_test_cfg(['model.neck.out_channels=64'])


def test_trax_name_and_served_command(vot, tmp_path):
    folder = tmp_path / 'usot_mnv2'
    args = vot.parse_args(
        [
            '--backend',
            'openvino',
            '--onnx',
            os.path.relpath(folder) + os.sep,
            '--threads',
            '2',
            '--cfg-options',
            'model.test_cfg.crop_mode=official',
        ]
    )
    assert vot.tracker_name(args) == 'usot_mnv2-openvino'
    assert vot.tracker_name(vot.parse_args(['--onnx', str(folder)])) == (
        'usot_mnv2-onnxruntime'
    )
    assert vot.tracker_name(vot.parse_args(['a/b/cfg.py'])) == 'cfg'
    command = vot.serve_command(args)
    assert command[:3] == [sys.executable, '-m', 'mmusot.cli.vot_trax']
    assert command[3:7] == ['--backend', 'openvino', '--onnx', str(folder)]
    assert 'model.test_cfg.crop_mode=official' in command
    # the served command parses to the same tracker
    again = vot.parse_args(command[3:])
    assert (again.backend, again.onnx, again.threads) == (
        'openvino',
        str(folder),
        2,
    )
    implied = vot.serve_command(vot.parse_args(['--onnx', str(folder)]))
    assert implied[3:7] == ['--backend', 'onnxruntime', '--onnx', str(folder)]


# ------------------------------------------------------------ mmusot-track
def test_track_backend_resolves(track):
    args = track.parse_args(['clip.mp4'])
    # the PyTorch usage is unchanged: the default config, no backend given
    assert args.backend == 'pytorch' and args.config == track.DEFAULT_CONFIG
    args = track.parse_args(
        [
            'clip.mp4',
            '--onnx',
            DIR,
            '--cfg-options',
            'model.test_cfg.crop_mode=official',
        ]
    )
    assert args.backend == 'onnxruntime' and args.onnx == DIR
    assert args.config is None  # no config is loaded for the runtime


@pytest.mark.parametrize(
    'argv, fragments',
    [
        (['--backend', 'onnxruntime'], ['needs --onnx DIR']),
        (['--onnx', DIR, '--config', 'c.py'], ['a config is for --backend']),
        (
            ['--onnx', DIR, '--checkpoint', 'w.pth'],
            ['--checkpoint is for --backend pytorch'],
        ),
        (
            ['--backend', 'pytorch', '--onnx', DIR],
            ['--onnx is for the runtime backends'],
        ),
        (
            ['--onnx', DIR, '--cfg-options', 'model.head.in_channels=8'],
            ['--cfg-options model.head.in_channels'],
        ),
        (['--onnx', DIR, '--threads', '0'], ['--threads must be >= 1']),
    ],
)
def test_track_usage_errors(track, capsys, argv, fragments):
    usage_error(track.parse_args, ['clip.mp4', *argv], capsys, *fragments)


# ------------------------------------------------------- compare_trackers
def test_compare_backend_options(compare, capsys):
    args = compare.parse_args(['--onnx', DIR])
    assert args.backend == ['onnxruntime']
    args = compare.parse_args(
        ['--onnx', DIR, '--backends', 'openvino', 'onnxruntime', 'openvino']
    )
    assert args.backend == ['openvino', 'onnxruntime']
    assert compare.parse_args([]).onnx is None
    usage_error(
        compare.parse_args, ['--backend', 'openvino'], capsys, 'give --onnx'
    )
    usage_error(
        compare.parse_args,
        ['--onnx', DIR, '--backend', 'pytorch'],
        capsys,
        'invalid choice',
    )
    usage_error(
        compare.parse_args,
        ['--onnx', DIR, '--backend', 'openvino', '--device', 'cuda'],
        capsys,
        'runs on the CPU',
    )
