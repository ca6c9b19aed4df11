# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The per-epoch learning-rate table of USOT.

Paper §4.1 ("a warm-up learning rate from 2.5e-3 to 5e-3 in the first 6
epochs, ... exponentially decreasing ... down to 2e-5"); official source
``scripts/train_usot.py`` and ``experiments/train/USOT.yaml`` of
VISION-SJTU/USOT.
"""

import math
from typing import Dict, List

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import (
    INF,
    OptimizerType,
    _ParamScheduler,
)
from mmtrack.registry import PARAM_SCHEDULERS
from torch import nn

#: Official warm-up: 5 epochs from 2.5e-3 (half the peak 5e-3), ×2^(1/5)
#: per epoch.
WARMUP_EPOCHS = 5
WARMUP_START_FACTOR = 0.5
#: Official decay: logspace from 5e-3 to 2e-5, i.e. to 0.004 × the peak.
DECAY_END_FACTOR = 0.004
#: Group key holding a parameter group's current LR multiplier.
LR_MULT_KEY = 'lr_mult'
#: Group key recording the multiplier the group had when the scheduler was
#: first built (next to mmengine's ``initial_lr``).
INITIAL_LR_MULT_KEY = 'initial_lr_mult'


def usot_lr_factor(
    epoch_index: int,
    num_epochs: int,
    warmup_epochs: int = WARMUP_EPOCHS,
    warmup_start_factor: float = WARMUP_START_FACTOR,
    end_factor: float = DECAY_END_FACTOR,
) -> float:
    """The LR of a 0-based epoch, as a fraction of the peak LR.

    USOT (paper §4.1; official ``scripts/train_usot.py``) changes the LR
    once per epoch, with no per-iteration warm-up:

    * warm-up, epochs ``i < warmup_epochs``:
      ``warmup_start_factor ** (1 - i / warmup_epochs)``, i.e. with the
      defaults ``0.5 · 2^(i/5)`` (official 1-based epoch e = i + 1:
      ``0.0025 · 2^((e − 1)/5)`` for a peak of 5e-3);
    * decay, the remaining ``n = num_epochs − warmup_epochs`` epochs: a
      logspace of ``n`` points from 1 to ``end_factor``,
      ``end_factor ** ((i − warmup_epochs) / (n − 1))``.

    Args:
        epoch_index (int): 0-based epoch (official epoch − 1).
        num_epochs (int): total epochs (30).
        warmup_epochs (int): warm-up epochs (5).
        warmup_start_factor (float): LR factor of the first epoch (0.5).
        end_factor (float): LR factor of the last epoch (0.004).

    Returns:
        float: the factor; multiply by the peak LR (5e-3) and the group's
        multiplier.
    """
    if not 0 <= epoch_index < num_epochs:
        raise ValueError(
            f'epoch index {epoch_index} is outside [0, {num_epochs})'
        )
    if epoch_index < warmup_epochs:
        return warmup_start_factor ** (1.0 - epoch_index / warmup_epochs)
    decay_points = num_epochs - warmup_epochs
    if decay_points == 1:
        return 1.0
    step = (epoch_index - warmup_epochs) / (decay_points - 1)
    return math.exp(step * math.log(end_factor))


def set_lr_mult(
    optimizer, params: Dict[str, nn.Parameter], lr_mult: float
) -> None:
    """Give the parameter groups holding ``params`` the multiplier ``lr_mult``.

    The one documented way to change a group's LR multiplier during
    training (:class:`~mmusot.engine.hooks.BackboneUnfreezeHook` uses it):
    the group's ``lr_mult`` is set and its current LR rescaled at once;
    :class:`USOTLR` keeps the new multiplier in every later epoch. A group
    already at ``lr_mult`` is left alone.

    Args:
        optimizer (Optimizer): the optimizer (``optim_wrapper.optimizer``),
            built with every parameter in it, frozen ones included (see
            :class:`~mmusot.engine.optimizers.USOTOptimWrapperConstructor`).
        params (dict[str, nn.Parameter]): the parameters, by name.
        lr_mult (float): their new multiplier.

    Raises:
        ValueError: a group holding ``params`` also holds other trainable
            parameters, or some of ``params`` are in no group.
    """
    wanted = {id(p): name for name, p in params.items()}
    found = set()
    for index, group in enumerate(optimizer.param_groups):
        ours = [id(p) for p in group['params'] if id(p) in wanted]
        if not ours:
            continue
        found.update(ours)
        others = sum(
            id(p) not in wanted and p.requires_grad for p in group['params']
        )
        if others:
            raise ValueError(
                f'optimizer param group {index} '
                f'({group.get("name", "unnamed")!r}) holds {others} other '
                f'trainable parameters beside {wanted[ours[0]]!r}; give the '
                'parameters whose lr_mult changes their own group '
                '(USOTOptimWrapperConstructor groups)'
            )
        old = group.get(LR_MULT_KEY, 1.0)
        if old != lr_mult:
            group['lr'] = group['lr'] / old * lr_mult
            group[LR_MULT_KEY] = lr_mult
    missing = [name for key, name in wanted.items() if key not in found]
    if missing:
        raise ValueError(
            f'{len(missing)} parameters are not in the optimizer, e.g. '
            f'{missing[:3]}; build it with USOTOptimWrapperConstructor, '
            'which keeps frozen parameters'
        )


@PARAM_SCHEDULERS.register_module()
class USOTLR(LRSchedulerMixin, _ParamScheduler):
    """USOT's per-epoch LR: exponential warm-up, then log-linear decay.

    The LR of parameter group ``g`` in the ``k``-th epoch of the schedule
    (``k = epoch − begin``) is::

        lr_g = initial_lr_g / initial_lr_mult_g * lr_mult_g
               * usot_lr_factor(k, end - begin, ...)

    ``initial_lr_g`` is the group's LR when the scheduler is first built
    (peak LR × multiplier, as set by
    :class:`~mmusot.engine.optimizers.USOTOptimWrapperConstructor`, after
    any ``auto_scale_lr``), ``initial_lr_mult_g`` the group's ``lr_mult``
    at that time and ``lr_mult_g`` its current ``lr_mult`` (missing keys
    mean 1). A hook may therefore change a group's multiplier during
    training, through :func:`set_lr_mult` (as
    :class:`~mmusot.engine.hooks.BackboneUnfreezeHook` does); the
    multipliers live in the optimizer state, so they survive resuming.

    The value is computed in closed form from the epoch, so the scheduler
    sets the LR absolutely: do not chain it with other LR schedulers.

    With the defaults, ``by_epoch=True``, ``begin=0``, ``end=30`` and an
    optimizer LR of 5e-3 this reproduces the official table: 2.5e-3,
    2.872e-3, 3.299e-3, 3.789e-3, 4.353e-3 (epochs 1–5), 5e-3 (6), then
    ×0.79449 per epoch to 2e-5 (30).

    Args:
        optimizer (Optimizer | BaseOptimWrapper): the wrapped optimizer.
        warmup_epochs (int): warm-up epochs. Defaults to 5.
        warmup_start_factor (float): first-epoch LR / peak LR. Defaults to
            0.5.
        end_factor (float): last-epoch LR / peak LR. Defaults to 0.004.
        begin (int): first epoch (0-based) of the schedule. Defaults to 0.
        end (int): epoch after the last one. Must be finite. Defaults to
            30.
        last_step (int): see mmengine's ``_ParamScheduler``. Defaults to
            -1.
        by_epoch (bool): must be True (the table is per epoch). Defaults
            to True.
        verbose (bool): log every update. Defaults to False.
    """

    def __init__(
        self,
        optimizer: OptimizerType,
        warmup_epochs: int = WARMUP_EPOCHS,
        warmup_start_factor: float = WARMUP_START_FACTOR,
        end_factor: float = DECAY_END_FACTOR,
        begin: int = 0,
        end: int = 30,
        last_step: int = -1,
        by_epoch: bool = True,
        verbose: bool = False,
    ) -> None:
        if not by_epoch:
            raise ValueError('USOTLR is a per-epoch table: by_epoch=True')
        if end == INF:
            raise ValueError('USOTLR needs a finite `end` epoch')
        if not 0 <= warmup_epochs < end - begin:
            raise ValueError(
                f'warmup_epochs={warmup_epochs} must be in '
                f'[0, end - begin = {end - begin})'
            )
        if warmup_start_factor <= 0 or end_factor <= 0:
            raise ValueError(
                'warmup_start_factor and end_factor must be positive, got '
                f'{warmup_start_factor} and {end_factor}'
            )
        self.warmup_epochs = warmup_epochs
        self.warmup_start_factor = warmup_start_factor
        self.end_factor = end_factor
        self.num_epochs = end - begin
        if last_step == -1:
            for index, group in enumerate(optimizer.param_groups):
                mult = group.get(LR_MULT_KEY, 1.0)
                if mult <= 0:
                    raise ValueError(
                        f'param group {index} has lr_mult={mult}; USOTLR '
                        'needs positive multipliers (freeze parameters '
                        'with requires_grad=False instead)'
                    )
                group.setdefault(INITIAL_LR_MULT_KEY, mult)
        super().__init__(
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose,
        )

    def factor(self, epoch_index: int) -> float:
        """LR / peak LR of the ``epoch_index``-th epoch of the schedule."""
        return usot_lr_factor(
            epoch_index,
            self.num_epochs,
            self.warmup_epochs,
            self.warmup_start_factor,
            self.end_factor,
        )

    def _get_value(self) -> List[float]:
        factor = self.factor(self.last_step)
        values = []
        for base, group in zip(self.base_values, self.optimizer.param_groups):
            mult = group.get(LR_MULT_KEY, 1.0)
            initial_mult = group.get(INITIAL_LR_MULT_KEY, mult)
            values.append(base / initial_mult * mult * factor)
        return values
