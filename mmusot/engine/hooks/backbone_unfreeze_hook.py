# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT's staged backbone training: frozen, then layer1–3 at 0.1 × LR.

Each part has one owner:

* the model declares the modules frozen when training starts
  (``model.frozen_modules``, e.g. ``USOT(frozen_modules='backbone')``),
  so that a DDP wrapper is built without them;
* :class:`~mmusot.engine.optimizers.USOTOptimWrapperConstructor` puts
  every parameter, frozen or not, in a group with an ``lr_mult``, which
  :class:`~mmusot.engine.schedulers.USOTLR` reads every epoch;
* :class:`BackboneUnfreezeHook` decides, from the epoch alone, which of
  them train, and changes a group's multiplier only through
  :func:`~mmusot.engine.schedulers.set_lr_mult`.
"""

import copy
import gc
import logging
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmtrack.registry import HOOKS
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..schedulers.usot_lr import set_lr_mult
from .usot_stage_hook import unwrap_model

#: Official UNFIX_EPOCH (1-based).
UNFREEZE_EPOCH = 10
#: Official TRAINABLE_LAYER.
UNFROZEN_MODULES = ('backbone.layer1', 'backbone.layer2', 'backbone.layer3')
#: Official backbone LR factor.
BACKBONE_LR_MULT = 0.1
#: Frozen before the unfreeze epoch when neither the hook nor the model
#: names the modules (official: the whole backbone).
DEFAULT_FROZEN_MODULES = ('backbone',)


def module_params(
    model: nn.Module, names: Sequence[str]
) -> Dict[str, nn.Parameter]:
    """The parameters of the modules ``names`` of ``model``, by name."""
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


def set_trainable(
    model: nn.Module, frozen: Sequence[str], trainable: Sequence[str]
) -> List[str]:
    """Freeze the modules ``frozen``, then unfreeze ``trainable``.

    Returns:
        list[str]: the parameters whose ``requires_grad`` changed.
    """
    wanted: Dict[str, Tuple[nn.Parameter, bool]] = {}
    for names, flag in ((frozen, False), (trainable, True)):
        for name, param in module_params(model, names).items():
            wanted[name] = (param, flag)
    changed = []
    for name, (param, flag) in wanted.items():
        if param.requires_grad != flag:
            param.requires_grad_(flag)
            changed.append(name)
    return changed


def rewrap_model(runner) -> None:
    """Rebuild the runner's DDP wrapper around the same module.

    DDP registers the parameters that require grad when it is built and
    never all-reduces the others, so parameters unfrozen (or frozen) later
    need a new wrapper. It is built as ``Runner.wrap_model`` builds one
    (``model_wrapper_cfg``, else mmengine's default with
    ``find_unused_parameters``), on the old wrapper's devices, without
    moving the model or converting BN again. The old wrapper is released
    first, so its reducer's autograd hooks are removed.

    Args:
        runner (Runner): a runner whose ``model`` is a DDP-style wrapper;
            ``runner.model`` is replaced.
    """
    old = runner.model
    module = old.module
    wrapper_cfg = copy.deepcopy(runner.cfg.get('model_wrapper_cfg')) or dict(
        broadcast_buffers=False,
        find_unused_parameters=runner.cfg.get('find_unused_parameters', False),
    )
    wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    if isinstance(old, DistributedDataParallel):
        wrapper_cfg.setdefault('device_ids', old.device_ids)
    runner.model = None
    del old
    gc.collect()
    runner.model = MODEL_WRAPPERS.build(
        wrapper_cfg, default_args=dict(module=module)
    )


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Frozen backbone, then some backbone layers trained at a lower LR.

    Official ``scripts/train_usot.py`` (``UNFIX_EPOCH``,
    ``TRAINABLE_LAYER``, ``build_opt_lr``): the whole backbone is frozen
    for epochs 1–9; at epoch 10 layer1, layer2 and layer3 become trainable
    at 0.1 × LR and the optimizer is rebuilt (momentum buffers reset);
    conv1/bn1 stay frozen.

    Before every training epoch (and again at its first iteration, after
    mmengine's ``model.train()``, which mmdet-style ``frozen_stages``
    models use to re-freeze: restored with a warning), the hook derives
    from the epoch alone which parameters train, so resuming at any epoch
    gives the state of an uninterrupted run:

    * epochs ``< unfreeze_epoch``: the frozen modules get
      ``requires_grad=False``;
    * epochs ``>= unfreeze_epoch``: ``modules`` get ``requires_grad=True``
      (the rest of the frozen modules stays frozen), and their optimizer
      parameter groups ``lr_mult`` (by
      :func:`~mmusot.engine.schedulers.set_lr_mult`; a no-op when the
      optimizer constructor already gave them that multiplier);
    * at ``unfreeze_epoch`` exactly, with ``reset_momentum``, the
      optimizer state (SGD momentum buffers) is cleared, as the official
      rebuild of the optimizer does. A run resumed later keeps the state
      saved in its checkpoint.

    When the model is wrapped in DDP and the set of trainable parameters
    changes, the wrapper is rebuilt (:func:`rewrap_model`).

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
        frozen_modules (sequence[str], optional): module paths frozen
            before ``unfreeze_epoch`` (and, except ``modules``, after).
            Defaults to None: the model's declared ``frozen_modules``
            (e.g. USOT's), or ``('backbone',)`` when it declares none.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        unfreeze_epoch: int = UNFREEZE_EPOCH,
        modules: Sequence[str] = UNFROZEN_MODULES,
        lr_mult: float = BACKBONE_LR_MULT,
        reset_momentum: bool = True,
        frozen_modules: Optional[Sequence[str]] = None,
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
        self.frozen_modules = (
            None if frozen_modules is None else tuple(frozen_modules)
        )
        self._warned_refrozen = False

    def frozen_of(self, model: nn.Module) -> Tuple[str, ...]:
        """The modules frozen before the unfreeze epoch."""
        if self.frozen_modules is not None:
            return self.frozen_modules
        declared = getattr(model, 'frozen_modules', None)
        if declared is None:
            return DEFAULT_FROZEN_MODULES
        return (declared,) if isinstance(declared, str) else tuple(declared)

    def _apply(self, runner, epoch: int) -> List[str]:
        """Set ``requires_grad`` for ``epoch``; return what changed."""
        model = unwrap_model(runner.model)
        trainable = self.modules if epoch >= self.unfreeze_epoch else ()
        changed = set_trainable(model, self.frozen_of(model), trainable)
        if changed and is_model_wrapper(runner.model):
            rewrap_model(runner)
            print_log(
                'BackboneUnfreezeHook: rebuilt the model wrapper for the '
                'new set of trainable parameters',
                logger='current',
            )
        return changed

    def before_train_epoch(self, runner) -> None:
        """Apply the trainability, LR multiplier and momentum reset."""
        epoch = runner.epoch + 1
        changed = self._apply(runner, epoch)
        if epoch < self.unfreeze_epoch:
            if changed:
                print_log(
                    f'BackboneUnfreezeHook: epoch {epoch} (1-based): froze '
                    f'{len(changed)} parameters of '
                    f'{list(self.frozen_of(unwrap_model(runner.model)))} '
                    f'until epoch {self.unfreeze_epoch}',
                    logger='current',
                )
            return
        optimizer = runner.optim_wrapper.optimizer
        params = module_params(unwrap_model(runner.model), self.modules)
        set_lr_mult(optimizer, params, self.lr_mult)
        if changed:
            print_log(
                f'BackboneUnfreezeHook: epoch {epoch} (1-based): '
                f'{list(self.modules)} trainable ({len(changed)} '
                f'parameters changed) at lr_mult={self.lr_mult:g}',
                logger='current',
            )
        if epoch == self.unfreeze_epoch and self.reset_momentum:
            optimizer.state.clear()
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
