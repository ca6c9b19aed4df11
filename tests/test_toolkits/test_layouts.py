# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""OTB-style folders as a VOT workspace's sequences and as a GOT-10k
subset (mmusot.toolkits.layouts, ``mmusot-otb-to-vot``,
``mmusot-otb-to-got10k``).

The files are checked directly, and read back with each toolkit's own
dataset loader where the optional extra is installed (``vot-toolkit``:
``vot.dataset.load_dataset``; ``got10k``: ``got10k.datasets.GOT10k``).
"""

import os

import numpy as np
import pytest

from mmusot.toolkits import got10k_labels, otb_to_got10k, otb_to_vot
from tests.fixtures import require_shared
from tests.test_apis.tiny_models import moving_square, write_otb_sequence


@pytest.fixture()
def otb(tmp_path):
    """Two OTB-style sequences; 'b' also keeps VOT polygons."""
    frames, truth = moving_square(3)
    write_otb_sequence(tmp_path / 'otb', 'a', frames, truth)
    write_otb_sequence(tmp_path / 'otb', 'b', frames[:2], truth[:2])
    polygons = [[1, 2, 9, 2, 9, 8, 1, 8], [2, 2, 10, 3, 9, 9, 1, 8]]
    (tmp_path / 'otb' / 'b' / 'groundtruth_polygon.txt').write_text(
        '\n'.join(','.join(str(v) for v in p) for p in polygons) + '\n'
    )
    return tmp_path / 'otb', truth, polygons


def _lines(path):
    return [
        [float(v) for v in line.split(',')]
        for line in path.read_text().splitlines()
    ]


def test_otb_to_vot_files(tmp_path, otb):
    from mmusot.cli import otb_to_vot as cli

    src, truth, polygons = otb
    workspace = tmp_path / 'ws'
    assert cli.main([str(src), str(workspace), '--sequences', 'a']) == 0
    dst = workspace / 'sequences'
    assert otb_to_vot(str(src), str(dst), ['b']) == ['b']
    assert (dst / 'list.txt').read_text().split() == ['a', 'b']
    # rerunning does not repeat names or keep stale frames
    otb_to_vot(str(src), str(dst), ['a'], max_frames=2)
    assert (dst / 'list.txt').read_text().split() == ['a', 'b']
    assert sorted(os.listdir(dst / 'a' / 'color')) == [
        '00000001.png',
        '00000002.png',
    ]
    frame = dst / 'a' / 'color' / '00000002.png'
    assert frame.is_symlink()
    assert os.readlink(frame) == str(src / 'a' / 'img' / '0002.png')
    np.testing.assert_allclose(
        _lines(dst / 'a' / 'groundtruth.txt'), truth[:2]
    )
    # polygons where the source keeps them, unless rectangles are asked
    np.testing.assert_allclose(_lines(dst / 'b' / 'groundtruth.txt'), polygons)
    metadata = dict(
        line.split('=', 1)
        for line in (dst / 'b' / 'sequence').read_text().splitlines()
    )
    assert metadata['channels.color'] == 'color/%08d.png'
    assert (metadata['width'], metadata['height']) == ('160', '120')
    assert metadata['length'] == '2'
    otb_to_vot(str(src), str(dst), ['b'], polygons=False, copy=True)
    np.testing.assert_allclose(
        _lines(dst / 'b' / 'groundtruth.txt'), truth[:2]
    )
    assert not (dst / 'b' / 'color' / '00000001.png').is_symlink()


def test_otb_to_vot_reads_back_in_the_vot_toolkit(tmp_path, otb):
    pytest.importorskip('vot.dataset')
    from vot.dataset import load_dataset
    from vot.region import Polygon, Rectangle

    src, truth, polygons = otb
    otb_to_vot(str(src), str(tmp_path / 'seq'))
    dataset = load_dataset(str(tmp_path / 'seq'))
    assert [s.name for s in dataset] == ['a', 'b']
    a, b = dataset['a'], dataset['b']
    assert len(a) == 3 and a.size == (160, 120)
    assert a.frame(2).filename('color').endswith('00000003.png')
    region = a.groundtruth(1)
    assert isinstance(region, Rectangle)
    np.testing.assert_allclose(
        [region.x, region.y, region.width, region.height], truth[1]
    )
    poly = b.groundtruth(1)
    assert isinstance(poly, Polygon)
    np.testing.assert_allclose(np.ravel(poly.points()), polygons[1])


def test_vot_sequences_of_sot_eval(tmp_path):
    """sot_eval's VOT sequence keeps its polygons through the converter."""
    data = require_shared('data/sot_eval')
    otb_to_vot(str(data), str(tmp_path), ['bag', 'Crossing'], max_frames=3)
    poly = _lines(tmp_path / 'bag' / 'groundtruth.txt')
    assert len(poly) == 3 and all(len(p) == 8 for p in poly)
    # the stored boxes are the polygons' min/max rectangles
    boxes = np.array(
        _lines(data / 'bag' / 'groundtruth_rect.txt')[:3], dtype=float
    )
    xy = np.array(poly).reshape(3, 4, 2)
    np.testing.assert_allclose(xy.min(axis=1), boxes[:, :2], atol=0.01)
    np.testing.assert_allclose(
        xy.max(axis=1) - xy.min(axis=1), boxes[:, 2:], atol=0.01
    )
    assert len(_lines(tmp_path / 'Crossing' / 'groundtruth.txt')[0]) == 4


def test_got10k_labels_by_hand():
    boxes = np.array(
        [[10, 10, 20, 20], [0, 0, 0, 0], [-5, 10, 20, 20], [90, 40, 20, 20]]
    )
    labels = got10k_labels(boxes, width=100, height=60)
    assert labels['absence'].tolist() == [0, 1, 0, 0]
    assert labels['cover'].tolist() == [8, 0, 8, 8]
    # left of x = 0; right of x = 100 and below y = 60
    assert labels['cut_by_image'].tolist() == [0, 0, 1, 1]


def test_otb_to_got10k_files(tmp_path, otb):
    from mmusot.cli import otb_to_got10k as cli

    src, truth, _ = otb
    root = tmp_path / 'got'
    assert cli.main([str(src), str(root), '--sequences', 'a']) == 0
    seq = root / 'val' / 'a'
    # PNG sources are re-encoded: the toolkit lists *.jpg only
    assert sorted(p.name for p in seq.glob('*.jpg')) == [
        '00000001.jpg',
        '00000002.jpg',
        '00000003.jpg',
    ]
    np.testing.assert_allclose(_lines(seq / 'groundtruth.txt'), truth)
    assert np.loadtxt(seq / 'cover.label').tolist() == [8, 8, 8]
    meta = (seq / 'meta_info.ini').read_text().splitlines()
    assert meta[0] == '[METAINFO]' and 'resolution: (160, 120)' in meta
    otb_to_got10k(str(src), str(root), subset='test', sequences=['a'])
    np.testing.assert_allclose(
        _lines(root / 'test' / 'a' / 'groundtruth.txt'), truth[:1]
    )
    assert not (root / 'test' / 'a' / 'cover.label').exists()
    with pytest.raises(ValueError, match='subset must be one of'):
        otb_to_got10k(str(src), str(root), subset='train')
    assert cli.main([str(src / 'nope'), str(root)]) == 1


def test_otb_to_got10k_reads_back_in_the_got10k_toolkit(tmp_path, otb):
    pytest.importorskip('got10k')
    from got10k.datasets import GOT10k

    src, truth, _ = otb
    otb_to_got10k(str(src), str(tmp_path), subset='val')
    dataset = GOT10k(str(tmp_path), subset='val', return_meta=True)
    assert dataset.seq_names == ['a', 'b']
    img_files, anno, meta = dataset['a']
    assert len(img_files) == 3 and anno.shape == (3, 4)
    np.testing.assert_allclose(anno, truth)
    assert meta['resolution'] == '(160, 120)'
    assert meta['cover'].tolist() == [8, 8, 8]
