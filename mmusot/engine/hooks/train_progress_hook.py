# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""A progress bar with ETA over a whole training run."""

import sys
from typing import Optional

from mmengine.hooks import Hook
from mmtrack.registry import HOOKS


@HOOKS.register_module()
class TrainProgressHook(Hook):
    """Show one tqdm bar (iterations, rate, ETA, loss) for the whole run.

    Meant for interactive and demo runs, next to or instead of mmengine's
    periodic log lines; a resumed run starts the bar where it left off.
    Only rank 0 draws it.

    Args:
        desc (str): the bar's label. Defaults to 'training'.
        stream: where to draw. Defaults to ``sys.stderr``.
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'training', stream=None) -> None:
        self.desc = desc
        self.stream = stream
        self._bar = None

    def before_train(self, runner) -> None:
        from mmengine.dist import is_main_process
        from tqdm import tqdm

        if not is_main_process():
            return
        self._bar = tqdm(
            total=runner.max_iters,
            initial=runner.iter,
            desc=self.desc,
            unit='it',
            file=self.stream or sys.stderr,
            dynamic_ncols=True,
        )

    def after_train_iter(
        self,
        runner,
        batch_idx: int,
        data_batch=None,
        outputs: Optional[dict] = None,
    ) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        if outputs and 'loss' in outputs:
            stage = 'cycle' if 'loss_mem' in outputs else 'naive'
            self._bar.set_postfix(
                epoch=runner.epoch + 1,
                stage=stage,
                loss=f'{outputs["loss"].item():.3f}',
                refresh=False,
            )

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
