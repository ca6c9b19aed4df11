# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT schedule under resume and under torchrun DDP (2 CPU processes).

The toy config is the real ``schedules/usot_30e.py`` shrunk to 4 epochs:
cycle stage from epoch 2, backbone layer1-3 unfrozen at epoch 3.
"""

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import torch

from tests.script_loader import load_script
from tests.test_engine.toy_usot import recorder_of, write_toy_config

REPO = Path(__file__).resolve().parents[2]
LAYERS = ('backbone.layer1.', 'backbone.layer2.', 'backbone.layer3.')


@pytest.fixture(scope='module')
def train_tool():
    return load_script('tools/train.py')


def losses(runner):
    """{(epoch, iteration): loss} recorded during ``runner``'s training."""
    return {(e, i): loss for e, i, loss, _ in recorder_of(runner).iters}


@pytest.mark.parametrize(
    'stop_after',
    [
        2,  # resumed in the cycle stage, before the unfreeze epoch
        3,  # resumed after the unfreeze (trainable layers, momentum kept)
    ],
)
def test_resume_continues_like_an_uninterrupted_run(
    train_tool, tmp_path, monkeypatch, stop_after
):
    monkeypatch.syspath_prepend(str(REPO))
    config = write_toy_config(tmp_path / 'toy.py')
    straight = train_tool.main(
        [config, '--work-dir', str(tmp_path / 'straight')]
    )
    expected = losses(straight)
    assert len(expected) == 16

    work = tmp_path / 'interrupted'
    train_tool.main(
        [
            config,
            '--work-dir',
            str(work),
            '--cfg-options',
            f'train_cfg.max_epochs={stop_after}',
        ]
    )
    checkpoint = work / f'epoch_{stop_after}.pth'
    assert checkpoint.is_file()
    resumed = train_tool.main(
        [config, '--work-dir', str(work), '--resume', str(checkpoint)]
    )
    got = losses(resumed)
    assert sorted(got) == [k for k in sorted(expected) if k[0] > stop_after]
    # Same next-iteration loss, and the same losses to the end.
    for key in sorted(got):
        assert got[key] == pytest.approx(expected[key], rel=1e-6), key
    final = {k: v for k, v in resumed.model.state_dict().items()}
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(final[name], value, rtol=1e-6, atol=1e-7)
    assert resumed.model.backbone.layer2.weight.requires_grad
    assert not resumed.model.backbone.conv1.weight.requires_grad


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dist_train_two_processes_keeps_ranks_in_sync(tmp_path):
    config = write_toy_config(tmp_path / 'toy.py', batch_size=2)
    work = tmp_path / 'work'
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1')
    env.pop('LOCAL_RANK', None)
    proc = subprocess.run(
        [
            'bash',
            str(REPO / 'tools/dist_train.sh'),
            config,
            '2',
            '--work-dir',
            str(work),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    records = [
        json.loads((work / f'record_rank{r}.json').read_text()) for r in (0, 1)
    ]
    params = [
        torch.load(work / f'params_rank{r}.pth', weights_only=True)
        for r in (0, 1)
    ]
    # 16 samples, 2 ranks x batch 2: 4 iterations per epoch on each rank.
    for record in records:
        assert len(record['iters']) == 16
        stages = {(e, s) for e, _, _, s in record['iters']}
        assert stages == {
            (1, 'naive'),
            (2, 'cycle'),
            (3, 'cycle'),
            (4, 'cycle'),
        }
        trainable = {e['epoch']: e['trainable'] for e in record['epochs']}
        assert trainable[2] == [] and len(trainable[3]) > 0
    # The ranks saw different data ...
    assert [i[2] for i in records[0]['iters']] != [
        i[2] for i in records[1]['iters']
    ]
    # ... yet DDP kept every parameter identical, the backbone layers
    # unfrozen mid-run included (the wrapper was rebuilt for them).
    final0, final1 = params[0]['final'], params[1]['final']
    for name in final0:
        torch.testing.assert_close(final0[name], final1[name], msg=name)
    initial = params[0]['initial']
    moved = [
        n
        for n in final0
        if n.startswith(LAYERS) and not torch.equal(final0[n], initial[n])
    ]
    assert moved == [n for n in final0 if n.startswith(LAYERS)]
    assert 'rebuilt the model wrapper' in proc.stdout + proc.stderr
    assert (work / 'epoch_4.pth').is_file()
