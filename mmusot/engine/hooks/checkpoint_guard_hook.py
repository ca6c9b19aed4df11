# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Refuse the checkpoints that would give a silently wrong network."""

from typing import Optional, Set

from mmengine.hooks import Hook
from mmtrack.registry import HOOKS

from ..checkpoint import (
    NonFiniteCheckpointError,
    check_checkpoint_fits,
    check_finite_checkpoint,
    name_list,
    non_finite_keys,
    non_finite_weights,
    unwrap,
)


def loaded_file(runner) -> str:
    """The checkpoint a Runner loads: ``load_from``, or with ``resume``
    and no file the latest one in the work dir (as mmengine picks it)."""
    from mmengine.runner import find_latest_checkpoint

    source = getattr(runner, '_load_from', None)
    if source is None and getattr(runner, '_resume', False):
        source = find_latest_checkpoint(runner.work_dir)
    return str(source) if source is not None else 'the checkpoint'


@HOOKS.register_module()
class CheckpointGuardHook(Hook):
    """Fail, naming the file and the tensors, instead of a wrong network.

    mmusot's :func:`~mmusot.engine.build_runner` registers it in every
    Runner it builds (``tools/train.py``, ``tools/test.py``, the demo):

    * a checkpoint loaded (``load_from``, ``--resume``) must fit the
      network (:func:`~mmusot.engine.checkpoint.check_checkpoint_fits`;
      ``allow_partial`` keeps mmengine's lenient load) and hold finite
      weights in ``state_dict`` and ``ema_state_dict``;
    * a checkpoint is not written when the network or its moving average
      (``EMAHook``) holds NaN or Inf.

    It runs before the other hooks (``VERY_HIGH``), so before ``EMAHook``
    loads a resumed average. Tensors that are non-finite in the network as
    built (constant masks, by design) are not reported.

    Args:
        allow_partial (bool): load checkpoints that do not fit the network
            (mmengine's warning only). Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self, allow_partial: bool = False) -> None:
        self.allow_partial = allow_partial
        self._allowed: Optional[Set[str]] = None

    def _by_design(self, runner) -> Set[str]:
        return set(non_finite_keys(unwrap(runner.model).state_dict()))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        filename = loaded_file(runner)
        check_finite_checkpoint(checkpoint, filename, self._by_design(runner))
        if not self.allow_partial:
            check_checkpoint_fits(
                runner.model, checkpoint, filename, runner.cfg.filename
            )

    def before_train(self, runner) -> None:
        self._allowed = self._by_design(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        weights = dict(state_dict=checkpoint.get('state_dict', {}))
        # EMAHook (NORMAL priority) adds the average after this hook.
        for hook in runner.hooks:
            ema = getattr(hook, 'ema_model', None)
            if ema is not None:
                weights['ema_state_dict'] = ema.state_dict()
        allowed = self._allowed if self._allowed is not None else set()
        bad = non_finite_weights(weights, allowed)
        if not bad:
            return
        raise NonFiniteCheckpointError(
            f'not saving the checkpoint of epoch {runner.epoch + 1} '
            f'(iteration {runner.iter}) in {runner.work_dir}: '
            f'{len(bad)} weight tensor(s) of the network hold NaN or Inf: '
            f'{name_list(bad)}. The training diverged: check the pseudo '
            'labels (mmusot-eval-pseudo-labels DATA_ROOT) and the learning '
            'rate; '
            'the earlier checkpoints of the run are kept.'
        )
