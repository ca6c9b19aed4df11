# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Training never writes a non-finite model, and stops when it cannot learn.

Issue 19, area B: a skipped NaN batch leaves no NaN in BN's statistics; a
run whose steps are all skipped stops with the likely causes; a model
holding NaN is not saved.
"""

from pathlib import Path
from unittest import mock

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper
from mmtrack.registry import HOOKS
from mmtrack.utils import register_all_modules

from tests.script_loader import load_script
from tests.test_engine.toy_usot import MMUSOTToyTracker, toy_batch
from tests.test_tools.toy_modules import toy_train_config

REPO = Path(__file__).resolve().parents[2]
GUARD_LOG = 'mmusot.engine.optimizers.loss_guard_optim_wrapper.print_log'

TOY_CONFIG = toy_train_config(
    imports=['tests.test_reliability.test_training_guard']
)


@HOOKS.register_module()
class MMUSOTNaNInjectHook(Hook):
    """Puts a NaN into the model after the last iteration of epoch 1, as a
    bug outside the optimizer (or a corrupted buffer) would."""

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        if runner.epoch == 0 and batch_idx == 3:
            with torch.no_grad():
                runner.model.linear.bias.fill_(float('nan'))


@pytest.fixture(scope='module', autouse=True)
def registered():
    register_all_modules(init_default_scope=True)


def guarded(model, **options):
    cfg = dict(
        type='LossGuardOptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        **options,
    )
    wrapper = build_optim_wrapper(model, cfg)
    wrapper.initialize_count_status(model, 0, 100)
    model.train()
    return wrapper


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_a_skipped_nan_first_batch_leaves_the_network_as_it_was():
    """The forward pass of a NaN batch also updates BN's running
    statistics: skipping the step alone left NaN in them, and a checkpoint
    that tracks nan boxes."""
    model = MMUSOTToyTracker()
    wrapper = guarded(model)
    before = state(model)
    with mock.patch(GUARD_LOG) as log:
        model.train_step(toy_batch(float('nan')), wrapper)
    after = state(model)
    for key, value in before.items():
        if key.endswith('num_batches_tracked'):
            continue
        assert torch.isfinite(after[key]).all(), key
        assert torch.equal(after[key], value), key
    (message,) = [c.args[0] for c in log.call_args_list]
    assert message.startswith('Skipping optimizer.step() at iteration 1')
    assert '4 buffer(s) (BN statistics)' in message
    # the next, healthy batch trains from there
    model.train_step(toy_batch(1.0), wrapper)
    assert not torch.equal(state(model)['neck.weight'], before['neck.weight'])
    assert all(torch.isfinite(v).all() for v in state(model).values())


def test_a_run_that_only_skips_stops_naming_the_causes():
    from mmusot.engine import MAX_CONSECUTIVE_SKIPS, TrainingStalledError

    model = MMUSOTToyTracker()
    assert guarded(model).max_consecutive_skips == MAX_CONSECUTIVE_SKIPS
    wrapper = guarded(model, max_consecutive_skips=3)
    nan, good = toy_batch(float('nan')), toy_batch(1.0)
    with mock.patch(GUARD_LOG):
        # two skips, a healthy step (the count starts again), two skips
        for batch in (nan, nan, good, nan, nan):
            model.train_step(batch, wrapper)
        assert wrapper.skipped_in_a_row == 2
        with pytest.raises(TrainingStalledError) as err:
            model.train_step(nan, wrapper)
    message = str(err.value)
    assert 'the last 3 optimizer steps were all skipped' in message
    assert 'iteration 6' in message and 'the loss is nan' in message
    assert 'mmusot-eval-pseudo-labels' in message
    assert 'optim_wrapper.optimizer.lr' in message
    assert 'optim_wrapper.max_consecutive_skips' in message
    # 0: never stop
    model = MMUSOTToyTracker()
    wrapper = guarded(model, max_consecutive_skips=0)
    with mock.patch(GUARD_LOG):
        for _ in range(5):
            model.train_step(nan, wrapper)
    assert wrapper.skipped_in_a_row == 5
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match='max_consecutive_skips'):
            guarded(MMUSOTToyTracker(), max_consecutive_skips=bad)


@pytest.fixture
def train_tool(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    (tmp_path / 'toy.py').write_text(TOY_CONFIG)
    return load_script('tools/train.py')


def test_train_tool_stops_a_diverged_run_before_saving_it(
    train_tool, tmp_path
):
    # One step at an absurd learning rate: every loss after it overflows.
    config = str(tmp_path / 'toy.py')
    work = tmp_path / 'diverged'
    options = [
        'optim_wrapper.optimizer.lr=1e30',
        'optim_wrapper.max_consecutive_skips=3',
    ]
    with mock.patch(GUARD_LOG):
        with pytest.raises(SystemExit) as exit_:
            train_tool.main(
                [config, '--work-dir', str(work), '--cfg-options', *options]
            )
    message = str(exit_.value.code)
    assert message.startswith(f'error: training {config} stopped: ')
    assert 'the last 3 optimizer steps were all skipped' in message
    assert not list(work.glob('*.pth'))


def test_a_model_holding_nan_is_not_saved(train_tool, tmp_path):
    config = tmp_path / 'poisoned.py'
    config.write_text(
        TOY_CONFIG + "custom_hooks = [dict(type='MMUSOTNaNInjectHook')]\n"
    )
    work = tmp_path / 'poisoned'
    with pytest.raises(SystemExit) as exit_:
        train_tool.main([str(config), '--work-dir', str(work)])
    message = str(exit_.value.code)
    assert message.startswith('error: not saving the checkpoint of epoch 1')
    assert 'state_dict: linear.bias' in message
    assert not list(work.glob('*.pth'))
