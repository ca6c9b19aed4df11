# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
from types import SimpleNamespace

import pytest
from mmengine.dataset import pseudo_collate
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from mmusot.datasets import SamplingState
from mmusot.engine import USOTStageHook
from mmusot.engine.hooks import usot_stage_hook
from tests.test_engine.toy_usot import MMUSOTToyStageDataset, MMUSOTToyTracker


class OfficialTable:
    """The official per-epoch values, written out epoch by epoch."""

    @staticmethod
    def stage(epoch):
        return 'naive' if epoch <= 5 else 'cycle'

    @staticmethod
    def lambda1(epoch):
        # LAMBDA_SHIFT_EPOCHS [0, 7, 9]: 0.30 for 6-7, 0.275 for 8-9.
        if epoch <= 7:
            return 0.30
        return 0.275 if epoch <= 9 else 0.25

    @staticmethod
    def cls_ratio(epoch):
        # CLS_RATIO_SHIFT_EPOCHS [0, 7, 10].
        if epoch <= 7:
            return 0.6
        return 0.5 if epoch <= 10 else 0.4


def make_runner(dataset, model=None, **loader_kwargs):
    loader = DataLoader(
        dataset, batch_size=4, collate_fn=pseudo_collate, **loader_kwargs
    )
    return SimpleNamespace(
        epoch=0,
        model=model if model is not None else MMUSOTToyTracker(),
        train_loop=SimpleNamespace(dataloader=loader),
    )


def test_every_official_epoch_through_dataset_wrappers():
    # .datasets (ConcatDataset) and .dataset (Subset, RepeatDataset) nest.
    first, second = MMUSOTToyStageDataset(), MMUSOTToyStageDataset(8)
    runner = make_runner(ConcatDataset([first, Subset(second, range(4))]))
    hook = USOTStageHook()
    for epoch in range(1, 31):
        runner.epoch = epoch - 1  # mmengine's 0-based epoch
        hook.before_train_epoch(runner)
        assert first.stage == second.stage == OfficialTable.stage(epoch)
        head = runner.model.head
        assert head.lambda1 == OfficialTable.lambda1(epoch), epoch
        assert head.cls_ratio == OfficialTable.cls_ratio(epoch), epoch


def test_state_comes_from_the_epoch_alone_on_resume():
    dataset = MMUSOTToyStageDataset()
    runner = make_runner(dataset)
    runner.model.head.lambda1 = runner.model.head.cls_ratio = -1.0
    runner.epoch = 8  # resumed at official epoch 9 by a fresh hook
    USOTStageHook().before_train_epoch(runner)
    assert dataset.stage == 'cycle'
    assert runner.model.head.lambda1 == 0.275
    assert runner.model.head.cls_ratio == 0.5


def test_custom_tables_are_one_based():
    dataset = MMUSOTToyStageDataset()
    runner = make_runner(dataset)
    hook = USOTStageHook(
        cycle_start_epoch=2,
        lambda1_schedule=[[1, 0.5], [3, 0.1]],
        cls_ratio_schedule=[[1, 0.9]],
    )
    assert hook.settings_at(1) == ('naive', 0.5, 0.9)
    assert hook.settings_at(2) == ('cycle', 0.5, 0.9)
    assert hook.settings_at(3) == ('cycle', 0.1, 0.9)
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert dataset.stage == 'cycle'


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(lambda1_schedule=[(2, 0.3)]),
        dict(cls_ratio_schedule=[(1, 0.6), (1, 0.5)]),
        dict(cycle_start_epoch=0),
    ],
)
def test_bad_tables_are_refused(kwargs):
    with pytest.raises(ValueError):
        USOTStageHook(**kwargs)


class NoStage(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return index


def test_missing_stage_dataset_or_head_attributes_raise():
    hook = USOTStageHook()
    with pytest.raises(TypeError, match='set_stage'):
        hook.before_train_epoch(make_runner(NoStage()))
    USOTStageHook(require_stage_dataset=False).before_train_epoch(
        make_runner(NoStage())
    )
    model = MMUSOTToyTracker()
    del model.head.cls_ratio
    with pytest.raises(AttributeError, match='cls_ratio'):
        hook.before_train_epoch(make_runner(MMUSOTToyStageDataset(), model))


def stages_seen(loader):
    return {s.stage for batch in loader for s in batch['data_samples']}


class SharedStageDataset(MMUSOTToyStageDataset):
    """The toy dataset with its stage in a SamplingState (the contract)."""

    stage_reaches_workers = True

    def __init__(self, num_samples=16):
        self.state = SamplingState()
        super().__init__(num_samples)

    @property
    def stage(self):
        return self.state.stage

    @stage.setter
    def stage(self, stage):
        self.state.stage = stage


def test_persistent_workers_see_the_new_stage():
    # The stage reaches the live workers through the dataset's shared
    # state: the same iterator (and workers) serve all three epochs.
    runner = make_runner(
        SharedStageDataset(8), num_workers=1, persistent_workers=True
    )
    loader = runner.train_loop.dataloader
    hook = USOTStageHook(cycle_start_epoch=2)
    seen, iterators = [], []
    for epoch in (1, 2, 3):
        runner.epoch = epoch - 1
        hook.before_train_epoch(runner)
        seen.append(stages_seen(loader))
        iterators.append(loader._iterator)
    assert seen == [{'naive'}, {'cycle'}, {'cycle'}]
    assert iterators[0] is iterators[1] is iterators[2] is not None
    loader._iterator._shutdown_workers()


def test_plain_stage_attribute_with_persistent_workers_is_refused():
    # A stage kept in a plain attribute would stay stale in the workers.
    runner = make_runner(
        MMUSOTToyStageDataset(8), num_workers=1, persistent_workers=True
    )
    with pytest.raises(ValueError, match='persistent_workers=False'):
        USOTStageHook().before_train_epoch(runner)
    fresh = make_runner(MMUSOTToyStageDataset(8), num_workers=1)
    USOTStageHook().before_train_epoch(fresh)  # re-created workers: fine


def test_restart_workers_is_deprecated():
    loader = make_runner(MMUSOTToyStageDataset(8)).train_loop.dataloader
    with pytest.warns(DeprecationWarning, match='restart_workers'):
        assert usot_stage_hook.restart_workers(loader) is False
