# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOTQuotaSampler: per-source quotas, epochs, ranks."""

from collections import Counter

import numpy as np
import pytest
from mmengine.dataset import ConcatDataset

from mmusot.datasets import PseudoLabelSOTDataset
from mmusot.datasets.samplers import USOTQuotaSampler, usot_quota_sampler
from tests.test_datasets.usot_data import video_spec, write_dataset


def source(root, num_videos, samples_per_epoch):
    write_dataset(
        root,
        [video_spec(f'v{i}', num_frames=3) for i in range(num_videos)],
        frames=False,
    )
    return PseudoLabelSOTDataset(
        data_root=str(root),
        ann_file='pseudo_infos.txt',
        data_prefix=dict(img_path=''),
        samples_per_epoch=samples_per_epoch,
        pipeline=[],
    )


@pytest.fixture
def concat(tmp_path):
    return ConcatDataset(
        [source(tmp_path / 'a', 3, 10), source(tmp_path / 'b', 4, 6)]
    )


def test_quotas_per_source_and_epoch(concat):
    sampler = USOTQuotaSampler(concat, seed=5)
    assert len(sampler) == 16 and sampler.quotas == [10, 6]
    epochs = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        indices = list(sampler)
        assert all(type(i) is int for i in indices)
        assert len(indices) == 16
        a = Counter(i for i in indices if i < 3)
        b = Counter(i - 3 for i in indices if i >= 3)
        # 10 draws over 3 videos: each 3 or 4 times; 6 over 4: 1 or 2
        assert sum(a.values()) == 10 and set(a) == {0, 1, 2}
        assert set(a.values()) <= {3, 4}
        assert sum(b.values()) == 6 and set(b) == {0, 1, 2, 3}
        assert set(b.values()) <= {1, 2}
        epochs.append(indices)
    assert epochs[0] != epochs[1] != epochs[2]
    # shuffled across sources, reproducible per (seed, epoch)
    assert epochs[0] != sorted(epochs[0])
    again = USOTQuotaSampler(concat, seed=5)
    again.set_epoch(1)
    assert list(again) == epochs[1]
    assert list(USOTQuotaSampler(concat, seed=6)) != list(
        USOTQuotaSampler(concat, seed=5)
    )


def test_epoch_and_seed_reach_the_datasets(concat):
    sampler = USOTQuotaSampler(concat, seed=11)
    sampler.set_epoch(4)
    for child in concat.datasets:
        assert child._epoch == 4 and child._shared_seed == 11


def test_no_shuffle_and_default_quota(tmp_path):
    ds = source(tmp_path, 3, None)  # quota = one pass over the videos
    sampler = USOTQuotaSampler(ds, seed=0, shuffle=False)
    assert list(sampler) == [0, 1, 2]
    ds.samples_per_epoch = 7
    assert list(USOTQuotaSampler(ds, shuffle=False)) == [0, 1, 2] * 2 + [0]


def test_split_across_ranks(concat, monkeypatch):
    full = USOTQuotaSampler(concat, seed=3).epoch_indices()
    parts = []
    for rank in range(3):
        monkeypatch.setattr(
            usot_quota_sampler, 'get_dist_info', lambda r=rank: (r, 3)
        )
        sampler = USOTQuotaSampler(concat, seed=3)
        parts.append(list(sampler))
        assert len(sampler) == len(parts[-1]) == 6  # ceil(16 / 3)
    merged = np.stack(parts, 1).reshape(-1)
    np.testing.assert_array_equal(merged[:16], full)
    np.testing.assert_array_equal(merged[16:], full[:2])  # padding


def test_bad_quota(tmp_path):
    ds = source(tmp_path, 2, 4)
    ds.samples_per_epoch = -1
    with pytest.raises(ValueError, match='samples_per_epoch'):
        USOTQuotaSampler(ds)
