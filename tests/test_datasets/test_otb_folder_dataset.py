# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Tests of OTBFolderDataset on tiny synthetic folders (+ real sot_eval)."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmtrack.utils import register_all_modules

from mmusot.datasets import OTBFolderDataset
from mmusot.datasets.otb_folder_dataset import parse_groundtruth
from tests.fixtures import require_shared


def write_sequence(
    root, name, boxes, frame_names=None, gt_text=None, size=(48, 64)
):
    """A sequence folder with tiny frames and a ground-truth file."""
    img_dir = osp.join(root, name, 'img')
    os.makedirs(img_dir, exist_ok=True)
    frame_names = frame_names or [
        f'{i + 1:04d}.jpg' for i in range(len(boxes))
    ]
    for i, frame in enumerate(frame_names):
        img = np.full((*size, 3), 10 * i, np.uint8)
        cv2.imwrite(osp.join(img_dir, frame), img)
    if gt_text is None:
        gt_text = '\n'.join(','.join(str(v) for v in b) for b in boxes)
    with open(osp.join(root, name, 'groundtruth_rect.txt'), 'w') as f:
        f.write(gt_text + '\n')
    return osp.join(root, name)


def build(root, **kwargs):
    return OTBFolderDataset(
        data_root=str(root),
        data_prefix=dict(img_path=''),
        pipeline=[],
        test_mode=True,
        **kwargs,
    )


@pytest.fixture
def folder(tmp_path):
    write_sequence(
        tmp_path, 'seqA', [(1, 2, 10, 20), (2, 3, 10, 20), (3, 4, 11, 21)]
    )
    # free frame names, lexicographic order; tab/space separated boxes
    write_sequence(
        tmp_path,
        'seqB',
        None,
        frame_names=['b_2.png', 'a_1.png'],
        gt_text='5\t6\t7\t8\n5 6  0 8\n\n',
    )
    os.makedirs(tmp_path / 'notes')  # not a sequence: ignored
    return tmp_path


def test_discovers_sequences_frames_and_boxes(folder):
    register_all_modules(init_default_scope=True)
    ds = build(folder)
    assert ds.num_videos == 2 and len(ds) == 5
    img = ds.get_img_infos_from_video(1)
    assert [osp.basename(p) for p in img['img_paths']] == [
        'a_1.png',
        'b_2.png',
    ]
    assert img['video_length'] == 2
    assert img['frame_ids'].tolist() == [0, 1]
    ann = ds.get_ann_infos_from_video(0)
    assert ann['bboxes'].tolist() == [
        [1, 2, 11, 22],
        [2, 3, 12, 23],
        [3, 4, 14, 25],
    ]
    assert ann['visible'].all() and ann['bboxes_isvalid'].all()
    # a zero-width box later in the video is kept but marked invalid
    ann = ds.get_ann_infos_from_video(1)
    assert ann['bboxes_isvalid'].tolist() == [True, False]
    assert ann['visible'].tolist() == [True, False]
    # the base class adds in place: the stored boxes must not change
    assert ds.get_bboxes_from_video(0)[0].tolist() == [1, 2, 10, 20]
    data = ds.prepare_data((0, 2))
    assert data['frame_id'] == 2 and data['video_length'] == 3
    assert data['img_path'].endswith(osp.join('seqA', 'img', '0003.jpg'))
    assert data['instances'][0]['bbox'].tolist() == [3, 4, 14, 25]


def test_sequence_filter_and_frame_limit(folder):
    ds = build(folder, sequences=['seqB', 'seqA'], max_frames=2)
    assert ds.num_videos == 2 and len(ds) == 4
    assert ds.get_data_info(0)['video_path'] == osp.join('seqB', 'img')
    with pytest.raises(FileNotFoundError, match='seqC'):
        build(folder, sequences=['seqC'])
    with pytest.raises(ValueError, match='max_frames'):
        build(folder, max_frames=0)


def test_full_test_pipeline_and_metric_naming(folder):
    register_all_modules(init_default_scope=True)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadTrackAnnotations', with_instance_id=False),
        dict(type='PackTrackInputs', pack_single_img=True),
    ]
    ds = OTBFolderDataset(
        data_root=str(folder),
        data_prefix=dict(img_path=''),
        pipeline=pipeline,
        test_mode=True,
        sequences=['seqA'],
    )
    out = ds[(0, 1)]
    assert tuple(out['inputs']['img'].shape) == (1, 3, 48, 64)
    sample = out['data_samples']
    assert sample.metainfo['frame_id'] == 1
    assert sample.gt_instances.bboxes.tolist() == [[2, 3, 12, 23]]
    # SOTMetric names the video after the folder above 'img'
    parts = sample.metainfo['img_path'].split(os.sep)
    assert parts[-2] == 'img' and parts[-3] == 'seqA'


@pytest.mark.parametrize(
    'case,match',
    [
        ('no_img', 'frame folder .* is missing'),
        ('empty_img', 'has no image'),
        ('no_gt', 'ground-truth file .* is missing'),
        ('short_gt', 'ground truth is short: .* 2 boxes for 3 frames'),
        ('long_gt', 'ground truth is long'),
        ('three_values', 'line 2 has 3 values'),
        ('not_numeric', 'line 1 is not numeric'),
        ('empty_gt', 'is empty'),
        ('zero_first', 'first-frame box'),
        ('nan_first', 'first-frame box'),
    ],
)
def test_errors_name_the_sequence(tmp_path, case, match):
    name = f'bad_{case}'
    boxes = [(1, 1, 5, 5)] * 3
    if case == 'no_img':
        os.makedirs(tmp_path / name)
        (tmp_path / name / 'groundtruth_rect.txt').write_text('1,1,5,5\n')
    elif case == 'empty_img':
        os.makedirs(tmp_path / name / 'img')
        (tmp_path / name / 'img' / 'readme.txt').write_text('no frames')
        (tmp_path / name / 'groundtruth_rect.txt').write_text('1,1,5,5\n')
    else:
        text = {
            'short_gt': '1,1,5,5\n1,1,5,5',
            'long_gt': '1,1,5,5\n' * 4,
            'three_values': '1,1,5,5\n1,1,5\n1,1,5,5',
            'not_numeric': 'a,1,5,5\n1,1,5,5\n1,1,5,5',
            'empty_gt': '\n',
            'zero_first': '1,1,0,5\n1,1,5,5\n1,1,5,5',
            'nan_first': 'nan,1,5,5\n1,1,5,5\n1,1,5,5',
        }.get(case)
        write_sequence(tmp_path, name, boxes, gt_text=text)
        if case == 'no_gt':
            os.remove(tmp_path / name / 'groundtruth_rect.txt')
    with pytest.raises(ValueError, match=match) as err:
        build(tmp_path)
    assert repr(name) in str(err.value)


def test_nan_box_becomes_invalid_zero_box(tmp_path):
    write_sequence(
        tmp_path,
        'seq',
        None,
        frame_names=['1.jpg', '2.jpg'],
        gt_text='1,1,5,5\nNaN,NaN,NaN,NaN',
    )
    ds = build(tmp_path)
    ann = ds.get_ann_infos_from_video(0)
    assert ann['bboxes'][1].tolist() == [0, 0, 0, 0]
    assert ann['visible'].tolist() == [True, False]


def test_missing_or_empty_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build(tmp_path / 'nowhere')
    with pytest.raises(ValueError, match='no sequence found'):
        build(tmp_path)


def test_parse_groundtruth_mixed_separators(tmp_path):
    path = tmp_path / 'gt.txt'
    path.write_text('1, 2,3\t4\n5 6 7 8\n\n\n')
    assert parse_groundtruth(str(path), 'x').tolist() == [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
    ]


def test_real_sot_eval_folder():
    sot_eval = str(require_shared('data/sot_eval'))
    ds = build(sot_eval)
    names = [
        ds.get_data_info(i)['video_path'].split(os.sep)[0]
        for i in range(ds.num_videos)
    ]
    assert names == sorted(names) and 'Crossing' in names
    for i, name in enumerate(names):
        img_dir = osp.join(sot_eval, name, 'img')
        frames = sorted(os.listdir(img_dir))
        infos = ds.get_img_infos_from_video(i)
        assert infos['video_length'] == len(frames)
        assert osp.basename(infos['img_paths'][-1]) == frames[-1]
        assert len(ds.get_bboxes_from_video(i)) == len(frames)
    assert len(ds) == sum(
        ds.get_len_per_video(i) for i in range(ds.num_videos)
    )
