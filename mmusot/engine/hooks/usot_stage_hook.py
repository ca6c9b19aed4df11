# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Per-epoch switch of USOT's training stage and loss weights."""

import warnings
from typing import Iterator, List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmtrack.registry import HOOKS
from torch.utils.data import DataLoader

from ..checkpoint import unwrap

#: Official MEMORY_EPOCH: cycle memory from epoch 6 (1-based).
CYCLE_START_EPOCH = 6
#: (first 1-based epoch, λ1); official LAMBDA_SHIFT_EPOCHS [0, 7, 9] with
#: LAMBDA_1_LIST [0.30, 0.275, 0.25] ("epoch > shift").
LAMBDA1_SCHEDULE = ((1, 0.30), (8, 0.275), (10, 0.25))
#: (first 1-based epoch, cls_ratio); official CLS_RATIO_SHIFT_EPOCHS
#: [0, 7, 10] with CLS_RATIOS [0.6, 0.5, 0.4].
CLS_RATIO_SCHEDULE = ((1, 0.6), (8, 0.5), (11, 0.4))
NAIVE_STAGE = 'naive'
CYCLE_STAGE = 'cycle'


#: The model inside a DDP (or other mmengine) wrapper (one definition:
#: :func:`mmusot.engine.checkpoint.unwrap`).
unwrap_model = unwrap


def stage_datasets(dataset) -> Iterator:
    """Every dataset under ``dataset`` that has ``set_stage``.

    Recurses into ``.datasets`` (mmengine/torch ``ConcatDataset``,
    mmtrack's ``RandomSampleConcatDataset``) and ``.dataset``
    (``RepeatDataset``, ``ClassBalancedDataset``, ``Subset``).
    """
    seen = set()
    pending = [dataset]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if callable(getattr(current, 'set_stage', None)):
            yield current
        pending.extend(getattr(current, 'datasets', None) or ())
        pending.append(getattr(current, 'dataset', None))


def restart_workers(dataloader: DataLoader) -> bool:
    """Deprecated: shut down a DataLoader's persistent workers.

    The stage hook no longer needs it: :class:`USOTStageHook` reaches the
    workers through ``set_stage`` (see the hook's contract). Kept for one
    release; it drops the loader's private iterator.

    Returns:
        bool: whether workers were shut down.
    """
    warnings.warn(
        'restart_workers is deprecated: USOTStageHook reaches DataLoader '
        'workers through set_stage (stage_reaches_workers)',
        DeprecationWarning,
        stacklevel=2,
    )
    iterator = getattr(dataloader, '_iterator', None)
    if iterator is None:
        return False
    shutdown = getattr(iterator, '_shutdown_workers', None)
    if shutdown is not None:
        shutdown()
    dataloader._iterator = None
    return True


def reaches_workers(dataset) -> bool:
    """Whether ``dataset.set_stage`` reaches existing DataLoader workers.

    A dataset declares it with a true ``stage_reaches_workers`` attribute
    (:class:`~mmusot.datasets.PseudoLabelSOTDataset` keeps its stage in
    memory shared with the workers).
    """
    return bool(getattr(dataset, 'stage_reaches_workers', False))


def _check_schedule(name: str, schedule) -> Tuple[Tuple[int, float], ...]:
    pairs = tuple((int(epoch), float(value)) for epoch, value in schedule)
    epochs = [epoch for epoch, _ in pairs]
    if not pairs or epochs[0] != 1:
        raise ValueError(
            f'{name} must start at epoch 1 (1-based), got {list(schedule)}'
        )
    if any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise ValueError(
            f'{name} epochs must increase strictly, got {list(schedule)}'
        )
    return pairs


def value_at(schedule: Sequence[Tuple[int, float]], epoch: int) -> float:
    """The value of a ``((first_epoch, value), ...)`` table at ``epoch``."""
    current = schedule[0][1]
    for first_epoch, value in schedule:
        if epoch >= first_epoch:
            current = value
    return current


@HOOKS.register_module()
class USOTStageHook(Hook):
    """Sets USOT's training stage, λ1 and cls_ratio before every epoch.

    USOT trains naive Siamese tracking first, then cycle memory (paper
    §3.3, §4.1: "cycle memory is conducted only within the last 25
    epochs"; official ``scripts/train_usot.py``, ``MEMORY_EPOCH``). Before
    each training epoch this hook, from the epoch alone (so resuming gives
    the same state as an uninterrupted run):

    * calls ``set_stage('naive' | 'cycle')`` on every dataset of the train
      dataloader that has it (through ``ConcatDataset``-style wrappers);
    * sets ``model.head.lambda1`` (λ1 of Eq. 9; the memory weight is
      ``lambda_total − λ1``) and ``model.head.cls_ratio`` (the forward
      tracking blend of offline and memory logits, official
      ``CLS_RATIOS``), unwrapping DDP.

    Contract of ``set_stage(stage)``: called in the main process before
    the epoch's ``iter(dataloader)``, it makes that epoch's samples come
    from ``stage``. A dataset whose workers see the call declares
    ``stage_reaches_workers = True``
    (:class:`~mmusot.datasets.PseudoLabelSOTDataset`: the stage lives in
    memory shared with the workers), and then ``persistent_workers=True``
    is fine; a dataset without it (a plain attribute, copied into each
    worker) needs ``persistent_workers=False`` (workers re-created every
    epoch), and the hook raises otherwise. The hook never touches the
    DataLoader's iterator.

    All epochs here are the official **1-based** epochs (1..30); mmengine's
    ``runner.epoch`` is 0-based, so epoch ``runner.epoch + 1`` is used.

    Args:
        cycle_start_epoch (int): first cycle-memory epoch. Defaults to 6.
        lambda1_schedule (sequence[tuple[int, float]]): ``(first_epoch,
            λ1)`` pairs, 1-based, starting at epoch 1; each value holds
            from its epoch until the next pair's. Defaults to
            ``((1, 0.30), (8, 0.275), (10, 0.25))`` (only read by the
            cycle stage; the naive stage uses the head's fixed weight).
        cls_ratio_schedule (sequence[tuple[int, float]]): ``(first_epoch,
            cls_ratio)`` pairs, same format. Defaults to ``((1, 0.6),
            (8, 0.5), (11, 0.4))``.
        require_stage_dataset (bool): raise when the train dataloader has
            no dataset with ``set_stage`` (the cycle stage would silently
            never see memory frames). Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(
        self,
        cycle_start_epoch: int = CYCLE_START_EPOCH,
        lambda1_schedule: Sequence[Tuple[int, float]] = LAMBDA1_SCHEDULE,
        cls_ratio_schedule: Sequence[Tuple[int, float]] = CLS_RATIO_SCHEDULE,
        require_stage_dataset: bool = True,
    ) -> None:
        if cycle_start_epoch < 1:
            raise ValueError(
                f'cycle_start_epoch is 1-based, got {cycle_start_epoch}'
            )
        self.cycle_start_epoch = int(cycle_start_epoch)
        self.lambda1_schedule = _check_schedule(
            'lambda1_schedule', lambda1_schedule
        )
        self.cls_ratio_schedule = _check_schedule(
            'cls_ratio_schedule', cls_ratio_schedule
        )
        self.require_stage_dataset = require_stage_dataset
        # What this process last applied (None: nothing yet). Only used to
        # decide when to log, never for the state.
        self._applied: Optional[Tuple[str, float, float]] = None

    def stage_at(self, epoch: int) -> str:
        """The stage of a 1-based epoch: ``'naive'`` or ``'cycle'``."""
        return CYCLE_STAGE if epoch >= self.cycle_start_epoch else NAIVE_STAGE

    def settings_at(self, epoch: int) -> Tuple[str, float, float]:
        """``(stage, lambda1, cls_ratio)`` of a 1-based epoch."""
        return (
            self.stage_at(epoch),
            value_at(self.lambda1_schedule, epoch),
            value_at(self.cls_ratio_schedule, epoch),
        )

    def before_train_epoch(self, runner) -> None:
        """Apply the settings of epoch ``runner.epoch + 1``."""
        epoch = runner.epoch + 1
        settings = self.settings_at(epoch)
        stage, lambda1, cls_ratio = settings

        dataloader = runner.train_loop.dataloader
        datasets: List = list(stage_datasets(dataloader.dataset))
        if not datasets and self.require_stage_dataset:
            raise TypeError(
                'USOTStageHook: no dataset in train_dataloader has '
                f'set_stage() (dataset: {type(dataloader.dataset).__name__})'
                '; use PseudoLabelSOTDataset or set '
                'require_stage_dataset=False'
            )
        if getattr(dataloader, 'num_workers', 0) and getattr(
            dataloader, 'persistent_workers', False
        ):
            stale = [d for d in datasets if not reaches_workers(d)]
            if stale:
                raise ValueError(
                    'USOTStageHook: persistent DataLoader workers would keep '
                    f'the old stage of {type(stale[0]).__name__} (its '
                    'set_stage does not declare stage_reaches_workers); set '
                    'train_dataloader.persistent_workers=False'
                )
        for dataset in datasets:
            dataset.set_stage(stage)

        head = getattr(unwrap_model(runner.model), 'head', None)
        for name in ('lambda1', 'cls_ratio'):
            if not hasattr(head, name):
                raise AttributeError(
                    f'USOTStageHook: model.head ({type(head).__name__}) has '
                    f'no attribute {name!r} to set'
                )
        head.lambda1 = lambda1
        head.cls_ratio = cls_ratio

        previous = self._applied
        if previous != settings:
            print_log(
                f'USOTStageHook: epoch {epoch} (1-based): stage {stage!r} '
                f'on {len(datasets)} dataset(s), lambda1={lambda1:g}, '
                f'cls_ratio={cls_ratio:g}',
                logger='current',
            )
        self._applied = settings
