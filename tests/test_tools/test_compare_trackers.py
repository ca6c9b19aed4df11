# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""tools/benchmark/compare_trackers.py: MIL on short synthetic sequences,
cached results, the table and plot, and the OPE protocol of tools/test.py
(a USOT checkpoint scores the same in both)."""

import json

import numpy as np
import pytest

from tests.fixtures import require_shared
from tests.script_loader import load_script
from tests.test_apis.tiny_models import (
    moving_square,
    save_init_checkpoint,
    write_otb_sequence,
    write_tiny_usot_config,
)

NUM_FRAMES = 6


pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/benchmark/compare_trackers.py')


@pytest.fixture(scope='module')
def otb_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('clips')
    for name, seed, start in (('Alpha', 0, (30, 40)), ('Beta', 1, (80, 50))):
        frames, boxes = moving_square(NUM_FRAMES, seed=seed, start=start)
        write_otb_sequence(root, name, frames, boxes)
    return root


def mil_only(otb_root, out_dir, *extra):
    return [
        '--data-root',
        str(otb_root),
        '--out-dir',
        str(out_dir),
        '--opencv',
        '--no-nanotrack',
        *extra,
    ]


def test_mil_table_plot_and_cache(tool, otb_root, tmp_path, capsys):
    from mmusot.evaluation import (
        evaluate_ope,
        load_sequences,
        read_result_folder,
    )

    out = tmp_path / 'cmp'
    (result,) = tool.main(mil_only(otb_root, out))
    printed = capsys.readouterr().out
    assert result.name == 'MIL' and result.num_frames == 2 * NUM_FRAMES
    assert result.fps is not None and result.fps > 0
    # per-sequence OTB files: one x,y,w,h line per frame, frame 0 = GT
    folder = out / 'results' / 'MIL'
    sequences = load_sequences(str(otb_root))
    for info in sequences:
        boxes = np.loadtxt(folder / f'{info.name}.txt', delimiter=',')
        assert boxes.shape == (NUM_FRAMES, 4)
        np.testing.assert_allclose(boxes[0], info.gt_xywh[0])
    # the numbers are those of the result files, scored by SOTMetric
    rescored = evaluate_ope(
        read_result_folder(str(folder), sequences), sequences, 'MIL'
    )
    assert result.success == rescored.success
    assert result.precision == rescored.precision
    assert result.success > 50  # MIL follows a textured square
    table = (out / 'results.md').read_text()
    row = (
        f'| MIL | {result.success:.1f} | {result.precision:.1f} | '
        f'{result.norm_precision:.1f} | {result.fps:.1f} | 12 |'
    )
    assert row in table and row in printed
    alpha = result.per_sequence['Alpha']
    assert (
        f'| Alpha | {alpha["success"]:.1f} / {alpha["precision"]:.1f} |'
    ) in table.split('## Per sequence')[1]
    assert (out / 'results.csv').read_text().startswith('tracker,success,')
    assert (out / 'success_precision.png').read_bytes()[:4] == b'\x89PNG'
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta['timing']['Alpha']['frames'] == NUM_FRAMES

    # second run: cached, same table; --force runs again
    (again,) = tool.main(mil_only(otb_root, out))
    assert 'MIL Alpha: cached' in capsys.readouterr().out
    assert (again.success, again.fps) == (result.success, result.fps)
    tool.main(mil_only(otb_root, out, '--force', '--sequences', 'Beta'))
    assert 'MIL Beta: 6 frames' in capsys.readouterr().out
    # a shorter run reuses the prefix of the cached boxes
    (short,) = tool.main(mil_only(otb_root, out, '--max-frames', '3'))
    assert 'cached' in capsys.readouterr().out and short.num_frames == 6


def test_optional_trackers_are_skipped_with_a_note(tool, otb_root, tmp_path):
    from mmusot.apis import opencv_factory

    argv = mil_only(otb_root, tmp_path / 'o', '--max-frames', '2')
    argv[argv.index('--no-nanotrack')] = '--nanotrack'
    argv.insert(argv.index('--nanotrack') + 1, str(tmp_path / 'no_models'))
    argv[argv.index('--opencv') + 1 : argv.index('--opencv') + 1] = [
        'KCF',
        'CSRT',
    ]
    results = tool.main(argv)
    names = [r.name for r in results]
    table = (tmp_path / 'o' / 'results.md').read_text()
    for kind in ('KCF', 'CSRT'):
        if opencv_factory(kind) is None:
            assert kind not in names
            assert f'- {kind}: skipped' in table
        else:
            assert kind in names
    assert 'NanoTrack: skipped' in table and 'no_models' in table


def test_bad_arguments(tool, otb_root, tmp_path):
    for extra, message in (
        (['--usot-config', 'x.py'], 'needs both'),
        (
            ['--usot-config', 'x.py', '--usot-checkpoint', 'y.pth'],
            'config file not found',
        ),
        (['--sequences', 'Gamma'], r"\['Gamma'\] not found"),
    ):
        with pytest.raises(SystemExit, match=message):
            tool.main(mil_only(otb_root, tmp_path / 'bad', *extra))


def test_usot_scores_as_in_tools_test(tool, otb_root, tmp_path):
    """Same checkpoint: compare_trackers' OPE numbers = tools/test.py's."""
    config = write_tiny_usot_config(tmp_path / 'tiny.py', otb_root)
    checkpoint = save_init_checkpoint(config, tmp_path / 'usot.pth')
    results = tool.main(
        mil_only(
            otb_root,
            tmp_path / 'cmp',
            '--usot-config',
            config,
            '--usot-checkpoint',
            checkpoint,
            '--usot-name',
            'tinyUSOT',
        )
    )
    usot = {r.name: r for r in results}['tinyUSOT']
    metrics = load_script('tools/test.py').main(
        [config, checkpoint, '--work-dir', str(tmp_path / 'work')]
    )
    assert usot.success == pytest.approx(metrics['sot/success'], abs=1e-9)
    assert usot.precision == pytest.approx(metrics['sot/precision'], abs=1e-9)
    assert usot.norm_precision == pytest.approx(
        metrics['sot/norm_precision'], abs=1e-9
    )


def test_mil_boxes_on_real_sequences_are_opencvs(tool, tmp_path):
    """On real clips (Car4 is grey) the tool's MIL boxes are those of
    OpenCV's MIL started from int() of the first ground-truth box, with
    the random generators as in a fresh process."""
    import cv2

    from mmusot.apis.opencv_trackers import reset_random_state

    data = require_shared('data/sot_eval')
    num_frames = 30
    out = tmp_path / 'real'
    (result,) = tool.main(
        mil_only(
            data,
            out,
            '--sequences',
            'Car4',
            'Crossing',
            '--max-frames',
            str(num_frames),
        )
    )
    assert result.num_frames == 2 * num_frames
    for name in ('Car4', 'Crossing'):
        paths = sorted((data / name / 'img').iterdir())[:num_frames]
        with open(data / name / 'groundtruth_rect.txt') as f:
            first = [
                float(v) for v in f.readline().replace('\t', ',').split(',')
            ]
        assert reset_random_state()  # as in a fresh process
        mil = cv2.TrackerMIL_create()
        mil.init(cv2.imread(str(paths[0])), tuple(int(v) for v in first))
        expected = [first] + [
            list(mil.update(cv2.imread(str(p)))[1]) for p in paths[1:]
        ]
        got = np.loadtxt(
            out / 'results' / 'MIL' / f'{name}.txt', delimiter=','
        )
        np.testing.assert_allclose(got, expected, err_msg=name)
