# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's staged backbone training: frozen, then layer1–3 at 0.1 × LR."""

import copy
import gc
import logging
import os
from typing import Dict, List, Sequence, Set, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmtrack.registry import HOOKS
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..schedulers.usot_lr import LR_MULT_KEY
from .usot_stage_hook import unwrap_model

#: Official UNFIX_EPOCH (1-based).
UNFREEZE_EPOCH = 10
#: Official TRAINABLE_LAYER.
UNFROZEN_MODULES = ('backbone.layer1', 'backbone.layer2', 'backbone.layer3')
#: Official backbone LR factor.
BACKBONE_LR_MULT = 0.1


def _module_params(
    model: nn.Module, names: Sequence[str]
) -> Dict[str, nn.Parameter]:
    params = {}
    for name in names:
        try:
            module = model.get_submodule(name)
        except AttributeError as err:
            raise AttributeError(
                f'BackboneUnfreezeHook: the model ({type(model).__name__}) '
                f'has no module {name!r}'
            ) from err
        for param_name, param in module.named_parameters():
            params[f'{name}.{param_name}'] = param
    return params


def rewrap_model(runner) -> None:
    """Rebuild the runner's DDP wrapper around the same module.

    DDP registers the parameters that require grad when it is built and
    never all-reduces the others, so parameters unfrozen (or frozen) later
    need a new wrapper. This follows ``Runner.wrap_model`` (same
    ``model_wrapper_cfg`` / ``find_unused_parameters``), without moving the
    model or converting BN again. The old wrapper is released first, so its
    reducer's autograd hooks are removed.

    Args:
        runner (Runner): a runner whose ``model`` is a DDP-style wrapper;
            ``runner.model`` is replaced.
    """
    old = runner.model
    module = old.module
    wrapper_cfg = runner.cfg.get('model_wrapper_cfg')
    runner.model = None
    del old
    gc.collect()
    if wrapper_cfg is None:
        runner.model = MMDistributedDataParallel(
            module=module,
            device_ids=[int(os.environ['LOCAL_RANK'])],
            broadcast_buffers=False,
            find_unused_parameters=runner.cfg.get(
                'find_unused_parameters', False
            ),
        )
        return
    wrapper_cfg = copy.deepcopy(wrapper_cfg)
    wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    default_args = dict(module=module)
    if issubclass(
        MODEL_WRAPPERS.get(wrapper_cfg['type']), DistributedDataParallel
    ):
        default_args['device_ids'] = [int(os.environ['LOCAL_RANK'])]
    runner.model = MODEL_WRAPPERS.build(wrapper_cfg, default_args=default_args)


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Frozen backbone, then some backbone layers trained at a lower LR.

    Official ``scripts/train_usot.py`` (``UNFIX_EPOCH``,
    ``TRAINABLE_LAYER``, ``build_opt_lr``): the whole backbone is frozen
    for epochs 1–9; at epoch 10 layer1, layer2 and layer3 become trainable
    at 0.1 × LR and the optimizer is rebuilt (momentum buffers reset);
    conv1/bn1 stay frozen.

    Before every training epoch (and again at its first iteration, after
    mmengine's ``model.train()``), the hook derives from the epoch alone
    which parameters train, so resuming at any epoch gives the state of an
    uninterrupted run:

    * epochs ``< unfreeze_epoch``: parameters of ``frozen_modules`` get
      ``requires_grad=False``;
    * epochs ``>= unfreeze_epoch``: parameters of ``modules`` get
      ``requires_grad=True`` (the rest of ``frozen_modules`` stays frozen),
      and every optimizer parameter group holding them gets
      ``lr_mult=lr_mult`` (read by :class:`~mmusot.engine.USOTLR`; the
      current LR is rescaled at once);
    * at ``unfreeze_epoch`` exactly, with ``reset_momentum``, the
      optimizer state (SGD momentum buffers of all parameters) is cleared,
      as the official rebuild of the optimizer does. A run resumed later
      keeps the state saved in its checkpoint.

    The optimizer must already contain the frozen parameters (see
    :class:`~mmusot.engine.optimizers.USOTOptimWrapperConstructor`). When
    the model is wrapped in DDP and the set of trainable parameters
    changes, the wrapper is rebuilt (DDP only all-reduces the parameters
    that required grad when it was built). Models whose ``train()``
    re-freezes parameters (mmdet ``frozen_stages``) are fixed at the first
    iteration with a warning; prefer ``frozen_stages=-1``.

    All epochs are the official **1-based** epochs; mmengine's
    ``runner.epoch`` is 0-based (epoch ``runner.epoch + 1`` is used).

    Args:
        unfreeze_epoch (int): first epoch (1-based) in which ``modules``
            train. Defaults to 10.
        modules (sequence[str]): module paths in the (unwrapped) model to
            unfreeze. Defaults to ``('backbone.layer1', 'backbone.layer2',
            'backbone.layer3')``.
        lr_mult (float): LR multiplier of the parameter groups holding
            ``modules`` from ``unfreeze_epoch``. Defaults to 0.1.
        reset_momentum (bool): clear the optimizer state at
            ``unfreeze_epoch``. Defaults to True.
        frozen_modules (sequence[str]): module paths frozen before
            ``unfreeze_epoch`` (and, except ``modules``, after). Empty to
            leave freezing to the model. Defaults to ``('backbone',)``.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        unfreeze_epoch: int = UNFREEZE_EPOCH,
        modules: Sequence[str] = UNFROZEN_MODULES,
        lr_mult: float = BACKBONE_LR_MULT,
        reset_momentum: bool = True,
        frozen_modules: Sequence[str] = ('backbone',),
    ) -> None:
        if unfreeze_epoch < 1:
            raise ValueError(
                f'unfreeze_epoch is 1-based, got {unfreeze_epoch}'
            )
        if isinstance(modules, str) or isinstance(frozen_modules, str):
            raise TypeError('modules and frozen_modules are lists of names')
        if not modules:
            raise ValueError('BackboneUnfreezeHook needs modules to unfreeze')
        if not lr_mult > 0:
            raise ValueError(f'lr_mult must be positive, got {lr_mult}')
        self.unfreeze_epoch = int(unfreeze_epoch)
        self.modules = tuple(modules)
        self.lr_mult = float(lr_mult)
        self.reset_momentum = reset_momentum
        self.frozen_modules = tuple(frozen_modules)
        self._warned_refrozen = False

    def trainability(
        self, model: nn.Module, epoch: int
    ) -> Dict[str, Tuple[nn.Parameter, bool]]:
        """``{name: (param, requires_grad)}`` the hook wants at ``epoch``.

        Args:
            model (nn.Module): the unwrapped model.
            epoch (int): 1-based epoch.
        """
        wanted = {
            name: (param, False)
            for name, param in _module_params(
                model, self.frozen_modules
            ).items()
        }
        if epoch >= self.unfreeze_epoch:
            for name, param in _module_params(model, self.modules).items():
                wanted[name] = (param, True)
        return wanted

    def _apply(self, runner, epoch: int) -> List[str]:
        """Set ``requires_grad``; return the names that changed."""
        changed = []
        wanted = self.trainability(unwrap_model(runner.model), epoch)
        for name, (param, flag) in wanted.items():
            if param.requires_grad != flag:
                param.requires_grad_(flag)
                changed.append(name)
        if changed and is_model_wrapper(runner.model):
            rewrap_model(runner)
            print_log(
                'BackboneUnfreezeHook: rebuilt the model wrapper for the '
                'new set of trainable parameters',
                logger='current',
            )
        return changed

    def _set_lr_mult(self, runner) -> None:
        model = unwrap_model(runner.model)
        unfrozen: Set[int] = {
            id(p) for p in _module_params(model, self.modules).values()
        }
        names = {id(p): n for n, p in model.named_parameters()}
        optimizer = runner.optim_wrapper.optimizer
        found = set()
        for index, group in enumerate(optimizer.param_groups):
            ours = [p for p in group['params'] if id(p) in unfrozen]
            if not ours:
                continue
            found.update(id(p) for p in ours)
            others = [
                names.get(id(p), '?')
                for p in group['params']
                if id(p) not in unfrozen and p.requires_grad
            ]
            if others:
                raise ValueError(
                    f'BackboneUnfreezeHook: optimizer param group {index} '
                    f'({group.get("name", "unnamed")!r}) also holds '
                    f'trainable parameters outside {list(self.modules)}, '
                    f'e.g. {others[:3]}; give {list(self.modules)} their '
                    'own group (USOTOptimWrapperConstructor groups)'
                )
            old = group.get(LR_MULT_KEY, 1.0)
            if old != self.lr_mult:
                group['lr'] = group['lr'] / old * self.lr_mult
                group[LR_MULT_KEY] = self.lr_mult
        missing = unfrozen - found
        if missing:
            raise ValueError(
                f'BackboneUnfreezeHook: {len(missing)} parameters of '
                f'{list(self.modules)} are not in the optimizer, e.g. '
                f'{[names.get(i, "?") for i in list(missing)[:3]]}; build '
                'it with USOTOptimWrapperConstructor, which keeps frozen '
                'parameters'
            )

    def before_train_epoch(self, runner) -> None:
        """Apply the trainability, LR multiplier and momentum reset."""
        epoch = runner.epoch + 1
        changed = self._apply(runner, epoch)
        if epoch < self.unfreeze_epoch:
            if changed:
                print_log(
                    f'BackboneUnfreezeHook: epoch {epoch} (1-based): froze '
                    f'{len(changed)} parameters of '
                    f'{list(self.frozen_modules)} until epoch '
                    f'{self.unfreeze_epoch}',
                    logger='current',
                )
            return
        self._set_lr_mult(runner)
        if changed:
            print_log(
                f'BackboneUnfreezeHook: epoch {epoch} (1-based): '
                f'{list(self.modules)} trainable ({len(changed)} '
                f'parameters changed) at lr_mult={self.lr_mult:g}',
                logger='current',
            )
        if epoch == self.unfreeze_epoch and self.reset_momentum:
            runner.optim_wrapper.optimizer.state.clear()
            print_log(
                f'BackboneUnfreezeHook: epoch {epoch}: optimizer state '
                '(momentum buffers) reset',
                logger='current',
            )

    def before_train_iter(
        self, runner, batch_idx: int, data_batch=None
    ) -> None:
        """Undo a re-freeze by the model's ``train()`` (first iteration)."""
        if batch_idx != 0:
            return
        changed = self._apply(runner, runner.epoch + 1)
        if changed and not self._warned_refrozen:
            self._warned_refrozen = True
            print_log(
                f'BackboneUnfreezeHook: model.train() changed '
                f'requires_grad of {len(changed)} parameters (e.g. '
                f'{changed[0]}); restored. Use frozen_stages=-1 so the '
                'model does not re-freeze every epoch.',
                logger='current',
                level=logging.WARNING,
            )
