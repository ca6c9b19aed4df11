# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Skip the optimizer step on a NaN, infinite or too large loss, or on
non-finite gradients."""

import logging
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmtrack.registry import OPTIM_WRAPPERS

#: Official threshold: ``scripts/train_usot.py`` steps only when
#: ``is_valid_number(loss)``, i.e. finite and at most 1e4.
MAX_VALID_LOSS = 1e4


class LossGuardMixin:
    """``update_params`` that skips ``step()`` on an invalid loss.

    As the official ``scripts/train_usot.py`` (``is_valid_number``): a loss
    that is NaN, ±Inf or greater than ``max_loss`` does not update the
    parameters. The skip is logged as a warning naming the iteration
    (1-based, as mmengine's log lines) and counted in
    :attr:`skipped_steps`.

    Unlike the official code the backward pass still runs: under DDP every
    rank must join the gradient all-reduce. The decision is all-reduced
    too, so when any rank's loss is invalid all ranks skip the step (their
    averaged gradients would be invalid anyway). The gradients of a skipped
    step are zeroed; momentum buffers are left untouched.

    Args:
        max_loss (float): largest valid loss. Defaults to 1e4.
        **kwargs: arguments of the wrapped mmengine optimizer wrapper.
    """

    def __init__(self, *args, max_loss: float = MAX_VALID_LOSS, **kwargs):
        super().__init__(*args, **kwargs)
        if not max_loss > 0:
            raise ValueError(f'max_loss must be positive, got {max_loss}')
        self.max_loss = float(max_loss)
        self.skipped_steps = 0
        self._invalid_in_window = False

    def loss_is_valid(self, loss: torch.Tensor) -> bool:
        """Whether ``loss`` is finite and ``<= max_loss`` on every rank.

        Args:
            loss (Tensor): the total loss (a scalar).

        Returns:
            bool: True when all ranks may step.
        """
        value = loss.detach().float()
        invalid = (~torch.isfinite(value)) | (value > self.max_loss)
        flag = invalid.any().to(torch.int32).reshape(1)
        all_reduce(flag, op='max')
        return not bool(flag.item())

    def grads_are_finite(self) -> bool:
        """Whether every gradient is finite on every rank.

        Returns:
            bool: True when all ranks may step.
        """
        checks = [
            torch.isfinite(param.grad).all()
            for group in self.optimizer.param_groups
            for param in group['params']
            if param.grad is not None
        ]
        if not checks:
            flag = torch.zeros(1, dtype=torch.int32)
        else:
            flag = (~torch.stack(checks).all()).to(torch.int32).reshape(1)
        all_reduce(flag, op='max')
        return not bool(flag.item())

    def update_params(
        self,
        loss: torch.Tensor,
        step_kwargs: Optional[Dict] = None,
        zero_kwargs: Optional[Dict] = None,
    ) -> None:
        """Backward, then step unless this window saw an invalid loss.

        Args:
            loss (Tensor): the total loss.
            step_kwargs (dict, optional): arguments of ``optimizer.step``.
            zero_kwargs (dict, optional): arguments of
                ``optimizer.zero_grad``.
        """
        iteration = self._inner_count + 1
        if not self.loss_is_valid(loss):
            self._invalid_in_window = True
            value = loss.detach().float().max().item()
            if not math.isfinite(value):
                reason = f'the loss is {value} on this rank'
            elif value > self.max_loss:
                reason = f'the loss {value:.6g} > {self.max_loss:g}'
            else:
                reason = 'the loss is invalid on another rank'
            print_log(
                f'Skipping optimizer.step() at iteration {iteration}: '
                f'{reason}.',
                logger='current',
                level=logging.WARNING,
            )
        loss = self.scale_loss(loss)
        self.backward(loss)
        if self.should_update():
            if not self._invalid_in_window and not isinstance(
                self, AmpOptimWrapper
            ):
                if not self.grads_are_finite():
                    self._invalid_in_window = True
                    print_log(
                        f'Skipping optimizer.step() at iteration '
                        f'{iteration}: non-finite gradients (loss '
                        f'{loss.detach().float().max().item():.6g}).',
                        logger='current',
                        level=logging.WARNING,
                    )
            if self._invalid_in_window:
                self.skipped_steps += 1
            else:
                self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))
            self._invalid_in_window = False


@OPTIM_WRAPPERS.register_module()
class LossGuardOptimWrapper(LossGuardMixin, OptimWrapper):
    """mmengine ``OptimWrapper`` with USOT's invalid-loss guard.

    See :class:`LossGuardMixin`. Config:
    ``optim_wrapper=dict(type='LossGuardOptimWrapper', max_loss=1e4,
    optimizer=dict(type='SGD', ...))``.
    """


@OPTIM_WRAPPERS.register_module()
class LossGuardAmpOptimWrapper(LossGuardMixin, AmpOptimWrapper):
    """mmengine ``AmpOptimWrapper`` (CUDA) with the invalid-loss guard.

    The guard reads the unscaled loss; the dynamic loss scaler keeps its own
    overflow handling. See :class:`LossGuardMixin`.
    """
