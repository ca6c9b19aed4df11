# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import glob
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmtrack.utils import register_all_modules

from mmusot.engine import BackboneUnfreezeHook, build_runner, load_config
from tests.test_engine.toy_usot import (
    SCHEDULE,
    MMUSOTToyTracker,
    recorder_of,
    toy_batch,
    write_toy_config,
)

LAYERS = ('backbone.layer1', 'backbone.layer2', 'backbone.layer3')
STEM = ('backbone.conv1', 'backbone.bn1')


@pytest.fixture(scope='module', autouse=True)
def registered():
    register_all_modules(init_default_scope=True)


def names_under(params, prefixes):
    return [
        n for n in params if n.startswith(tuple(p + '.' for p in prefixes))
    ]


def changed(before, after, names):
    return [n for n in names if not torch.equal(before[n], after[n])]


def train(tmp_path, refreeze=False):
    config = write_toy_config(tmp_path / 'toy.py', refreeze=refreeze)
    cfg = load_config(config, work_dir=str(tmp_path / 'work'))
    # mmengine names the run's logger after the config file and the second
    # it starts: two toy runs in the same second would share one logger
    # (and its log file). A name per test keeps each run's log its own.
    cfg.experiment_name = f'toy_{tmp_path.name}'
    runner = build_runner(cfg, config)
    runner.train()
    return runner


def test_layers_train_only_from_the_unfreeze_epoch(tmp_path):
    # Cycle stage from epoch 2, layer1-3 unfrozen at epoch 3 (1-based).
    runner = train(tmp_path)
    record = recorder_of(runner)
    snaps = record.snapshots  # initial, then after epochs 1..4
    assert len(snaps) == 5
    layers = names_under(snaps[0], LAYERS)
    stem = names_under(snaps[0], STEM)
    rest = names_under(snaps[0], ('neck', 'head'))
    assert layers and stem and rest
    for epoch in (1, 2):
        assert not changed(snaps[epoch - 1], snaps[epoch], layers), epoch
        assert changed(snaps[epoch - 1], snaps[epoch], rest), epoch
    for epoch in (3, 4):
        # Every layer1-3 parameter (weights, biases, BN) moves.
        assert changed(snaps[epoch - 1], snaps[epoch], layers) == layers
    assert not changed(snaps[0], snaps[4], stem)

    epochs = {e['epoch']: e for e in record.epochs}
    assert epochs[2]['trainable'] == []
    assert epochs[3]['trainable'] == sorted(layers)
    for epoch, info in epochs.items():
        lr = info['lr']
        mult = 0.1
        assert lr['backbone'] == pytest.approx(mult * lr['head']), epoch
    # Stage hook in the same run: naive epoch 1, cycle from epoch 2.
    stages = {(e, s) for e, _, _, s in record.iters}
    assert stages == {(1, 'naive'), (2, 'cycle'), (3, 'cycle'), (4, 'cycle')}
    assert epochs[2]['lambda1'] == 0.3 and epochs[3]['lambda1'] == 0.25


def test_unfreezing_survives_a_model_whose_train_refreezes(tmp_path):
    runner = train(tmp_path, refreeze=True)
    snaps = recorder_of(runner).snapshots
    layers = names_under(snaps[0], LAYERS)
    assert not changed(snaps[0], snaps[2], layers)
    assert changed(snaps[2], snaps[3], layers) == layers
    assert changed(snaps[3], snaps[4], layers) == layers
    logs = glob.glob(osp.join(runner.work_dir, '*', '*.log'))
    text = ''.join(open(f).read() for f in logs)
    assert 'model.train() changed requires_grad' in text


def make_runner(epoch, frozen=('backbone',), groups=None):
    cfg = Config.fromfile(SCHEDULE)
    optim_cfg = cfg.optim_wrapper.copy()
    if groups is not None:
        optim_cfg.paramwise_cfg = dict(groups=groups)
    model = MMUSOTToyTracker(frozen_modules=frozen)
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    optim_wrapper.initialize_count_status(model, 0, 10)
    model.train()
    model.train_step(toy_batch(1.0), optim_wrapper)  # momentum buffers
    return SimpleNamespace(
        epoch=epoch - 1, model=model, optim_wrapper=optim_wrapper, cfg=Config()
    )


def trainable(model):
    return sorted(
        n
        for n, p in model.named_parameters()
        if p.requires_grad and n.startswith('backbone.')
    )


def test_momentum_reset_only_at_the_unfreeze_epoch():
    layer_names = names_under(
        dict(MMUSOTToyTracker().named_parameters()), LAYERS
    )
    hook = BackboneUnfreezeHook()

    runner = make_runner(epoch=9)
    state = runner.optim_wrapper.optimizer.state
    assert len(state) > 0
    hook.before_train_epoch(runner)
    assert trainable(runner.model) == []
    assert len(state) > 0

    runner = make_runner(epoch=10)
    hook.before_train_epoch(runner)
    assert len(runner.optim_wrapper.optimizer.state) == 0
    assert trainable(runner.model) == sorted(layer_names)

    # Resumed after the unfreeze epoch: trainable, checkpointed momentum kept.
    runner = make_runner(epoch=12)
    BackboneUnfreezeHook().before_train_epoch(runner)
    assert trainable(runner.model) == sorted(layer_names)
    assert len(runner.optim_wrapper.optimizer.state) > 0
    backbone = runner.optim_wrapper.optimizer.param_groups[2]
    assert backbone['name'] == 'backbone' and backbone['lr_mult'] == 0.1


def test_hook_freezes_a_model_built_trainable_and_sets_lr_mult():
    runner = make_runner(
        epoch=1, frozen=(), groups=dict(head=1.0, neck=1.0, backbone=1.0)
    )
    hook = BackboneUnfreezeHook(lr_mult=0.25, reset_momentum=False)
    hook.before_train_epoch(runner)
    assert trainable(runner.model) == []
    group = runner.optim_wrapper.optimizer.param_groups[2]
    assert group['lr_mult'] == 1.0
    lr = group['lr']
    runner.epoch = 9
    hook.before_train_epoch(runner)
    assert group['lr_mult'] == 0.25
    assert group['lr'] == pytest.approx(0.25 * lr)
    assert len(runner.optim_wrapper.optimizer.state) > 0  # not reset
    assert not runner.model.backbone.conv1.weight.requires_grad


def test_frozen_modules_default_to_what_the_model_declares():
    backbone = sorted(
        n for n, _ in MMUSOTToyTracker().named_parameters() if 'backbone' in n
    )
    layer1 = names_under(backbone, ('backbone.layer1',))
    runner = make_runner(epoch=1, frozen=())
    runner.model.frozen_modules = ('backbone.layer1',)  # as USOT declares
    BackboneUnfreezeHook().before_train_epoch(runner)
    assert trainable(runner.model) == sorted(set(backbone) - set(layer1))
    # Given to the hook, its own list wins.
    BackboneUnfreezeHook(frozen_modules=['backbone']).before_train_epoch(
        runner
    )
    assert trainable(runner.model) == []


def test_misconfigurations_are_reported():
    runner = make_runner(epoch=10)
    with pytest.raises(AttributeError, match='backbone.layer9'):
        BackboneUnfreezeHook(modules=['backbone.layer9']).before_train_epoch(
            runner
        )
    # mmengine's default constructor: one group with the head in it.
    model = MMUSOTToyTracker(frozen_modules=['backbone'])
    runner = SimpleNamespace(
        epoch=9,
        model=model,
        cfg=Config(),
        optim_wrapper=build_optim_wrapper(
            model, dict(optimizer=dict(type='SGD', lr=0.01))
        ),
    )
    with pytest.raises(ValueError, match='own group'):
        BackboneUnfreezeHook().before_train_epoch(runner)
    with pytest.raises(ValueError):
        BackboneUnfreezeHook(unfreeze_epoch=0)
    with pytest.raises(TypeError):
        BackboneUnfreezeHook(modules='backbone.layer1')
