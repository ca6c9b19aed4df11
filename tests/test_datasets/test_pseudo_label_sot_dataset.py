# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""PseudoLabelSOTDataset: USOT's sampler on hand-made sidecars."""

import json
import os

import numpy as np
import pytest
from mmtrack.utils import register_all_modules

from mmusot.datasets import PseudoLabelSOTDataset
from tests.test_datasets.usot_data import (
    FRAME_HW,
    SpyRng,
    video_spec,
    write_dataset,
)


@pytest.fixture(autouse=True, scope='module')
def mmtrack_scope():
    register_all_modules(init_default_scope=True)


def build(root, infos='pseudo_infos.txt', **kwargs):
    kwargs.setdefault('pipeline', [])
    return PseudoLabelSOTDataset(
        data_root=str(root),
        ann_file=infos,
        data_prefix=dict(img_path=''),
        **kwargs,
    )


def q_of(ds, video_index):
    track = int(ds.sampler.video_groups[video_index][0])
    return ds.video_score(track)


def test_loads_infos_and_sidecars(tmp_path):
    write_dataset(tmp_path, [video_spec('a'), video_spec('b', 5)])
    ds = build(tmp_path)
    assert ds.usot_sampling and len(ds) == 2 and ds.num_videos == 2
    info = ds.get_data_info(1)
    assert info['video_name'] == 'b' and info['q_v'] == pytest.approx(0.9)
    assert info['bboxes'].shape == (5, 4)
    # xywh annotations become xyxy
    np.testing.assert_allclose(info['bboxes'][0], [30, 20, 70, 50])
    assert info['t_u'].tolist() == [4] * 5


def test_theta1_gate_accepts_good_and_resamples_bad(tmp_path):
    specs = [
        video_spec('v0', q_v=0.9),
        video_spec('v1', q_v=0.40, corner_freq=0.0),  # Q = 0.40: accepted
        video_spec('v2', q_v=0.30),  # Q < 0.40: re-sampled
        video_spec('v3', q_v=0.9, corner_freq=0.3),  # corner >= 0.25
        video_spec('v4', q_v=0.9),
    ]
    write_dataset(tmp_path, specs, frames=False)
    ds = build(tmp_path)
    rng = np.random.default_rng(0)
    assert ds.select_video(0, rng)[::2] == (0, False)
    assert ds.select_video(1, rng)[::2] == (1, False)
    for index in (2, 3):
        seen = set()
        for _ in range(200):
            video, track, resampled = ds.select_video(index, rng)
            assert resampled
            # accepted re-draws have Q > 0.40 (strict); the official range
            # [max(0, i - 30), min(N - 1, i + 31)) never reaches video 4
            assert q_of(ds, video)[0] > 0.40
            assert 0 <= video < 4
            seen.add(video)
        # v3 has Q = 0.8 > 0.40: no corner test in the re-sampling branch
        assert seen == {0, 3}


def test_resampling_falls_back_to_last_best(tmp_path):
    qs = [0.30, 0.35, 0.20, 0.38, 0.10]
    write_dataset(
        tmp_path, [video_spec(f'v{i}', q_v=q) for i, q in enumerate(qs)]
    )
    ds = build(tmp_path)
    spy = SpyRng(3)
    video, _, resampled = ds.select_video(2, spy)
    tries = [out for args, out in spy.calls if np.ndim(out) == 1]
    assert resampled and len(tries) == ds.sampler.resample_tries == 20
    assert all(((t >= 0) & (t < 4)).all() for t in tries)
    last = tries[-1]
    assert video == last[np.argmax([qs[v] for v in last])]


def test_nearby_range_is_local(tmp_path):
    specs = [video_spec(f'v{i:02d}', q_v=0.9, num_frames=3) for i in range(70)]
    specs[50] = video_spec('v50', q_v=0.2, num_frames=3)
    write_dataset(tmp_path, specs, frames=False)
    ds = build(tmp_path)
    rng = np.random.default_rng(1)
    videos = {ds.select_video(50, rng)[0] for _ in range(300)}
    assert min(videos) >= 20 and max(videos) < 69 and 50 not in videos


def test_template_is_argmax_of_stage_score(tmp_path):
    # naive: Q_f + 2/3 corner -> frame 1; cycle: + 0.5 (T_u - T_l) / n -> 2
    spec = video_spec(
        'v',
        num_frames=4,
        q_v=1.0,
        frame_quality_short=[0.5, 1.0, 0.9, 0.2],
        corner=[0.2, 0.0, 0.05, 0.2],
        t_l=[0, 0, 0, 0],
        t_u=[1, 1, 3, 3],
    )
    write_dataset(tmp_path, [spec], frames=False)
    ds = build(tmp_path, candidate_factor=12.0)  # n_cand = 12
    info = ds.get_data_info(0)
    pos = np.arange(4)
    np.testing.assert_allclose(
        ds.frame_scores(info, pos, 'naive'),
        [0.5 + 0.4 / 3, 1.0, 0.9 + 0.1 / 3, 0.2 + 0.4 / 3],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        ds.frame_scores(info, pos, 'cycle'),
        [0.725, 1.125, 1.3, 0.675],
        rtol=1e-6,
    )
    for stage, best in (('naive', 1), ('cycle', 2)):
        picks = []
        for seed in range(40):
            spy = SpyRng(seed)
            draw = ds.sample_instance(0, spy, stage=stage)
            cands = [o for a, o in spy.calls if np.ndim(o) == 1][0]
            assert draw['num_candidates'] == len(cands) == 12
            scores = ds.frame_scores(info, cands, stage)
            assert draw['template_position'] == cands[np.argmax(scores)]
            assert draw['positions'][:2] == [draw['template_position']] * 2
            picks.append(draw['template_position'])
        assert np.mean(np.asarray(picks) == best) > 0.9


def test_memory_frames_farthest_inside_fragment(tmp_path):
    n = 30
    t_l = [max(0, k - 6) for k in range(n)]
    t_u = [min(n - 1, k + 9) for k in range(n)]
    write_dataset(
        tmp_path,
        [video_spec('v', num_frames=n, t_l=t_l, t_u=t_u)],
        frames=False,
    )
    ds = build(tmp_path, stage='cycle')
    for seed in range(50):
        spy = SpyRng(seed)
        draw = ds.sample_instance(0, spy)
        p = draw['template_position']
        mem = draw['memory_positions']
        assert len(mem) == 4 and draw['positions'] == [p, p] + mem
        assert all(t_l[p] <= m <= t_u[p] for m in mem)
        draws = [o for a, o in spy.calls if np.ndim(o) == 1][-1]
        assert len(draws) == 7
        dist = np.sort(np.abs(draws - p))[::-1]
        np.testing.assert_array_equal(np.abs(np.asarray(mem) - p), dist[:4])
    assert (
        ds.sample_instance(0, np.random.default_rng(0), 'naive')[
            'memory_positions'
        ]
        == []
    )


def test_prepare_train_data_lists_and_reproducibility(tmp_path):
    write_dataset(tmp_path, [video_spec('a'), video_spec('b')], frames=False)
    ds = build(tmp_path, stage='cycle', num_memory_frames=3)
    ds.set_epoch(0, seed=7)
    out = ds[1]
    keys = ('img_path', 'frame_id', 'video_id', 'video_length', 'instances')
    for key in keys + ('aug_seed',):
        assert len(out[key]) == 5, key
    inst = out['instances'][0][0]
    assert inst['bbox'].dtype == np.float32 and inst['bbox'].shape == (4,)
    assert inst['bbox_label'] == 1
    video = ds.get_data_info(out['video_id'][0])['video_name']
    for path, frame in zip(out['img_path'], out['frame_id']):
        assert path == os.path.join(
            str(tmp_path), 'frames', video, '%08d.jpg' % (frame + 1)
        )

    # same seed and epoch: same draws; another epoch: different draws
    def draws(epoch, seed=7):
        d = build(tmp_path, stage='cycle', num_memory_frames=3)
        d.set_epoch(epoch, seed=seed)
        return [(d[i]['frame_id'], d[i]['aug_seed']) for i in (0, 1, 0, 1)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)
    assert draws(0) != draws(0, seed=8)


def test_draws_do_not_depend_on_the_labels_folder(tmp_path):
    """A copy of the same labels elsewhere gives the same run; other
    labels (another video name) another stream."""

    def draws(root):
        d = build(root, stage='cycle', num_memory_frames=3)
        d.set_epoch(0, seed=7)
        return [(d[i]['frame_id'], d[i]['aug_seed']) for i in (0, 1, 0)]

    specs = [video_spec('a'), video_spec('b')]
    write_dataset(tmp_path / 'here', specs, frames=False)
    write_dataset(tmp_path / 'elsewhere' / 'deeper', specs, frames=False)
    write_dataset(
        tmp_path / 'renamed', [video_spec('a'), video_spec('c')], frames=False
    )
    assert draws(tmp_path / 'here') == draws(tmp_path / 'elsewhere' / 'deeper')
    assert draws(tmp_path / 'here') != draws(tmp_path / 'renamed')


def test_random_boxes(tmp_path):
    write_dataset(tmp_path, [video_spec('a', num_frames=20)], frames=False)
    ds = build(tmp_path, box_source='random', stage='cycle')
    rng = np.random.default_rng(0)
    pseudo = ds.get_data_info(0)['bboxes']
    boxes = []
    for _ in range(200):
        draw = ds.sample_instance(0, rng)
        b = draw['bboxes']
        assert b.shape == (6, 4) and b.dtype == np.float32
        np.testing.assert_array_equal(b[0], b[1])  # template = search
        assert not np.allclose(b[0], pseudo[draw['template_position']])
        boxes.append(b[1:])
    b = np.concatenate(boxes)
    h, w = FRAME_HW
    bw, bh = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    assert (b[:, :2] >= 0).all() and (b[:, 2] <= w).all()
    assert (b[:, 3] <= h).all()
    assert (np.maximum(bw / bh, bh / bw) <= 3 + 1e-4).all()
    assert bw.max() <= 0.5 * w + 1e-3 and bh.max() <= 0.5 * h + 1e-3
    centre = (b[:, :2] + b[:, 2:]) / 2
    assert abs(centre[:, 0].mean() - w / 2) < 0.05 * w
    assert centre[:, 0].std() > 0.1 * w


def test_plain_sot_dataset_without_sidecars(tmp_path):
    infos = write_dataset(
        tmp_path, [video_spec('a'), video_spec('b', 5)], sidecars=False
    )
    pair = dict(type='PairSampling', frame_range=5, pos_prob=1.0)
    ds = build(tmp_path, infos, pipeline=[pair])
    assert not ds.usot_sampling and len(ds) == 2
    out = ds[0]
    assert len(out['img_path']) == 2 and len(out['instances']) == 2
    # quality_prefix=None also disables it, even with sidecars present
    write_dataset(tmp_path / 'q', [video_spec('a')])
    assert not build(tmp_path / 'q', quality_prefix=None).usot_sampling
    # test mode: (video, frame) indices, every frame of every track
    test = build(tmp_path / 'q', test_mode=True)
    assert not test.usot_sampling and len(test) == 8
    frame = test[(0, 3)]
    np.testing.assert_allclose(frame['instances'][0]['bbox'], [42, 26, 82, 56])
    with pytest.raises(RuntimeError, match='sidecars'):
        ds.sample_instance(0, np.random.default_rng(0))


def test_bad_inputs(tmp_path):
    # empty infos
    root = tmp_path / 'empty'
    write_dataset(root, [], frames=False)
    with pytest.raises(ValueError, match='pseudo_infos.txt.*no track'):
        build(root)
    # missing sidecar field
    root = tmp_path / 'field'
    write_dataset(
        root, [video_spec('a')], frames=False, overrides=dict(a=dict(t_u=None))
    )
    with pytest.raises(ValueError, match=r'a\.json track 0.*t_u'):
        build(root)
    # per-frame length disagrees with the infos line
    root = tmp_path / 'length'
    write_dataset(
        root,
        [video_spec('a')],
        frames=False,
        overrides=dict(a=dict(corner=[0.1] * 7)),
    )
    with pytest.raises(ValueError, match=r'a\.json.*corner must hold 8'):
        build(root)
    # fragment bounds that do not contain the frame
    root = tmp_path / 'bounds'
    write_dataset(
        root,
        [video_spec('a', t_l=[0, 0, 5, 0, 0, 0, 0, 0])],
        frames=False,
    )
    with pytest.raises(ValueError, match='position 2 has t_l=5'):
        build(root)
    # the infos lists a track the sidecar does not have
    root = tmp_path / 'track'
    infos = write_dataset(root, [video_spec('a')], frames=False)
    with open(root / infos, 'a') as f:
        f.write('frames/a,annotations/a.w001.txt,1,8\n')
    with pytest.raises(ValueError, match=r'a\.json: no track.*a\.w001'):
        build(root)
    # annotation rows disagree with the infos line
    root = tmp_path / 'ann'
    write_dataset(root, [video_spec('a')], frames=False)
    with open(root / 'annotations' / 'a.txt', 'a') as f:
        f.write('1,2,3,4\n')
    with pytest.raises(ValueError, match=r'a\.txt: 9 box line'):
        build(root)
    # unreadable sidecar, missing sidecar
    root = tmp_path / 'json'
    write_dataset(root, [video_spec('a'), video_spec('b')], frames=False)
    (root / 'quality' / 'a.json').write_text('{not json')
    with pytest.raises(ValueError, match=r'a\.json: unreadable'):
        build(root)
    os.remove(root / 'quality' / 'a.json')
    with pytest.raises(FileNotFoundError, match=r'a\.json: quality sidecar'):
        build(root)
    # bad frame_size
    root = tmp_path / 'size'
    write_dataset(root, [video_spec('b')], frames=False)
    sidecar = json.loads((root / 'quality' / 'b.json').read_text())
    sidecar['frame_size'] = [0, 10]
    (root / 'quality' / 'b.json').write_text(json.dumps(sidecar))
    with pytest.raises(ValueError, match=r'b\.json: "frame_size"'):
        build(root)
    # options
    root = tmp_path / 'plain'
    write_dataset(root, [video_spec('a')], sidecars=False, frames=False)
    with pytest.raises(FileNotFoundError, match='usot_sampling=True'):
        build(root, usot_sampling=True)
    with pytest.raises(ValueError, match='random'):
        build(root, box_source='random')
    with pytest.raises(ValueError, match='stage'):
        build(root, stage='memory')
    ok = build(tmp_path / 'field', quality_prefix=None)
    with pytest.raises(ValueError, match='stage'):
        ok.set_stage('warmup')


def _frames(batch):
    return [(tuple(s['frame_id']), tuple(s['aug_seed'])) for s in batch]


def test_persistent_workers_draw_what_fresh_workers_draw(tmp_path):
    """set_epoch / set_stage reach live workers through the sampler's
    shared state: persistent workers give the same draws as workers
    re-created every epoch, stage switch included."""
    from torch.utils.data import DataLoader

    write_dataset(tmp_path, [video_spec(f'v{i}', 12) for i in range(4)])

    def run(persistent):
        ds = build(tmp_path, seed=3)
        loader = DataLoader(
            ds,
            batch_size=2,
            num_workers=1,
            persistent_workers=persistent,
            collate_fn=_frames,
        )
        seen = []
        for epoch, stage in ((0, 'naive'), (1, 'cycle'), (2, 'cycle')):
            ds.set_epoch(epoch)
            ds.set_stage(stage)
            seen.append([s for batch in loader for s in batch])
        return seen

    fresh, live = run(False), run(True)
    assert live == fresh
    assert {len(f) for f, _ in fresh[0]} == {2}
    assert {len(f) for f, _ in fresh[1]} == {6}
    assert fresh[1] != fresh[2]  # another epoch, other draws
