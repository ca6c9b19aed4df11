# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""tools/analysis/eval_epochs.py: every epoch_*.pth tested as tools/test.py
tests it, one table per epoch (Markdown + CSV), resumable."""

import csv
import json
import os

import pytest

from tests.script_loader import load_script
from tests.test_apis.tiny_models import (
    moving_square,
    save_init_checkpoint,
    write_otb_sequence,
    write_tiny_usot_config,
)

pytestmark = pytest.mark.usefixtures('torch_one_thread')


@pytest.fixture
def run(tmp_path):
    """A fake training run: two epochs of a tiny USOT, and a test config
    on a 4-frame synthetic sequence."""
    clips = tmp_path / 'clips'
    frames, boxes = moving_square(4)
    write_otb_sequence(clips, 'Square', frames, boxes)
    config = write_tiny_usot_config(tmp_path / 'tiny_test.py', clips)
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for epoch, seed in ((1, 0), (2, 5)):
        save_init_checkpoint(config, work_dir / f'epoch_{epoch}.pth', seed)
    (work_dir / 'last_checkpoint').write_text('epoch_2.pth')
    (work_dir / 'best_sot_success_epoch_2.pth').write_bytes(b'not used')
    return dict(config=config, work_dir=work_dir, tmp=tmp_path)


def test_every_epoch_as_tools_test(run, capsys, monkeypatch):
    tool = load_script('tools/analysis/eval_epochs.py')
    work_dir, config = run['work_dir'], run['config']
    rows = tool.main([str(work_dir), config])
    assert [r['epoch'] for r in rows] == [1, 2]
    assert set(rows[0]) == {'epoch', 'success', 'norm_precision', 'precision'}
    out_dir = work_dir / 'eval_epochs' / 'tiny_test'
    # the numbers are tools/test.py's for the same checkpoint
    test_tool = load_script('tools/test.py')
    for row in rows:
        metrics = test_tool.main(
            [
                config,
                str(work_dir / f'epoch_{row["epoch"]}.pth'),
                '--work-dir',
                str(run['tmp'] / f'test{row["epoch"]}'),
            ]
        )
        for key in ('success', 'norm_precision', 'precision'):
            assert row[key] == pytest.approx(metrics[f'sot/{key}'])
    printed = capsys.readouterr().out
    assert '[1/2] epoch_1.pth: evaluating' in printed
    assert '[2/2] epoch_2.pth: sot/success' in printed
    table = (out_dir / 'results.md').read_text()
    assert table.splitlines()[4:6] == [
        '| epoch | success | norm_precision | precision |',
        '|---:|---:|---:|---:|',
    ]
    for row in rows:
        line = (
            f'| {row["epoch"]} | {row["success"]:.3f} | '
            f'{row["norm_precision"]:.3f} | {row["precision"]:.3f} |'
        )
        assert line in table
    best = max(rows, key=lambda r: r['success'])
    assert f'Best success: epoch {best["epoch"]}' in table
    with open(out_dir / 'results.csv') as f:
        csv_rows = list(csv.DictReader(f))
    assert [int(r['epoch']) for r in csv_rows] == [1, 2]
    assert float(csv_rows[1]['success']) == pytest.approx(rows[1]['success'])
    record = json.loads((out_dir / 'epoch_2.json').read_text())
    assert record['metrics']['sot/success'] == pytest.approx(
        rows[1]['success']
    )

    # resumable: evaluated epochs are not run again, new ones are
    save_init_checkpoint(config, work_dir / 'epoch_3.pth', 7)
    evaluated = []
    real = tool.evaluate_checkpoint

    def spy(config, checkpoint, *args, **kwargs):
        evaluated.append(os.path.basename(checkpoint))
        return real(config, checkpoint, *args, **kwargs)

    monkeypatch.setattr(tool, 'evaluate_checkpoint', spy)
    rows2 = tool.main([str(work_dir), config])
    assert evaluated == ['epoch_3.pth']
    assert rows2[:2] == rows and [r['epoch'] for r in rows2] == [1, 2, 3]
    assert '[1/3] epoch_1.pth: already evaluated' in capsys.readouterr().out
    # --plot draws the curve from the kept figures (nothing evaluated)
    evaluated.clear()
    tool.main([str(work_dir), config, '--plot'])
    assert evaluated == []
    png = next(work_dir.glob('eval_epochs/*/learning_curve.png'))
    import cv2

    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (400, 600)
    assert image.std() > 0  # something is drawn
    # a rewritten checkpoint is evaluated again; --epochs picks
    save_init_checkpoint(config, work_dir / 'epoch_1.pth', 9)
    os.utime(work_dir / 'epoch_1.pth', (1, 1))
    evaluated.clear()
    rows3 = tool.main([str(work_dir), config, '--epochs', '1'])
    assert evaluated == ['epoch_1.pth'] and len(rows3) == 1
    # figures measured with other test-time overrides are measured again
    evaluated.clear()
    tool.main(
        [
            str(work_dir),
            config,
            '--epochs',
            '1',
            '--cfg-options',
            'model.test_cfg.lr=0.3',
        ]
    )
    assert evaluated == ['epoch_1.pth']


def test_errors(run, tmp_path):
    tool = load_script('tools/analysis/eval_epochs.py')
    empty = tmp_path / 'empty'
    empty.mkdir()
    for argv, message in (
        ([str(empty), run['config']], 'no epoch_\\*.pth checkpoint in'),
        ([str(tmp_path / 'nope'), run['config']], 'work dir not found'),
        ([str(run['work_dir']), 'nope.py'], 'config file not found'),
        (
            [str(run['work_dir']), run['config'], '--epochs', '4'],
            r'no checkpoint for epoch\(s\) \[4\]',
        ),
    ):
        with pytest.raises(SystemExit, match=message):
            tool.main(argv)
