# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Parameter groups by module prefix, frozen parameters included."""

from collections import OrderedDict
from typing import Dict, List, Optional

from mmengine.optim import DefaultOptimWrapperConstructor
from mmtrack.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

from ..schedulers.usot_lr import LR_MULT_KEY

#: Official parameter groups (``scripts/train_usot.py``, ``build_opt_lr``):
#: head and neck at the full LR, the backbone at 0.1 × LR. The head comes
#: first so that the LR mmengine logs (group 0) is the schedule's LR.
DEFAULT_GROUPS = OrderedDict(head=1.0, neck=1.0, backbone=0.1)
#: Name of the group of parameters that match no prefix.
OTHERS_GROUP = 'others'


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class USOTOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """One parameter group per module prefix, each with an ``lr_mult``.

    mmengine's ``DefaultOptimWrapperConstructor`` ignores ``custom_keys``
    (``lr_mult``) for parameters that are frozen when the optimizer is
    built, which breaks USOT's staged unfreezing (backbone frozen for
    epochs 1–9, then trained at 0.1 × LR). This constructor puts **every**
    parameter, frozen or not, into the group of the longest matching
    prefix, so the optimizer's structure never changes during training
    (resuming restores it as saved); frozen parameters have no gradient,
    so SGD skips them until they are unfrozen.

    Each group is ``dict(params=[...], name=prefix, lr=base_lr * lr_mult,
    lr_mult=lr_mult)``; weight decay and momentum come from the optimizer
    config for every group (official: weight decay 1e-4 on every trainable
    parameter, BN and biases included). :class:`~mmusot.engine.USOTLR`
    multiplies its schedule by the group's current ``lr_mult``; this
    constructor owns the multipliers, which change during training only
    through :func:`~mmusot.engine.schedulers.set_lr_mult` (as
    :class:`~mmusot.engine.hooks.BackboneUnfreezeHook` does).

    Args:
        optim_wrapper_cfg (dict): the ``optim_wrapper`` config (with an
            ``optimizer`` entry holding ``lr``).
        paramwise_cfg (dict, optional): ``dict(groups={prefix: lr_mult})``,
            in group order. A prefix names a module by its path in the
            model (``'backbone'``, ``'backbone.layer1'``); parameters that
            match none go to a last group named ``'others'`` with
            ``lr_mult=1``. Defaults to ``{'head': 1.0, 'neck': 1.0,
            'backbone': 0.1}``.
    """

    def __init__(
        self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None
    ) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg=None)
        paramwise_cfg = dict(paramwise_cfg or {})
        groups = paramwise_cfg.pop('groups', DEFAULT_GROUPS)
        if paramwise_cfg:
            raise ValueError(
                'USOTOptimWrapperConstructor accepts only '
                f'paramwise_cfg=dict(groups=...), got extra keys '
                f'{sorted(paramwise_cfg)}'
            )
        if self.base_lr is None:
            raise ValueError('optim_wrapper.optimizer needs an `lr`')
        self.groups: Dict[str, float] = OrderedDict()
        for prefix, mult in dict(groups).items():
            if not isinstance(prefix, str) or not prefix:
                raise ValueError(f'group prefix must be a name: {prefix!r}')
            if prefix == OTHERS_GROUP:
                raise ValueError(f'{OTHERS_GROUP!r} is a reserved group')
            if not float(mult) > 0:
                raise ValueError(
                    f'lr_mult of group {prefix!r} must be positive, got '
                    f'{mult} (freeze with requires_grad=False instead)'
                )
            self.groups[prefix] = float(mult)
        # __call__ builds per-parameter settings only when this is truthy.
        self.paramwise_cfg = dict(groups=dict(self.groups))

    def group_of(self, name: str) -> str:
        """The group of the parameter ``name``: its longest matching prefix.

        Args:
            name (str): parameter name, e.g. ``'backbone.layer1.0.conv1.
                weight'``.

        Returns:
            str: the group prefix, or ``'others'``.
        """
        best = OTHERS_GROUP
        for prefix in self.groups:
            if name == prefix or name.startswith(prefix + '.'):
                if best == OTHERS_GROUP or len(prefix) > len(best):
                    best = prefix
        return best

    def add_params(
        self,
        params: List[dict],
        module: nn.Module,
        prefix: str = '',
        is_dcn_module: Optional[bool] = None,
    ) -> None:
        """Append one group per prefix (in config order) to ``params``.

        Args:
            params (list[dict]): the optimizer's parameter groups; appended
                to in place.
            module (nn.Module): the (unwrapped) model.
            prefix (str): unused (mmengine's recursive signature).
            is_dcn_module (bool, optional): unused.
        """
        members: Dict[str, list] = OrderedDict(
            (name, []) for name in [*self.groups, OTHERS_GROUP]
        )
        for name, param in module.named_parameters():
            members[self.group_of(name)].append(param)
        for name, group_params in members.items():
            if not group_params:
                continue
            mult = self.groups.get(name, 1.0)
            params.append(
                {
                    'params': group_params,
                    'name': name,
                    'lr': self.base_lr * mult,
                    LR_MULT_KEY: mult,
                }
            )
