# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.script_loader import load_script

REPO = Path(__file__).resolve().parents[2]

TOY_CONFIG = """
default_scope = 'mmtrack'
custom_imports = dict(
    imports=['tests.test_tools.toy_modules'], allow_failed_imports=False)
model = dict(type='MMUSOTToyRegressor')
train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MMUSOTToyDataset'),
    collate_fn=dict(type='pseudo_collate'))
train_cfg = dict(by_epoch=True, max_epochs=2)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = dict(
    type='MultiStepLR', milestones=[1], gamma=0.5, begin=0, end=2)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1),
    logger=dict(type='LoggerHook', interval=1))
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
"""


def load_tool(name):
    return load_script(f'tools/{name}.py')


@pytest.fixture(scope='module')
def train_tool():
    return load_tool('train')


@pytest.fixture
def toy_config(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    path = tmp_path / 'toy.py'
    path.write_text(TOY_CONFIG)
    return str(path)


def final_weights(runner):
    state = runner.model.state_dict()
    return {k: v.detach().clone() for k, v in state.items()}


def test_save_then_resume_matches_uninterrupted_training(
    train_tool, toy_config, tmp_path
):
    straight = train_tool.main(
        [toy_config, '--work-dir', str(tmp_path / 'straight')]
    )
    expected = final_weights(straight)
    assert straight.epoch == 2

    # Stop after the first epoch, as an interrupted run would.
    first = tmp_path / 'interrupted'
    train_tool.main(
        [
            toy_config,
            '--work-dir',
            str(first),
            '--cfg-options',
            'train_cfg.max_epochs=1',
        ]
    )
    assert (first / 'epoch_1.pth').is_file()
    assert not (first / 'epoch_2.pth').exists()

    # --resume with no value: the latest checkpoint of the work dir.
    resumed = train_tool.main(
        [toy_config, '--work-dir', str(first), '--resume']
    )
    assert resumed.epoch == 2
    for key, value in final_weights(resumed).items():
        torch.testing.assert_close(value, expected[key])

    # --resume PATH into a fresh work dir gives the same result.
    other = train_tool.main(
        [
            toy_config,
            '--work-dir',
            str(tmp_path / 'other'),
            '--resume',
            str(first / 'epoch_1.pth'),
        ]
    )
    for key, value in final_weights(other).items():
        torch.testing.assert_close(value, expected[key])


def test_checkpoints_load_with_the_safe_unpickler(
    train_tool, toy_config, tmp_path
):
    from mmusot.engine import safe_torch_load

    train_tool.main(
        [
            toy_config,
            '--work-dir',
            str(tmp_path),
            '--cfg-options',
            'train_cfg.max_epochs=1',
        ]
    )
    ckpt = safe_torch_load(str(tmp_path / 'epoch_1.pth'))
    assert {'state_dict', 'optimizer', 'message_hub', 'meta'} <= set(ckpt)
    assert ckpt['meta']['epoch'] == 1


def test_url_checkpoints_are_refused_with_a_clear_error(
    train_tool, toy_config
):
    with pytest.raises(SystemExit, match='never downloads'):
        train_tool.main(
            [
                toy_config,
                '--cfg-options',
                'load_from=https://example.com/weights.pth',
            ]
        )
    with pytest.raises(SystemExit, match='does not exist'):
        train_tool.main([toy_config, '--resume', '/nonexistent/epoch_3.pth'])
    with pytest.raises(SystemExit, match='config file not found'):
        train_tool.main(['/nonexistent/config.py'])


def test_remote_schemes_never_download():
    from mmengine.runner import CheckpointLoader

    from mmusot.engine import OfflineCheckpointError

    for url in (
        'https://download.openmmlab.com/x.pth',
        'torchvision://resnet50',
        'open-mmlab://resnet50_v1c',
    ):
        with pytest.raises(OfflineCheckpointError, match='local path'):
            CheckpointLoader.load_checkpoint(url)


def test_backbone_url_in_init_cfg_is_found():
    from mmengine.config import Config

    from mmusot.engine import OfflineCheckpointError, check_offline_config

    cfg = Config(
        dict(
            model=dict(
                backbone=dict(
                    init_cfg=dict(
                        type='Pretrained', checkpoint='https://x.org/r50.pth'
                    )
                )
            )
        )
    )
    with pytest.raises(
        OfflineCheckpointError, match=r'model\.backbone\.init_cfg\.checkpoint'
    ):
        check_offline_config(cfg, 'my_config.py')


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_help_and_both_local_rank_spellings(tool, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, osp.join('tools', f'{tool}.py'), '--help'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '--cfg-options' in out and '--launcher' in out
    module = load_tool(tool)
    for flag in ('--local_rank', '--local-rank'):
        args = module.parse_args(['cfg.py', flag, '3'])
        assert args.local_rank == 3
