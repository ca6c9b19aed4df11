# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The USOT test configs parse, point at the right data and switches."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmusot.models.sot.usot_tracking import USOTTestConfig

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'usot', '*test-*.py')))

EXPECTED = {
    'usot_r50_test-otb100.py': ('OTB100Dataset', 'OPE'),
    'usot_r50_test-lasot.py': ('LaSOTDataset', 'OPE'),
    'usot_r50_test-uav123.py': ('UAV123Dataset', 'OPE'),
    'usot_r50_test-got10k.py': ('GOT10kDataset', None),
    'usot_r50_test-trackingnet.py': ('TrackingNetDataset', None),
    'usot_r50_test-vot2018.py': ('VOTDataset', 'VOT'),
    'usot_r50_test-otb-folder.py': ('OTBFolderDataset', 'OPE'),
    'usot_mobilenetv2_test-otb-folder.py': ('OTBFolderDataset', 'OPE'),
    'usot_r50-corrected_test-otb-folder.py': ('OTBFolderDataset', 'OPE'),
    'usot_r50-corrected_test-otb100.py': ('OTB100Dataset', 'OPE'),
    'usot_r50-official_test-otb100.py': ('OTB100Dataset', 'OPE'),
    'usot_r50-official_test-lasot.py': ('LaSOTDataset', 'OPE'),
    'usot_r50-official_test-uav123.py': ('UAV123Dataset', 'OPE'),
    'usot_r50-official_test-otb-folder.py': ('OTBFolderDataset', 'OPE'),
    'usot_r50-official_test-got10k.py': ('GOT10kDataset', None),
    'usot_r50-official_test-trackingnet.py': ('TrackingNetDataset', None),
    'usot_r50-official_test-vot2018.py': ('VOTDataset', 'VOT'),
}


def test_every_benchmark_has_a_config():
    assert sorted(osp.basename(c) for c in CONFIGS) == sorted(EXPECTED)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_parses(path):
    cfg = Config.fromfile(path)
    dataset_type, metric = EXPECTED[osp.basename(path)]
    assert cfg.default_scope == 'mmtrack'
    assert cfg.custom_imports.imports == ['mmusot']
    assert cfg.model.type == 'USOT'
    assert cfg.test_dataloader.dataset.type == dataset_type
    assert cfg.test_dataloader.dataset.test_mode
    assert cfg.test_dataloader.sampler.type == 'VideoSampler'
    assert cfg.test_evaluator.type == 'SOTMetric'
    assert cfg.test_cfg.type == 'TestLoop'
    if metric is None:  # server formats
        assert cfg.test_evaluator.format_only
        assert cfg.test_evaluator.outfile_prefix.startswith('results/')
    else:
        assert cfg.test_evaluator.get('metric', 'OPE') == metric
    vot = metric == 'VOT'
    # the effective inference settings: code defaults + the config's keys
    effective = USOTTestConfig.from_cfg(cfg.model.test_cfg)
    assert effective.test_mode == ('VOT' if vot else 'OPE')
    corrected = 'corrected' in osp.basename(path)
    assert effective.memory_index == ('corrected' if corrected else 'official')
    assert effective.size_smoothing == ('single' if corrected else 'double')
    # the pooling axis follows the checkpoint, never switched here
    assert cfg.model.head.search_pool_axis == 'official'
    # the official configs: official crop, and the 1-based protocol for
    # every OPE/server benchmark (not VOT)
    official = 'official' in osp.basename(path)
    assert effective.crop_mode == ('official' if official else 'exact')
    assert effective.one_based_gt == (official and not vot)


def test_official_server_results_do_not_overwrite_the_default_ones():
    for bench in ('got10k', 'trackingnet'):
        default, official = (
            Config.fromfile(
                osp.join(
                    REPO, 'configs', 'usot', f'usot_r50{v}_test-{bench}.py'
                )
            ).test_evaluator.outfile_prefix
            for v in ('', '-official')
        )
        assert official != default and official.startswith('results/')


@pytest.mark.parametrize(
    'name',
    ['usot_r50_test-otb-folder.py', 'usot_mobilenetv2_test-otb-folder.py'],
)
def test_otb_folder_configs_inherit_mmtrack_otb100(name):
    """mmtrack's OTB100 pipeline and metric, our dataset, a repo-local root."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'usot', name))
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'OTBFolderDataset'
    assert dataset.data_root == 'data/sot_eval/'
    assert 'ann_file' not in dataset
    assert [t['type'] for t in dataset.pipeline] == [
        'LoadImageFromFile',
        'LoadTrackAnnotations',
        'PackTrackInputs',
    ]
    assert cfg.test_evaluator.type == 'SOTMetric'
    assert cfg.default_scope == 'mmtrack'
    assert cfg.custom_imports.imports == ['mmusot']


def test_base_config_sets_only_valid_inference_keys():
    # the defaults live in USOTTestConfig alone; the base config lists
    # overrides only, and every one of them must be a known key
    base = Config.fromfile(
        osp.join(REPO, 'configs', 'usot', '_base_', 'usot_r50.py')
    )
    test_cfg = base.model.test_cfg.to_dict()
    assert test_cfg == dict(test_mode='OPE')
    assert USOTTestConfig.from_cfg(test_cfg) == USOTTestConfig()
