# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The train configs load, and each runs a real training step on CPU."""

import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmusot.engine import load_config
from tests.fixtures import REPO
from tests.test_datasets.usot_data import video_spec, write_dataset

CONFIGS = REPO / 'configs' / 'usot'
USOT_TRAIN = [
    'usot_r50_4xb12-30e_got10k-vid-lasot-ytvos-pseudo.py',
    'usot_r50_1xb8-30e-cpu_pseudo-folder.py',
    'usot_r50_1xb8-30e-cpu_random-boxes-folder.py',
    'usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py',
    'usot_mobilenetv2_1xb8-30e-cpu_random-boxes-folder.py',
]


@pytest.fixture(scope='module')
def pseudo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('pseudo')
    write_dataset(root, [video_spec('a', 12), video_spec('b', 8)])
    return str(root)


@pytest.mark.parametrize('name', USOT_TRAIN)
def test_usot_train_config_recipe(name):
    cfg = load_config(str(CONFIGS / name))
    assert cfg.model.type == 'USOT'
    assert cfg.model.frozen_modules == 'backbone'
    assert cfg.train_cfg.max_epochs == 30
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert set(hooks) == {'USOTStageHook', 'BackboneUnfreezeHook'}
    assert cfg.param_scheduler[0]['type'] == 'USOTLR'
    assert 'clip_grad' not in cfg.optim_wrapper
    dataset = cfg.train_dataloader.dataset
    parts = dataset.datasets if dataset.type == 'ConcatDataset' else [dataset]
    random_boxes = 'random-boxes' in name
    for part in parts:
        assert part.type == 'PseudoLabelSOTDataset'
        assert part.box_source == ('random' if random_boxes else 'pseudo')
    if 'got10k-vid-lasot-ytvos' in name:
        assert [p.samples_per_epoch for p in parts] == [
            14000,
            19000,
            13000,
            4000,
        ]
        assert cfg.train_dataloader.batch_size == 12


def build_one_batch(cfg, root):
    from mmtrack.registry import DATA_SAMPLERS, DATASETS, MODELS
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    import mmusot  # noqa: F401

    cfg.train_dataloader.dataset.data_root = root
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    sampler = DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler,
        default_args=dict(dataset=dataset, seed=0),
    )
    indices = list(sampler)[:2]
    samples = [dataset[i] for i in indices]
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(pseudo_collate(samples), training=True)
    return model, batch


def test_siamese_rpn_trains_on_pseudo_labels(pseudo_root):
    """mmtrack's SiamRPN++, unchanged, learns from mmusot's pseudo labels."""
    cfg = load_config(
        str(CONFIGS / 'siamese-rpn_r50_1xb8-20e_pseudo-folder.py')
    )
    assert cfg.model.type == 'SiamRPN'
    cfg.train_dataloader.sampler.samples_per_epoch = 4
    torch.manual_seed(0)
    model, batch = build_one_batch(cfg, pseudo_root)
    losses = model.loss(**batch)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and total > 0
    total.backward()
    grads = [p.grad for p in model.head.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_cpu3h_recipe_learns_size_and_trains(pseudo_root):
    """The three-hour CPU recipe: zoomed search crops with the exact label,
    per-target IoU loss, frozen backbone, averaged weights; one real step."""
    cfg = load_config(
        str(CONFIGS / 'usot_mobilenetv2_1xb8-28e-cpu3h_pseudo-folder.py')
    )
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop.type == 'USOTShiftScaleCrop'
    assert crop.search.zoom == 1.6 and crop.search.label_shift == 'exact'
    assert 'zoom' not in crop.template and 'zoom' not in crop.memory
    assert cfg.model.head.reg_loss_norm == 'sample'
    hooks = {h['type']: h for h in cfg.custom_hooks}
    assert 'BackboneUnfreezeHook' not in hooks
    assert hooks['EMAHook']['begin_epoch'] == (
        hooks['USOTStageHook']['cycle_start_epoch'] - 1
    )
    assert cfg.train_cfg.max_epochs == 28
    # the paper's recipe is untouched
    paper = load_config(
        str(CONFIGS / 'usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py')
    )
    assert 'zoom' not in paper.train_dataloader.dataset.pipeline[1].search
    assert 'reg_loss_norm' not in paper.model.head
    torch.manual_seed(0)
    cfg.model.backbone.init_cfg = None
    model, batch = build_one_batch(cfg, pseudo_root)
    losses = model.loss(**batch)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and total > 0
