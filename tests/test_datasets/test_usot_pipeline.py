# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT training data config end to end, and the label fixture."""

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmtrack.models.data_preprocessors import TrackDataPreprocessor
from mmtrack.registry import DATA_SAMPLERS, DATASETS
from mmtrack.utils import register_all_modules

from tests.fixtures import PARITY, REPO, require_shared
from tests.test_datasets.usot_data import video_spec, write_dataset

CONFIG = REPO / 'configs/usot/_base_/datasets/usot_pseudo_labels.py'


@pytest.fixture(scope='module')
def loader_cfg(tmp_path_factory):
    register_all_modules(init_default_scope=True)
    root = tmp_path_factory.mktemp('usot_data')
    write_dataset(root, [video_spec('a', 10), video_spec('b', 6)])
    cfg = Config.fromfile(str(CONFIG)).train_dataloader
    cfg.dataset.data_root = str(root)
    cfg.dataset.samples_per_epoch = 4
    return cfg


def run_batch(cfg, stage):
    dataset = DATASETS.build(cfg.dataset)
    dataset.set_stage(stage)
    sampler = DATA_SAMPLERS.build(
        cfg.sampler, default_args=dict(dataset=dataset, seed=0)
    )
    assert len(sampler) == 4
    samples = [dataset[i] for i in sampler]
    batch = TrackDataPreprocessor()(pseudo_collate(samples), training=True)
    return samples, batch


@pytest.mark.parametrize('stage', ['naive', 'cycle'])
def test_config_pipeline_gives_the_model_contract(loader_cfg, stage):
    assert loader_cfg.batch_size == 12
    assert loader_cfg.persistent_workers is False
    samples, batch = run_batch(loader_cfg, stage)
    inputs = batch['inputs']
    expected = {'img': (4, 1, 3, 127, 127), 'search_img': (4, 1, 3, 255, 255)}
    if stage == 'cycle':
        expected['memory_img'] = (4, 4, 3, 255, 255)
    assert {k: tuple(v.shape) for k, v in inputs.items()} == expected
    assert all(v.dtype == torch.float32 for v in inputs.values())
    assert inputs['search_img'].max() <= 255 and inputs['img'].max() > 100
    for k, sample in enumerate(batch['data_samples']):
        t = sample.gt_instances.bboxes
        s = sample.search_gt_instances.bboxes
        assert t.shape == s.shape == (1, 4)
        assert (t >= 0).all() and (t <= 127).all()
        assert (s >= 0).all() and (s <= 255).all()
        tx, ty = sample.metainfo['search_shift']
        assert abs(tx) <= 64 and abs(ty) <= 64
        # the cls label centre (12 + trunc(-t / 8) cells, 8 px per cell
        # from pixel 127) lies near the search box centre: they differ by
        # the scale jitter (<= 18 %) and the truncation only
        label = 127 + 8 * np.trunc(-np.array([tx, ty]) / 8)
        centre = ((s[0, :2] + s[0, 2:]) / 2).numpy()
        assert np.abs(label - centre).max() < 0.18 * 64 + 8 + 1
        # the frames hold a white box at the pseudo box: it is in the box
        search = sample.search_gt_instances.bboxes[0].round().int().tolist()
        img = inputs['search_img'][k, 0]
        inside = img[:, search[1] : search[3], search[0] : search[2]]
        assert inside.mean() > img.mean() + 30
    if stage == 'cycle':
        meta = batch['data_samples'][0].metainfo
        assert len(meta['memory_frame_id']) == 4
        assert 'memory_batch_input_shape' in meta


def test_label_code_reproduces_the_official_labels():
    """The model's label code on the fixture boxes and shifts gives the
    official dataset's labels and PrPool boxes (train_golden.npz)."""
    golden = np.load(require_shared(PARITY / 'train_golden.npz'))
    from mmusot.models.track_heads import USOTHead

    head = USOTHead(in_channels=8)
    search_box = torch.from_numpy(golden['search_box'])
    shift = torch.from_numpy(golden['search_shift'])
    cls, reg, weight = head.get_targets(search_box, 25, shift)
    np.testing.assert_array_equal(cls[:, 0].numpy(), golden['label_cls'])
    np.testing.assert_allclose(
        reg.permute(0, 2, 3, 1).numpy(), golden['reg_label'], atol=1e-4
    )
    np.testing.assert_array_equal(weight[:, 0].numpy(), golden['reg_weight'])
    template = head.template_box_to_cells(
        torch.from_numpy(golden['template_box'])
    )
    np.testing.assert_allclose(
        template.numpy(), golden['pool_template'], atol=1e-5
    )
    search = head.search_box_to_cells(search_box, head.response_extent(25))
    np.testing.assert_allclose(
        search.numpy(), golden['pool_search'], atol=1e-5
    )
