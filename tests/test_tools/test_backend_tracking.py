# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The commands on an exported tracker (``--onnx DIR``, ``--backend``).

A tiny USOT (MobileNetV2, PyTorch's default init, no weights loaded) is
exported once with :func:`mmusot.apis.onnx_export.export_model`; then

* ``mmusot-track --onnx DIR`` on the first frames of a real sequence
  writes the boxes :class:`mmusot.runtime.Tracker` gives when run directly
  (ONNX Runtime, OpenVINO, and with a ``model.test_cfg`` override);
* a bad folder is ``mmusot-track``'s one-line error;
* ``mmusot-got10k``'s tracker (the shared :func:`build`) is the runtime
  tracker with the options given;
* ``mmusot-vot-trax --onnx DIR`` serves the runtime's boxes over TraX, and
  its handshake names the folder and the backend;
* ``compare_trackers.py --onnx DIR`` scores the exported tracker as one
  more row, and caches it like the others.
"""

import cv2
import numpy as np
import pytest

from tests.fixtures import require_shared
from tests.script_loader import load_script
from tests.test_apis.tiny_models import (
    moving_square,
    write_otb_sequence,
    write_tiny_usot_config,
)

#: Frames tracked on the real sequence.
NUM_FRAMES = 5
#: The boxes file holds 4 decimals.
TXT_ATOL = 1e-3
SEQUENCE = 'data/sot_eval/Crossing'

pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """The folder of a tiny exported USOT."""
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    import torch

    from mmusot.apis import build_tracker
    from mmusot.apis.onnx_export import export_model

    root = tmp_path_factory.mktemp('exported')
    config = write_tiny_usot_config(root / 'tiny_usot.py')
    torch.manual_seed(0)
    model = build_tracker(config, None, 'cpu')
    export_model(model, str(root / 'onnx'), config)
    return str(root / 'onnx')


@pytest.fixture(scope='module')
def sequence():
    """The first frames of a real OTB-style sequence and its first box."""
    seq = require_shared(SEQUENCE)
    paths = sorted((seq / 'img').glob('*.jpg'))[:NUM_FRAMES]
    frames = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in paths]
    first_line = (seq / 'groundtruth_rect.txt').read_text().splitlines()[0]
    box = np.array(first_line.replace('\t', ',').split(','), np.float64)
    return seq, frames, box


def direct_boxes(folder, frames, box, **kwargs):
    """Boxes of :class:`mmusot.runtime.Tracker` run here, frame by frame."""
    from mmusot.runtime import Tracker

    tracker = Tracker(folder, threads=1, **kwargs)
    tracker.init(frames[0], box)
    boxes = [tracker.box]
    for frame in frames[1:]:
        boxes.append(tracker.track(frame)[0])
    return np.array(boxes)


@pytest.mark.parametrize(
    'extra, kwargs',
    [
        ([], {}),
        (
            ['--cfg-options', 'model.test_cfg.crop_mode=official']
            + ['model.test_cfg.min_size=30'],
            dict(test_cfg=dict(crop_mode='official', min_size=30)),
        ),
        (['--backend', 'openvino'], dict(backend='openvino')),
    ],
    ids=['onnxruntime', 'test_cfg', 'openvino'],
)
def test_track_command_is_the_runtime_tracker(
    exported, sequence, tmp_path, capsys, extra, kwargs
):
    from mmusot.cli import track_video
    from mmusot.evaluation import read_track_results

    if kwargs.get('backend') == 'openvino':
        pytest.importorskip('openvino')
    seq, frames, box = sequence
    out = tmp_path / 'run.mp4'
    summary = track_video.main(
        [
            str(seq),
            '--onnx',
            exported,
            '--threads',
            '1',
            '--max-frames',
            str(NUM_FRAMES),
            '--out',
            str(out),
            *extra,
        ]
    )
    assert summary['frames'] == NUM_FRAMES and out.is_file()
    err = capsys.readouterr().err
    assert '--checkpoint' not in err  # no "initial weights" warning
    written = read_track_results(summary['boxes'])
    expected = direct_boxes(exported, frames, box, **kwargs)
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(written, expected, rtol=0, atol=TXT_ATOL)
    if 'test_cfg' in kwargs:  # the overrides count: not the default boxes
        default = direct_boxes(exported, frames, box)
        assert not np.allclose(default[1:], expected[1:], atol=TXT_ATOL)


def test_track_command_bad_folder(sequence, tmp_path):
    from mmusot.cli import track_video

    seq, _, _ = sequence
    missing = tmp_path / 'no_such_export'
    with pytest.raises(SystemExit) as info:
        track_video.main(
            [str(seq), '--onnx', str(missing), '--max-frames', '2']
            + ['--out', str(tmp_path / 'a.mp4')]
        )
    message = str(info.value.code)
    assert message.startswith('error: ') and '\n' not in message
    assert str(missing) in message and 'exported tracker folder' in message
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SystemExit, match='deploy.json: missing'):
        track_video.main(
            [str(seq), '--onnx', str(tmp_path / 'empty')]
            + ['--out', str(tmp_path / 'b.mp4')]
        )


def test_shared_build_gives_the_runtime_tracker(exported):
    from mmusot.cli.got10k_eval import parse_args
    from mmusot.cli.tracker_args import build
    from mmusot.runtime import Tracker

    args = parse_args(
        ['--onnx', exported, '--root', 'r', '--threads', '1']
        + ['--cfg-options', 'model.test_cfg.crop_mode=official']
    )
    tracker = build(args)
    assert isinstance(tracker, Tracker)
    assert tracker.engine.backend.name == 'onnxruntime'
    assert tracker.engine.cfg.crop_mode == 'official'
    assert tracker.package.folder == exported


def test_compare_trackers_row(exported, tmp_path, capsys):
    from mmusot.evaluation import read_track_results

    tool = load_script('tools/benchmark/compare_trackers.py')
    frames, boxes = moving_square(6)
    root = write_otb_sequence(tmp_path / 'clips', 'Alpha', frames, boxes)
    out = tmp_path / 'out'
    argv = [
        '--data-root',
        str(root.parent),
        '--out-dir',
        str(out),
        '--opencv',
        '--no-nanotrack',
        '--onnx',
        exported,
        '--usot-name',
        'Tiny',
        '--threads',
        '1',
    ]
    results = tool.main(argv)
    assert [r.name for r in results][:1] == ['Tiny-onnxruntime']
    written = read_track_results(
        str(out / 'results' / 'Tiny-onnxruntime' / 'Alpha.txt')
    )
    expected = direct_boxes(exported, frames, boxes[0])
    np.testing.assert_allclose(written, expected, rtol=0, atol=TXT_ATOL)
    capsys.readouterr()
    tool.main(argv)  # cached: same folder, same backend
    assert 'Tiny-onnxruntime Alpha: cached' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no such exported tracker folder'):
        tool.main([*argv[:-6], '--onnx', str(tmp_path / 'missing')])


def test_trax_server_on_the_runtime(exported, sequence):
    """``mmusot-vot-trax --onnx DIR`` as the toolkit starts it: the
    handshake names the folder and backend, the boxes are the runtime's."""
    pytest.importorskip('trax')
    import os.path as osp
    import subprocess
    import sys

    import trax
    import trax.client

    seq, frames, box = sequence
    paths = sorted((seq / 'img').glob('*.jpg'))[:3]
    server = subprocess.Popen(
        [sys.executable, '-m', 'mmusot.cli.vot_trax', '--onnx', exported]
        + ['--threads', '1'],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        client = trax.client.Client(
            stream=(server.stdin.fileno(), server.stdout.fileno()),
            log=[].append,
            timeout=120,
        )
        folder = osp.basename(exported)
        assert client.tracker_name == f'{folder}-onnxruntime'
        assert 'USOT' in client.tracker_description
        assert 'on onnxruntime' in client.tracker_description
        client.initialize(
            {'color': trax.FileImage.create(str(paths[0]))},
            [(trax.Rectangle.create(*box), {})],
            {},
        )
        served = []
        for path in paths[1:]:
            state, _ = client.frame(
                {'color': trax.FileImage.create(str(path))}, {}, []
            )
            served.append(state[0][0].bounds())
        client.quit()
        assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    expected = direct_boxes(exported, frames[: len(paths)], box)[1:]
    np.testing.assert_allclose(served, expected, atol=1e-3)
