# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot-eval-pseudo-labels --sampler usot: Table 5 through the training
dataset's own sampler, on a synthetic OTB-style sequence with GT."""

import json

import numpy as np
import pytest

from mmusot.cli import eval_pseudo_labels
from mmusot.datasets import PseudoLabelSampler, pseudo_label_eval
from mmusot.pseudo_labels import (
    PseudoLabelSettings,
    convert_sources,
    discover_sources,
    merge,
)

from ..test_pseudo_labels.synth_video import moving_object_video, write_folder


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp('eval_usot')
    frames, gt = moving_object_video(40)
    write_folder(str(root / 'seq' / 'Obj' / 'img'), frames, '.jpg')
    xywh = np.c_[gt[:, :2], gt[:, 2:] - gt[:, :2]]
    gt_file = root / 'seq' / 'Obj' / 'groundtruth_rect.txt'
    np.savetxt(gt_file, xywh, fmt='%d', delimiter=',')
    out = root / 'out'
    convert_sources(
        discover_sources(str(root / 'seq')), str(out), PseudoLabelSettings()
    )
    merge(str(out))  # writes pseudo_infos.txt
    return root, out, gt_file, xywh


def run(root, out, *extra):
    mod = eval_pseudo_labels
    res_file = root / 'res.json'
    args = [str(out), '--gt-root', str(root / 'seq'), '--json', str(res_file)]
    assert mod.main(args + ['--samples', '300'] + list(extra)) == 0
    return json.loads(res_file.read_text())


def test_usot_sampler_table5(converted):
    root, out, gt_file, xywh = converted
    res = run(root, out, '--sampler', 'usot')
    usot = res['usot_sampler']
    assert set(usot) == {'naive', 'cycle'}
    assert usot['naive']['template']['n'] == 300
    assert 'memory' not in usot['naive']
    cycle = usot['cycle']
    assert cycle['template']['n'] == 300 and cycle['memory']['n'] == 1200
    assert cycle['template']['iou03'] > 0.8 and cycle['memory']['iou03'] > 0.6
    assert cycle['mean_interval'] > 0 and cycle['without_gt'] == 0
    # the default path is unchanged: no usot section
    assert 'usot_sampler' not in run(root, out)
    # wrong ground truth scores low: the sampler path can fail
    np.savetxt(gt_file, xywh + [60, 50, 0, 0], fmt='%d', delimiter=',')
    try:
        bad = run(root, out, '--sampler', 'usot')['usot_sampler']
    finally:
        np.savetxt(gt_file, xywh, fmt='%d', delimiter=',')
    assert bad['cycle']['template']['iou03'] < 0.2


def test_usot_sampler_needs_one_infos_file(converted):
    root, out, _, _ = converted
    with pytest.raises(FileNotFoundError, match='missing_infos.txt'):
        run(root, out, '--sampler', 'usot', '--ann-file', 'missing_infos.txt')


def test_eval_draws_the_training_frames(converted):
    """The evaluator's template and memory frames are those the training
    dataset's sampler draws for the same track and generator."""
    root, out, _, _ = converted
    tracks, _ = pseudo_label_eval.load_tracks(out, root / 'seq', False)
    draws = pseudo_label_eval.draw_template_memory(tracks, 60, seed=3)
    assert len(draws) == 60
    dataset = pseudo_label_eval.training_dataset(
        out, pseudo_label_eval.find_infos(out)
    )
    assert isinstance(dataset.sampler, PseudoLabelSampler)
    index = {
        (info['video_name'], info['start_frame_id']): k
        for k, info in enumerate(
            dataset.get_data_info(k) for k in range(dataset.num_videos)
        )
    }
    rng = np.random.default_rng(3)
    usable = [k for k, t in enumerate(tracks) if t['valid'].any()]
    memory_seen = 0
    for k, template, memory in draws:
        assert k == usable[rng.integers(len(usable))]
        track = tracks[k]
        info = dataset.get_data_info(
            index[(track['video'], track['track']['start_frame_id'])]
        )
        expected = dataset.sampler.draw_frames(info, rng, 'cycle')
        assert (template, memory) == expected[:2]
        memory_seen += len(memory)
    assert memory_seen == 4 * 60


def test_zero_video_quality_draws_every_frame_as_training_does():
    # Q_v <= 0: n_cand is the track length (the evaluator used to floor Q_v
    # at 1e-6, i.e. three million candidates).
    n = 9
    track = dict(
        q_v=0.0,
        frame_quality_short=[0.5] * n,
        corner=[0.0] * n,
        t_l=[0] * n,
        t_u=[n - 1] * n,
    )
    info = pseudo_label_eval.sampling_info(track)
    sampler = PseudoLabelSampler()
    _, memory, n_cand = sampler.draw_frames(
        info, np.random.default_rng(0), 'cycle'
    )
    assert n_cand == n and len(memory) == 4
