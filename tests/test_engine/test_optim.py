# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from unittest import mock

import pytest
import torch
from mmengine.optim import AmpOptimWrapper, build_optim_wrapper
from mmtrack.utils import register_all_modules

from mmusot.engine import (
    LossGuardAmpOptimWrapper,
    LossGuardMixin,
    LossGuardOptimWrapper,
    USOTOptimWrapperConstructor,
)
from tests.test_engine.toy_usot import MMUSOTToyTracker, toy_batch

GUARD_LOG = 'mmusot.engine.optimizers.loss_guard_optim_wrapper.print_log'


@pytest.fixture(scope='module', autouse=True)
def registered():
    register_all_modules(init_default_scope=True)


def optim_cfg(**paramwise):
    return dict(
        type='LossGuardOptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
        constructor='USOTOptimWrapperConstructor',
        paramwise_cfg=paramwise or None,
    )


def test_constructor_groups_every_parameter_frozen_or_not():
    model = MMUSOTToyTracker(frozen_modules=['backbone'])
    wrapper = build_optim_wrapper(model, optim_cfg())
    groups = wrapper.optimizer.param_groups
    assert [g['name'] for g in groups] == ['head', 'neck', 'backbone']
    by_name = {g['name']: g for g in groups}
    for prefix, group in by_name.items():
        expected = [
            p for n, p in model.named_parameters() if n.startswith(prefix)
        ]
        assert [id(p) for p in group['params']] == [id(p) for p in expected]
        assert group['weight_decay'] == 1e-4
        assert group['momentum'] == 0.9
    # Frozen backbone parameters are there, at 0.1 x LR.
    assert not any(p.requires_grad for p in by_name['backbone']['params'])
    assert by_name['backbone']['lr'] == pytest.approx(0.001)
    assert by_name['backbone']['lr_mult'] == 0.1
    assert by_name['head']['lr'] == pytest.approx(0.01)
    total = sum(len(g['params']) for g in groups)
    assert total == len(list(model.parameters()))


def test_longest_prefix_wins_and_the_rest_goes_to_others():
    model = MMUSOTToyTracker()
    wrapper = build_optim_wrapper(
        model, optim_cfg(groups={'backbone': 0.1, 'backbone.layer1': 0.5})
    )
    groups = {g['name']: g for g in wrapper.optimizer.param_groups}
    assert list(groups) == ['backbone', 'backbone.layer1', 'others']
    layer1 = {id(p) for p in model.backbone.layer1.parameters()}
    assert {id(p) for p in groups['backbone.layer1']['params']} == layer1
    assert groups['backbone.layer1']['lr'] == pytest.approx(0.005)
    others = {id(p) for p in groups['others']['params']}
    expected = {id(p) for p in model.neck.parameters()} | {
        id(p) for p in model.head.parameters()
    }
    assert others == expected
    assert groups['others']['lr_mult'] == 1.0


@pytest.mark.parametrize(
    'paramwise, match',
    [
        (dict(groups={'backbone': 0.0}), 'positive'),
        (dict(groups={'others': 1.0}), 'reserved'),
        (dict(custom_keys={}), 'extra keys'),
    ],
)
def test_constructor_refuses_bad_settings(paramwise, match):
    with pytest.raises(ValueError, match=match):
        USOTOptimWrapperConstructor(
            dict(optimizer=dict(type='SGD', lr=0.01)), paramwise
        )


def snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def changed(before, after):
    return {n for n in before if not torch.equal(before[n], after[n])}


def test_guard_skips_nan_inf_and_huge_losses_and_logs_the_iteration():
    model = MMUSOTToyTracker()
    wrapper = build_optim_wrapper(model, optim_cfg())
    assert isinstance(wrapper, LossGuardOptimWrapper)
    assert wrapper.max_loss == 1e4
    wrapper.initialize_count_status(model, 0, 100)
    model.train()
    # iteration: input value -> loss = 0.2 * mse(pred, 0)
    plan = [
        (1, 1.0, True),
        (2, float('nan'), False),  # loss becomes NaN
        (3, 1.0, True),
        (4, float('inf'), False),  # NaN through BN: inf - inf
        (5, 1.0, False),  # finite but > 1e4 (huge head bias, below)
        (6, 1.0, True),
    ]
    with mock.patch(GUARD_LOG) as log:
        for iteration, value, steps in plan:
            if iteration == 5:
                # A loss of ~1e8: 0.2 * (pred)^2 with a huge head bias.
                with torch.no_grad():
                    model.head.cls.bias.fill_(1e5)
            momentum = {
                id(p): s['momentum_buffer'].clone()
                for p, s in wrapper.optimizer.state.items()
            }
            before = snapshot(model)
            log_vars = model.train_step(toy_batch(value), wrapper)
            after = snapshot(model)
            # mmengine's parse_losses logs the loss with its graph.
            loss = float(torch.as_tensor(log_vars['loss']).detach())
            if steps:
                assert changed(before, after), iteration
                assert torch.isfinite(torch.tensor(loss))
            else:
                assert not changed(before, after), iteration
                assert not (loss <= 1e4), (iteration, loss)
                # Momentum buffers untouched, gradients cleared.
                for p, s in wrapper.optimizer.state.items():
                    assert torch.equal(s['momentum_buffer'], momentum[id(p)])
                assert all(
                    p.grad is None or not p.grad.any()
                    for p in model.parameters()
                )
            if iteration == 5:
                with torch.no_grad():
                    model.head.cls.bias.zero_()
    assert wrapper.skipped_steps == 3
    messages = [c.args[0] for c in log.call_args_list]
    assert len(messages) == 3
    assert 'iteration 2' in messages[0] and 'nan' in messages[0]
    assert 'iteration 4' in messages[1]
    assert 'iteration 5' in messages[2] and '> 10000' in messages[2]
    assert all('Skipping optimizer.step()' in m for m in messages)


def test_guard_skips_non_finite_gradients_of_a_finite_loss():
    """One step with an overflowed gradient would make every weight NaN."""
    model = MMUSOTToyTracker()
    wrapper = build_optim_wrapper(model, optim_cfg())
    wrapper.initialize_count_status(model, 0, 10)
    model.train()
    param = next(p for p in model.parameters() if p.requires_grad)
    # finite loss, infinite gradient of one parameter
    handle = param.register_hook(lambda grad: grad * float('inf'))
    before = snapshot(model)
    with mock.patch(GUARD_LOG) as log:
        log_vars = model.train_step(toy_batch(1.0), wrapper)
    handle.remove()
    assert torch.isfinite(torch.as_tensor(log_vars['loss']).detach())
    assert not changed(before, snapshot(model))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert wrapper.skipped_steps == 1
    (message,) = [c.args[0] for c in log.call_args_list]
    assert 'iteration 1' in message and 'non-finite gradients' in message
    # the next, healthy step steps
    model.train_step(toy_batch(1.0), wrapper)
    assert changed(before, snapshot(model))
    assert wrapper.skipped_steps == 1


def test_guard_threshold_is_configurable():
    model = MMUSOTToyTracker()
    cfg = optim_cfg()
    cfg['max_loss'] = 1e-12
    wrapper = build_optim_wrapper(model, cfg)
    wrapper.initialize_count_status(model, 0, 10)
    before = snapshot(model)
    with mock.patch(GUARD_LOG):
        model.train_step(toy_batch(1.0), wrapper)
    assert not changed(before, snapshot(model))
    with pytest.raises(ValueError, match='max_loss'):
        build_optim_wrapper(model, dict(cfg, max_loss=0))


def test_amp_variant_keeps_the_guard():
    assert issubclass(LossGuardAmpOptimWrapper, AmpOptimWrapper)
    assert (
        LossGuardAmpOptimWrapper.update_params is LossGuardMixin.update_params
    )
    if not torch.cuda.is_available():
        pytest.skip('AmpOptimWrapper needs CUDA')
    model = MMUSOTToyTracker().cuda()
    cfg = dict(optim_cfg(), type='LossGuardAmpOptimWrapper')
    wrapper = build_optim_wrapper(model, cfg)
    wrapper.initialize_count_status(model, 0, 10)
    model.train()
    before = snapshot(model)
    with mock.patch(GUARD_LOG):
        model.train_step(toy_batch(float('nan')), wrapper)
    assert not changed(before, snapshot(model))
    model.train_step(toy_batch(1.0), wrapper)
    assert changed(before, snapshot(model))
    assert wrapper.skipped_steps == 1
