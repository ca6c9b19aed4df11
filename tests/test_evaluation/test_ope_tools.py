# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""OPE scoring of result files, plots and tables on a hand-made case.

Two sequences whose IoUs and centre errors are worked out by hand, with
mmtrack's ``eval_sot_ope`` rules: success counts IoU > t for the 21
thresholds 0, 0.05, ..., 1 and invalid ground truth is a miss; precision
counts centre error <= 20 px and invalid ground truth is a hit.
"""

import csv

import numpy as np
import pytest

from tests.script_loader import load_script
from tests.test_apis.tiny_models import write_otb_sequence

GT_A = [[10, 10, 20, 20]] * 4
PRED_A = [
    [10, 10, 20, 20],  # IoU 1, error 0
    [10, 10, 20, 20],  # IoU 1, error 0
    [20, 10, 20, 20],  # IoU 1/3, error 10 px (0.5 box widths)
    [40, 40, 20, 20],  # IoU 0, error 42.4 px
]
GT_B = [[5, 5, 10, 10], [5, 5, 10, 10], [0, 0, 0, 0]]  # last: invalid
PRED_B = [[5, 5, 10, 10], [5, 5, 10, 10], [30, 30, 10, 10]]

# success per threshold: A: 3/4 for t <= 0.30 (7 thresholds), 2/4 for
# 0.35..0.95 (13), 0 at t = 1; B: 2/3 for t < 1 (20), 0 at t = 1.
SUCCESS_A = 100 * (7 * 0.75 + 13 * 0.5) / 21
SUCCESS_B = 100 * (20 * 2 / 3) / 21
PRECISION_A, PRECISION_B = 75.0, 100.0  # B: the invalid frame is a hit
NORM_PRECISION_A, NORM_PRECISION_B = 50.0, 100.0
SUCCESS = (SUCCESS_A + SUCCESS_B) / 2
PRECISION = (PRECISION_A + PRECISION_B) / 2
NORM_PRECISION = (NORM_PRECISION_A + NORM_PRECISION_B) / 2


@pytest.fixture
def otb_root(tmp_path):
    root = tmp_path / 'otb'
    for name, gt in (('SeqA', GT_A), ('SeqB', GT_B)):
        frames = [np.full((64, 64, 3), 90, np.uint8) for _ in gt]
        write_otb_sequence(root, name, frames, np.array(gt, float))
    return root


@pytest.fixture
def result_dirs(tmp_path):
    from mmusot.evaluation import write_track_results

    good, perfect = tmp_path / 'res_good', tmp_path / 'res_perfect'
    write_track_results(str(good / 'SeqA.txt'), PRED_A)
    write_track_results(str(good / 'SeqB.txt'), PRED_B)
    write_track_results(str(perfect / 'SeqA.txt'), GT_A)
    write_track_results(str(perfect / 'SeqB.txt'), GT_B)
    return good, perfect


def test_evaluate_ope_gives_the_hand_computed_numbers(otb_root, result_dirs):
    from mmusot.evaluation import (
        PRECISION_THRESHOLDS,
        evaluate_ope,
        load_sequences,
        read_result_folder,
    )

    sequences = load_sequences(str(otb_root))
    assert [s.name for s in sequences] == ['SeqA', 'SeqB']
    np.testing.assert_array_equal(sequences[1].gt_xywh, GT_B)
    preds = read_result_folder(str(result_dirs[0]), sequences)
    result = evaluate_ope(preds, sequences, 'good', fps=12.5)
    assert result.success == pytest.approx(SUCCESS, abs=1e-9)
    assert result.precision == pytest.approx(PRECISION, abs=1e-9)
    assert result.norm_precision == pytest.approx(NORM_PRECISION, abs=1e-9)
    assert result.num_frames == 7 and result.fps == 12.5
    seq_a, seq_b = result.per_sequence['SeqA'], result.per_sequence['SeqB']
    assert seq_a['success'] == pytest.approx(SUCCESS_A)
    assert seq_b['success'] == pytest.approx(SUCCESS_B)
    assert (seq_a['precision'], seq_b['precision']) == (75.0, 100.0)
    # the curves: mean over the two sequences
    assert result.success_curve.shape == (21,)
    np.testing.assert_allclose(
        result.success_curve[[0, 6, 7, 19, 20]],
        [(75 + 200 / 3) / 2] * 2 + [(50 + 200 / 3) / 2] * 2 + [0],
    )
    expected_precision = np.where(
        PRECISION_THRESHOLDS < 10,
        (50 + 100) / 2,
        np.where(PRECISION_THRESHOLDS < 42.43, (75 + 100) / 2, 100.0),
    )
    np.testing.assert_allclose(result.precision_curve, expected_precision)

    # shorter results than frames: a clear error; longer: the prefix
    with pytest.raises(ValueError, match='SeqA.*4 frames.*only 3'):
        evaluate_ope({**preds, 'SeqA': preds['SeqA'][:3]}, sequences)
    longer = {**preds, 'SeqA': np.vstack([preds['SeqA'], [[0, 0, 1, 1]]])}
    assert evaluate_ope(longer, sequences).success == result.success
    with pytest.raises(KeyError, match='SeqB'):
        evaluate_ope({'SeqA': preds['SeqA']}, sequences)


def test_evaluate_ope_equals_sot_metric_of_tools_test(otb_root, result_dirs):
    """The same numbers as SOTMetric fed sample by sample."""
    from mmtrack.evaluation.functional import eval_sot_ope

    from mmusot.evaluation import evaluate_ope, load_sequences

    sequences = load_sequences(str(otb_root))
    preds = {'SeqA': np.array(PRED_A, float), 'SeqB': np.array(PRED_B, float)}
    result = evaluate_ope(preds, sequences)

    def xyxy(b):
        b = np.array(b, float)
        return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], 1)

    direct = eval_sot_ope(
        [list(xyxy(PRED_A)), list(xyxy(PRED_B))], [xyxy(GT_A), xyxy(GT_B)]
    )
    assert result.success == pytest.approx(direct['success'])
    assert result.precision == pytest.approx(direct['precision'])


def test_tables_carry_the_numbers(tmp_path, otb_root, result_dirs):
    from mmusot.evaluation import (
        evaluate_ope,
        load_sequences,
        markdown_table,
        ope_markdown_table,
        ope_rows,
        per_sequence_markdown_table,
        read_result_folder,
        write_csv,
    )

    sequences = load_sequences(str(otb_root))
    good = evaluate_ope(
        read_result_folder(str(result_dirs[0]), sequences), sequences, 'good'
    )
    perfect = evaluate_ope(
        read_result_folder(str(result_dirs[1]), sequences), sequences, 'ideal'
    )
    table = ope_markdown_table([good, perfect]).splitlines()
    assert table[0] == (
        '| Tracker | Success AUC | Precision@20 | Norm. precision | FPS | '
        'Frames |'
    )
    assert table[1] == '|:---|---:|---:|---:|---:|---:|'
    # best first; 'ideal': 20/21 on A, 20/21 * 2/3 on B
    ideal = 100 * (20 / 21 + 20 / 21 * 2 / 3) / 2
    assert table[2] == f'| ideal | {ideal:.1f} | 100.0 | 100.0 | - | 7 |'
    assert table[3] == f'| good | {SUCCESS:.1f} | 87.5 | 75.0 | - | 7 |'

    per_sequence = per_sequence_markdown_table([good, perfect]).splitlines()
    assert per_sequence[0] == '| Sequence (AUC / prec.@20) | ideal | good |'
    assert per_sequence[1] == '|:---|:---|:---|'
    assert per_sequence[2:] == [
        f'| SeqA | {100 * 20 / 21:.1f} / 100.0 | {SUCCESS_A:.1f} / 75.0 |',
        f'| SeqB | {100 * 20 / 21 * 2 / 3:.1f} / 100.0 | '
        f'{SUCCESS_B:.1f} / 100.0 |',
    ]

    write_csv(str(tmp_path / 't.csv'), ope_rows([good, perfect]))
    with open(tmp_path / 't.csv') as f:
        rows = list(csv.DictReader(f))
    assert rows[1]['tracker'] == 'good'
    assert float(rows[1]['success']) == pytest.approx(SUCCESS)
    assert rows[1]['fps'] == ''

    generic = markdown_table(
        [dict(epoch=1, eao=0.3521, name='a|b'), dict(epoch=2, eao=None)],
        decimals=3,
    )
    assert generic.splitlines() == [
        '| epoch | eao | name |',
        '|---:|---:|:---|',
        '| 1 | 0.352 | a\\|b |',
        '| 2 | - | - |',
    ]


def test_plot_carries_curves_and_legends(tmp_path, otb_root, result_dirs):
    import matplotlib.pyplot as plt

    from mmusot.evaluation import (
        evaluate_ope,
        load_sequences,
        plot_success_precision,
        read_result_folder,
    )

    sequences = load_sequences(str(otb_root))
    results = [
        evaluate_ope(read_result_folder(str(d), sequences), sequences, n)
        for d, n in zip(result_dirs, ('good', 'ideal'))
    ]
    out = tmp_path / 'plots' / 'p.png'
    fig = plot_success_precision(results, str(out), 'hand-made')
    try:
        assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        success_ax, precision_ax = fig.axes
        labels = [t.get_text() for t in success_ax.get_legend().get_texts()]
        ideal = 100 * (20 / 21 + 20 / 21 * 2 / 3) / 2
        assert labels == [f'ideal [{ideal:.1f}]', f'good [{SUCCESS:.1f}]']
        labels = [t.get_text() for t in precision_ax.get_legend().get_texts()]
        assert labels == ['ideal [100.0]', 'good [87.5]']
        good_line = success_ax.get_lines()[1]
        np.testing.assert_allclose(
            good_line.get_ydata(), results[0].success_curve / 100
        )
        # the area under the drawn success curve is the AUC
        assert np.mean(good_line.get_ydata()) * 100 == pytest.approx(SUCCESS)
    finally:
        plt.close(fig)


def test_plot_tool(tmp_path, otb_root, result_dirs, capsys):
    tool = load_script('tools/analysis/plot_success_precision.py')
    good, perfect = result_dirs
    (good / 'Extra.txt').write_text('1,1,2,2\n')  # no such sequence: ignored
    out = tmp_path / 'out'
    results = tool.main(
        [
            f'good={good}',
            str(perfect),
            '--data-root',
            str(otb_root),
            '--out',
            str(out / 'plot.png'),
            '--table',
            str(out / 'table.md'),
            '--csv',
            str(out / 'table.csv'),
        ]
    )
    assert [r.name for r in results] == ['good', 'res_perfect']
    assert results[0].success == pytest.approx(SUCCESS)
    assert (out / 'plot.png').is_file() and (out / 'table.csv').is_file()
    text = (out / 'table.md').read_text()
    assert f'| good | {SUCCESS:.1f} | 87.5 | 75.0 | - | 7 |' in text
    assert text in capsys.readouterr().out

    # a sequence without results in one folder is left out, and said so
    (perfect / 'SeqB.txt').unlink()
    results = tool.main(
        [str(good), str(perfect), '--data-root', str(otb_root), '--out',
         str(out / 'p2.png')]
    )  # fmt: skip
    assert results[0].per_sequence.keys() == {'SeqA'}
    assert "left out): ['SeqB']" in capsys.readouterr().out
    for argv, message in (
        ([str(tmp_path / 'nope')], 'result folder not found'),
        ([str(good), '--data-root', str(tmp_path / 'x')], 'not found'),
        (
            [str(perfect), '--data-root', str(otb_root), '--sequences',
             'SeqB'],
            r"no result file for sequence\(s\) \['SeqB'\]",
        ),
    ):  # fmt: skip
        with pytest.raises(SystemExit, match=message):
            tool.main(argv + ['--out', str(out / 'x.png')])
