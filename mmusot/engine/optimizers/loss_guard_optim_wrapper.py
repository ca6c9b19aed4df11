# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Skip the optimizer step on a NaN, infinite or too large loss, or on
non-finite gradients; stop a run that cannot take a step any more."""

import logging
import math
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmtrack.registry import OPTIM_WRAPPERS

#: Official threshold: ``scripts/train_usot.py`` steps only when
#: ``is_valid_number(loss)``, i.e. finite and at most 1e4.
MAX_VALID_LOSS = 1e4
#: Skipped steps in a row after which the run stops: with USOT's batch of
#: 8 a healthy run skips one step in thousands, never 30 in a row.
MAX_CONSECUTIVE_SKIPS = 30


class TrainingStalledError(RuntimeError):
    """Every step of the last ``max_consecutive_skips`` was skipped."""


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

    A skipped iteration leaves no NaN behind in the network: the forward
    pass of a bad batch also updates BN's running statistics, so the
    floating-point buffers that it turned NaN/Inf get back their values
    from before it (saved in :meth:`optim_context`; finite buffers are
    kept as the forward left them, as in the official code).

    A run whose last ``max_consecutive_skips`` steps were all skipped
    cannot learn any more (the weights no longer change): it stops with a
    :class:`TrainingStalledError` naming the likely causes.

    Args:
        max_loss (float): largest valid loss. Defaults to 1e4.
        max_consecutive_skips (int): skipped steps in a row that stop the
            run; 0 never stops. Defaults to 30.
        **kwargs: arguments of the wrapped mmengine optimizer wrapper.
    """

    def __init__(
        self,
        *args,
        max_loss: float = MAX_VALID_LOSS,
        max_consecutive_skips: int = MAX_CONSECUTIVE_SKIPS,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not max_loss > 0:
            raise ValueError(f'max_loss must be positive, got {max_loss}')
        if (
            isinstance(max_consecutive_skips, bool)
            or not isinstance(max_consecutive_skips, int)
            or max_consecutive_skips < 0
        ):
            raise ValueError(
                'max_consecutive_skips must be an integer >= 0 (0: never '
                f'stop), got {max_consecutive_skips!r}'
            )
        self.max_loss = float(max_loss)
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped_steps = 0
        self.skipped_in_a_row = 0
        self._invalid_in_window = False
        self._last_reason = ''
        self._saved_buffers: Optional[List[Tuple[torch.Tensor, torch.Tensor]]]
        self._saved_buffers = None

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        """The wrapped context, after saving the floating-point buffers of
        ``model`` (BN statistics) for a skipped iteration to restore."""
        self._saved_buffers = [
            (buf, buf.detach().clone())
            for buf in model.buffers()
            if buf.is_floating_point()
        ]
        with super().optim_context(model):
            yield

    def restore_non_finite_buffers(self) -> int:
        """Give back their saved values to the buffers this iteration
        turned non-finite.

        Returns:
            int: how many buffers were restored.
        """
        restored = 0
        for buf, saved in self._saved_buffers or ():
            if torch.isfinite(buf).all() or not torch.isfinite(saved).all():
                continue
            with torch.no_grad():
                buf.copy_(saved)
            restored += 1
        return restored

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
        reason = None
        if not self.loss_is_valid(loss):
            self._invalid_in_window = True
            value = loss.detach().float().max().item()
            if not math.isfinite(value):
                reason = f'the loss is {value} on this rank'
            elif value > self.max_loss:
                reason = f'the loss {value:.6g} > {self.max_loss:g}'
            else:
                reason = 'the loss is invalid on another rank'
        loss = self.scale_loss(loss)
        self.backward(loss)
        if reason is not None:
            self._skip_warning(iteration, reason)
        if self.should_update():
            if not self._invalid_in_window and not isinstance(
                self, AmpOptimWrapper
            ):
                if not self.grads_are_finite():
                    self._invalid_in_window = True
                    self._skip_warning(
                        iteration,
                        'non-finite gradients (loss '
                        f'{loss.detach().float().max().item():.6g})',
                    )
            if self._invalid_in_window:
                self.skipped_steps += 1
                self.skipped_in_a_row += 1
            else:
                self.step(**(step_kwargs or {}))
                self.skipped_in_a_row = 0
            self.zero_grad(**(zero_kwargs or {}))
            self._invalid_in_window = False
            self._stop_if_stalled(iteration)
        self._saved_buffers = None

    def _skip_warning(self, iteration: int, reason: str) -> None:
        """Restore the buffers the batch spoilt; log the skip."""
        self._last_reason = reason
        restored = self.restore_non_finite_buffers()
        if restored:
            reason += (
                f'; {restored} buffer(s) (BN statistics) that the batch '
                'made NaN/Inf got their previous values back'
            )
        print_log(
            f'Skipping optimizer.step() at iteration {iteration}: {reason}.',
            logger='current',
            level=logging.WARNING,
        )

    def _stop_if_stalled(self, iteration: int) -> None:
        limit = self.max_consecutive_skips
        if not limit or self.skipped_in_a_row < limit:
            return
        raise TrainingStalledError(
            f'the last {self.skipped_in_a_row} optimizer steps were all '
            f'skipped (the last at iteration {iteration}: '
            f'{self._last_reason}): the loss or its gradients stay NaN/Inf '
            f'(or above max_loss={self.max_loss:g}) and the weights no '
            'longer change, so the run stops instead of saving them. '
            'Likely causes: broken pseudo labels (NaN, empty or '
            'out-of-frame boxes: check them with mmusot-eval-pseudo-labels '
            'DATA_ROOT), or a learning rate too high for the batch size '
            '(lower optim_wrapper.optimizer.lr). '
            'optim_wrapper.max_consecutive_skips sets the limit (0: never '
            'stop).'
        )


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
