# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmtrack.registry import PARAM_SCHEDULERS
from mmtrack.utils import register_all_modules

from mmusot.engine import (
    USOTLR,
    BackboneUnfreezeHook,
    set_lr_mult,
    usot_lr_factor,
)
from tests.test_engine.toy_usot import MMUSOTToyTracker

REPO = Path(__file__).resolve().parents[2]
SCHEDULE = REPO / 'configs/usot/_base_/schedules/usot_30e.py'

# The official per-epoch LRs as printed (1-based epoch: value).
LISTED = {
    1: 2.5e-3,
    2: 2.872e-3,
    3: 3.299e-3,
    4: 3.789e-3,
    5: 4.353e-3,
    6: 5.0e-3,
    7: 3.97e-3,
    8: 3.16e-3,
    9: 2.51e-3,
    10: 1.99e-3,
    20: 2.0e-4,
    30: 2.0e-5,
}


def official_lr(epoch):
    """The official formula for a 1-based epoch."""
    if epoch <= 5:
        return 0.0025 * 2 ** ((epoch - 1) / 5)
    return float(
        np.logspace(math.log10(5e-3), math.log10(2e-5), 25)[epoch - 6]
    )


def significant(value, digits):
    return float(f'{value:.{digits - 1}e}')


def digits_of(value):
    return len(f'{value:e}'.split('e')[0].rstrip('0').replace('.', ''))


@pytest.fixture(scope='module', autouse=True)
def registered():
    register_all_modules(init_default_scope=True)


def build(lr_mults=None, schedule_cfg=None):
    cfg = Config.fromfile(str(SCHEDULE))
    optim_cfg = cfg.optim_wrapper.copy()
    if lr_mults is not None:
        optim_cfg.paramwise_cfg = dict(groups=lr_mults)
    model = MMUSOTToyTracker(frozen_modules=['backbone'])
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    sched_cfg = dict(schedule_cfg or cfg.param_scheduler[0])
    scheduler = PARAM_SCHEDULERS.build(
        sched_cfg, default_args=dict(optimizer=optim_wrapper)
    )
    return model, optim_wrapper, scheduler


def group_lrs(optim_wrapper):
    return {g['name']: g['lr'] for g in optim_wrapper.optimizer.param_groups}


def run_epochs(optim_wrapper, scheduler, epochs, before_epoch=None):
    """LRs of each 1-based epoch, stepping as ParamSchedulerHook does."""
    lrs = {}
    for epoch in range(1, epochs + 1):
        if before_epoch is not None:
            before_epoch(epoch)
        lrs[epoch] = group_lrs(optim_wrapper)
        optim_wrapper.step()
        scheduler.step()
    return lrs


def test_factor_formula_matches_every_official_epoch():
    for epoch in range(1, 31):
        lr = 5e-3 * usot_lr_factor(epoch - 1, 30)
        assert lr == pytest.approx(official_lr(epoch), rel=1e-12), epoch
    for epoch, listed in LISTED.items():
        lr = 5e-3 * usot_lr_factor(epoch - 1, 30)
        assert significant(lr, digits_of(listed)) == listed, epoch
    # ×0.79449 per decay epoch.
    ratio = usot_lr_factor(7, 30) / usot_lr_factor(6, 30)
    assert ratio == pytest.approx(0.79449, abs=1e-5)
    with pytest.raises(ValueError):
        usot_lr_factor(30, 30)


def test_schedule_config_reproduces_the_table_per_group():
    _, optim_wrapper, scheduler = build()
    assert isinstance(scheduler, USOTLR)
    names = [g['name'] for g in optim_wrapper.optimizer.param_groups]
    assert names == ['head', 'neck', 'backbone']
    lrs = run_epochs(optim_wrapper, scheduler, 30)
    for epoch in range(1, 31):
        expected = official_lr(epoch)
        assert lrs[epoch]['head'] == pytest.approx(expected, rel=1e-12)
        assert lrs[epoch]['neck'] == pytest.approx(expected, rel=1e-12)
        assert lrs[epoch]['backbone'] == pytest.approx(
            0.1 * expected, rel=1e-12
        )
    # mmengine logs group 0: the schedule's LR.
    assert optim_wrapper.get_lr()['lr'][0] == pytest.approx(2e-5)


def test_backbone_at_a_tenth_after_unfreeze_with_the_hook():
    # The constructor gives the backbone 1x; the hook sets 0.1x at epoch 10.
    model, optim_wrapper, scheduler = build(
        lr_mults=dict(head=1.0, neck=1.0, backbone=1.0)
    )
    hook = BackboneUnfreezeHook()
    runner = SimpleNamespace(
        model=model, optim_wrapper=optim_wrapper, cfg=Config(), epoch=0
    )

    def before_epoch(epoch):
        runner.epoch = epoch - 1
        hook.before_train_epoch(runner)

    lrs = run_epochs(optim_wrapper, scheduler, 30, before_epoch)
    for epoch in range(1, 31):
        expected = official_lr(epoch)
        mult = 0.1 if epoch >= 10 else 1.0
        assert lrs[epoch]['head'] == pytest.approx(expected, rel=1e-12)
        assert lrs[epoch]['backbone'] == pytest.approx(
            mult * expected, rel=1e-12
        ), epoch
    assert model.backbone.layer3.weight.requires_grad
    assert not model.backbone.conv1.weight.requires_grad


def test_resumed_scheduler_continues_the_table():
    _, optim_wrapper, scheduler = build()
    run_epochs(optim_wrapper, scheduler, 12)
    optim_state = optim_wrapper.state_dict()
    sched_state = scheduler.state_dict()
    expected = run_epochs(optim_wrapper, scheduler, 3)

    # A fresh run (as Runner.resume builds it), then the saved states.
    _, optim_wrapper2, scheduler2 = build()
    optim_wrapper2.load_state_dict(optim_state)
    scheduler2.load_state_dict(sched_state)
    assert run_epochs(optim_wrapper2, scheduler2, 3) == expected
    assert expected[1]['head'] == pytest.approx(official_lr(13), rel=1e-12)


def test_auto_scaled_lr_scales_the_whole_table():
    cfg = Config.fromfile(str(SCHEDULE))
    model = MMUSOTToyTracker()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper.copy())
    for group in optim_wrapper.optimizer.param_groups:  # Runner.scale_lr
        group['lr'] *= 2
    scheduler = PARAM_SCHEDULERS.build(
        dict(cfg.param_scheduler[0]),
        default_args=dict(optimizer=optim_wrapper),
    )
    lrs = run_epochs(optim_wrapper, scheduler, 7)
    assert lrs[7]['head'] == pytest.approx(2 * official_lr(7), rel=1e-12)
    assert lrs[7]['backbone'] == pytest.approx(0.2 * official_lr(7), rel=1e-12)


def test_invalid_arguments_are_refused():
    _, optim_wrapper, _ = build()
    with pytest.raises(ValueError, match='by_epoch'):
        USOTLR(optim_wrapper, by_epoch=False)
    with pytest.raises(ValueError, match='warmup_epochs'):
        USOTLR(optim_wrapper, warmup_epochs=30, end=30)
    optim_wrapper.optimizer.param_groups[0]['lr_mult'] = 0.0
    optim_wrapper.optimizer.param_groups[0].pop('initial_lr_mult')
    with pytest.raises(ValueError, match='lr_mult'):
        USOTLR(optim_wrapper)


def test_set_lr_mult_rescales_the_group_and_the_schedule_keeps_it():
    model, optim_wrapper, scheduler = build()
    backbone = dict(model.backbone.named_parameters())
    run_epochs(optim_wrapper, scheduler, 2)
    set_lr_mult(optim_wrapper.optimizer, backbone, 0.5)
    assert group_lrs(optim_wrapper)['backbone'] == pytest.approx(
        0.5 * official_lr(3), rel=1e-12
    )
    lrs = run_epochs(optim_wrapper, scheduler, 2)
    assert lrs[2]['backbone'] == pytest.approx(0.5 * official_lr(4), rel=1e-12)
    with pytest.raises(ValueError, match='not in the optimizer'):
        set_lr_mult(
            optim_wrapper.optimizer,
            {'extra': torch.nn.Parameter(torch.zeros(1))},
            0.5,
        )
