# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import io
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.script_loader import load_script
from tests.test_tools.toy_modules import toy_train_config

REPO = Path(__file__).resolve().parents[2]

TOY_CONFIG = toy_train_config(
    optim_wrapper='OptimWrapper',
    extra="""
param_scheduler = dict(
    type='MultiStepLR', milestones=[1], gamma=0.5, begin=0, end=2)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1),
    logger=dict(type='LoggerHook', interval=1))
randomness = dict(seed=0)
""",
)


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
    from mmusot.utils import safe_torch_load

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


def test_missing_files_get_a_clear_error(train_tool, toy_config):
    with pytest.raises(SystemExit, match='does not exist'):
        train_tool.main([toy_config, '--resume', '/nonexistent/epoch_3.pth'])
    with pytest.raises(SystemExit, match='config file not found'):
        train_tool.main(['/nonexistent/config.py'])


def test_missing_pretrained_backbone_names_the_key_and_the_fix():
    from mmengine.config import Config

    from mmusot.engine import MissingCheckpointError, check_checkpoint_paths

    cfg = Config(
        dict(
            model=dict(
                backbone=dict(
                    init_cfg=dict(
                        type='Pretrained',
                        checkpoint='~/.cache/mmusot/weights/absent.pth',
                    )
                )
            )
        )
    )
    with pytest.raises(
        MissingCheckpointError,
        match=r'model\.backbone\.init_cfg\.checkpoint in my_config.py.*'
        r'make weights',
    ):
        check_checkpoint_paths(cfg, 'my_config.py')
    # remote locations are mmengine's business: not checked
    cfg.model.backbone.init_cfg.checkpoint = 'https://x.org/r50.pth'
    check_checkpoint_paths(cfg, 'my_config.py')


def test_import_leaves_mmengine_loaders_alone():
    """A plugin must not change how mmengine loads other models' weights.

    With mmusot imported (and its tools' safe local loading on), a stock
    mmtrack init_cfg with an https checkpoint reaches mmengine's own http
    loader and an s3 path reaches mmengine's file backend.
    """
    from unittest import mock

    import mmengine.runner.checkpoint as ckpt_module
    from mmengine.runner.checkpoint import CheckpointLoader

    import mmusot  # noqa: F401
    from mmusot.engine import use_safe_local_loading

    use_safe_local_loading()
    sentinel = {'state_dict': {'w': torch.ones(1)}}
    url = 'https://download.openmmlab.com/mmtracking/x.pth'
    with mock.patch.object(
        ckpt_module, 'load_url', return_value=sentinel
    ) as download:
        assert CheckpointLoader.load_checkpoint(url) is sentinel
    assert download.call_args.args[0] == url

    class FakeS3:
        def __init__(self):
            self.paths = []

        def get(self, path):
            self.paths.append(path)
            buffer = io.BytesIO()
            torch.save(sentinel, buffer)
            return buffer.getvalue()

    backend = FakeS3()
    with mock.patch.object(
        ckpt_module, 'get_file_backend', return_value=backend
    ):
        loaded = CheckpointLoader.load_checkpoint('s3://bucket/r50.pth')
    assert backend.paths == ['s3://bucket/r50.pth']
    torch.testing.assert_close(loaded['state_dict']['w'], torch.ones(1))


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
