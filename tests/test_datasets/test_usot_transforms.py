# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""USOT transforms: crops and augmentations keep boxes on the pixels."""

import numpy as np
import pytest
from mmcv.transforms import TransformBroadcaster
from mmtrack.datasets.transforms import CropLikeSiamFC

from mmusot.datasets.transforms import (
    PackUSOTInputs,
    USOTBrightness,
    USOTCoarseDropout,
    USOTCropLikeSiamFC,
    USOTHueSaturation,
    USOTMotionBlur,
    USOTPerspective,
    USOTRandomFlip,
    USOTSaltPepper,
    USOTShiftScaleCrop,
    frame_role,
    mean_colour,
    motion_blur_kernel,
)
from tests.test_datasets.usot_data import white_box_frame

NUM_FRAMES = 6  # template, search, 4 memory


def sample(box, seed, hw=(120, 160), num=NUM_FRAMES):
    """A USOT sample after loading: the same white-box frame ``num`` times."""
    img = white_box_frame(box, hw)
    return dict(
        img=[img.copy() for _ in range(num)],
        img_shape=[hw] * num,
        gt_bboxes=[np.asarray([box], np.float32) for _ in range(num)],
        aug_seed=list(range(seed * num, seed * num + num)),
    )


def crop_511(results):
    return TransformBroadcaster(
        transforms=[CropLikeSiamFC(context_amount=0.5, crop_size=511)]
    )(results)


def white_bounds(img, thresh=160):
    ys, xs = np.nonzero(img.max(-1) > thresh)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)


def assert_box_on_pixels(img, box, tol=1.5):
    """The box encloses the white pixels and is tight around them."""
    white = white_bounds(img)
    box = np.asarray(box, float).reshape(4)
    assert (white[:2] >= box[:2] - tol).all(), (white, box)
    assert (white[2:] <= box[2:] + tol).all(), (white, box)
    h, w = img.shape[:2]
    if (box[:2] >= 0).all() and box[2] <= w and box[3] <= h:
        # (a box partly outside the patch may have its extreme corner
        # outside too, so it is only checked for enclosure)
        assert np.abs(white - box).max() <= 2 * tol + 1, (white, box)


def test_frame_roles():
    assert [frame_role(i) for i in range(4)] == [
        'template',
        'search',
        'memory',
        'memory',
    ]


def test_croplikesiamfc_matches_official_511_crop():
    """mmtrack's CropLikeSiamFC = the official 511 crop (``par_crop.py``):
    the box is centred at (255, 255) with size (w, h) * 127 / s_z, and
    lands on the pixels."""
    box = [50.0, 40.0, 90.0, 100.0]  # w = 40, h = 60
    out = crop_511(sample(box, 0, num=1))
    # s_z = sqrt((40 + 50) * (60 + 50)) = 99.4987, 127 / s_z = 1.27640:
    # the box is 51.056 x 76.584 around (255, 255)
    expected = [229.4720, 216.7081, 280.5280, 293.2919]
    np.testing.assert_allclose(out['gt_bboxes'][0][0], expected, atol=1e-3)
    assert out['img'][0].shape == (511, 511, 3)
    assert_box_on_pixels(out['img'][0], out['gt_bboxes'][0], tol=1.0)


def test_shift_scale_crop_geometry():
    box = [50.0, 40.0, 90.0, 100.0]
    still = USOTShiftScaleCrop(
        template=dict(shift=0, scale=0),
        search=dict(shift=0, scale=0),
        memory=dict(shift=0, scale=0),
    )
    out = still(crop_511(sample(box, 0)))
    t, s = out['gt_bboxes'][0][0], out['gt_bboxes'][1][0]
    assert out['img'][0].shape == (127, 127, 3)
    assert out['img'][1].shape == out['img'][5].shape == (255, 255, 3)
    assert out['img_shape'][1] == (255, 255)
    # the 511 crop's centre (255) becomes the patch centre (63 / 127)
    np.testing.assert_allclose((t[:2] + t[2:]) / 2, [63, 63], atol=1e-3)
    np.testing.assert_allclose((s[:2] + s[2:]) / 2, [127, 127], atol=1e-3)
    np.testing.assert_allclose(s[2:] - s[:2], t[2:] - t[:2], atol=1e-3)
    # a pure shift t moves the box by -t and is recorded
    shift_only = USOTShiftScaleCrop(search=dict(shift=64, scale=0))
    for seed in range(10):
        out = shift_only(crop_511(sample(box, seed)))
        tx, ty = out['crop_shift'][1]
        assert abs(tx) <= 64 and abs(ty) <= 64 and (tx, ty) != (0, 0)
        c = out['gt_bboxes'][1][0]
        np.testing.assert_allclose(
            (c[:2] + c[2:]) / 2, [127 - tx, 127 - ty], atol=1e-3
        )
        np.testing.assert_array_equal(out['crop_scale'][1], [1, 1])


def test_zoom_spreads_sizes_and_exact_shift_follows_the_target():
    box = [50.0, 40.0, 90.0, 100.0]
    official = USOTShiftScaleCrop()
    zoomed = USOTShiftScaleCrop(
        search=dict(zoom=1.8, label_shift='exact'),
        memory=dict(zoom=1.8, label_shift='exact'),
    )
    ratios = []
    for seed in range(40):
        a = official(crop_511(sample(box, seed)))
        b = zoomed(crop_511(sample(box, seed)))
        # the template and the official numbers are drawn as before
        np.testing.assert_array_equal(a['img'][0], b['img'][0])
        ratios.append(b['crop_scale'][1] / a['crop_scale'][1])
        # exact: the recorded shift is where the box centre moved
        c = b['gt_bboxes'][1][0]
        np.testing.assert_allclose(
            (c[:2] + c[2:]) / 2, 127 - b['crop_shift'][1], atol=1e-3
        )
        assert_box_on_pixels(b['img'][1], b['gt_bboxes'][1])
    ratios = np.array(ratios)
    # one common zoom for both axes, spread over [1 / 1.8, 1.8]
    np.testing.assert_allclose(ratios[:, 0], ratios[:, 1], rtol=1e-5)
    assert ratios.min() < 0.7 and ratios.max() > 1.4
    assert ratios.min() >= 1 / 1.8 - 1e-6
    with pytest.raises(ValueError, match='zoom >= 1'):
        USOTShiftScaleCrop(search=dict(zoom=0.5))
    with pytest.raises(ValueError, match='label_shift'):
        USOTShiftScaleCrop(search=dict(label_shift='centre'))


@pytest.mark.parametrize('seed', range(8))
def test_boxes_follow_crop_and_geometric_augmentation(seed):
    """Draw a known box, crop and augment: the box lands on the pixels."""
    rng = np.random.default_rng(seed)
    x1, y1 = rng.uniform(10, 60), rng.uniform(10, 40)
    box = [x1, y1, x1 + rng.uniform(15, 80), y1 + rng.uniform(15, 70)]
    results = crop_511(sample(box, seed))
    results = USOTShiftScaleCrop()(results)
    for k in range(NUM_FRAMES):
        assert_box_on_pixels(results['img'][k], results['gt_bboxes'][k])
    results = USOTRandomFlip(hflip_prob=0.5, vflip_prob=0.5)(results)
    results = USOTPerspective()(results)
    for k in range(NUM_FRAMES):
        # perspective boxes are the bounds of the warped corners
        assert_box_on_pixels(results['img'][k], results['gt_bboxes'][k], 2)


def test_flips_move_boxes_with_pixels():
    box = [10.0, 20.0, 50.0, 40.0]
    results = sample(box, 0)
    flipped = USOTRandomFlip(hflip_prob=1.0, vflip_prob=1.0)(sample(box, 0))
    # template and memory flipped both ways, search untouched
    np.testing.assert_array_equal(flipped['img'][1], results['img'][1])
    np.testing.assert_allclose(flipped['gt_bboxes'][0][0], [110, 80, 150, 100])
    np.testing.assert_allclose(flipped['gt_bboxes'][1][0], box)
    assert_box_on_pixels(flipped['img'][3], flipped['gt_bboxes'][3], 0)
    # about 40 % / 20 % of frames flipped
    hflips = vflips = 0
    for seed in range(100):
        out = USOTRandomFlip()(sample(box, seed, num=2))
        b = out['gt_bboxes'][0][0]
        hflips += b[0] != box[0]
        vflips += b[1] != box[1]
    assert 25 <= hflips <= 55 and 8 <= vflips <= 32


def test_photometric_transforms_by_role():
    rng = np.random.default_rng(0)
    base = dict(
        img=[
            rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(4)
        ],
        gt_bboxes=[np.array([[5, 5, 20, 30]], np.float32)] * 4,
        aug_seed=[1, 2, 3, 4],
    )
    template_only = (
        USOTCoarseDropout(prob_range=(0.2, 0.3)),
        USOTSaltPepper(),
    )
    others = (USOTHueSaturation(), USOTBrightness(), USOTMotionBlur())
    for transform in template_only + others:
        before = [im.copy() for im in base['img']]
        out = transform(dict(base, img=[im.copy() for im in before]))
        changed = [
            not np.array_equal(a, b) for a, b in zip(before, out['img'])
        ]
        roles = [frame_role(i) for i in range(4)]
        expected = [r in transform.roles for r in roles]
        assert changed == expected, transform
        assert all(im.dtype == np.uint8 for im in out['img'])
        np.testing.assert_array_equal(
            out['gt_bboxes'][0], base['gt_bboxes'][0]
        )
        again = transform(dict(base, img=[im.copy() for im in before]))
        for a, b in zip(out['img'], again['img']):  # same seeds, same output
            np.testing.assert_array_equal(a, b)
    # salt and pepper: ~5 % of channel values become 0 or 255
    grey = dict(img=[np.full((100, 100, 3), 128, np.uint8)], aug_seed=[0])
    noisy = USOTSaltPepper()(grey)['img'][0]
    frac = (noisy != 128).mean()
    assert 0.04 < frac < 0.06 and set(np.unique(noisy)) == {0, 128, 255}


def test_motion_blur_kernel():
    k = motion_blur_kernel(7, 60.0, 0.0)
    assert k.shape == (7, 7) and k.sum() == pytest.approx(1.0)
    assert k[3, 3] > 0 and k[0, 3] == 0  # a rotated line through the centre
    one_sided = motion_blur_kernel(5, 0.0, 1.0)
    assert one_sided[0, 2] > 0 and one_sided[4, 2] == 0


def test_pack_usot_inputs():
    box = [50.0, 40.0, 90.0, 100.0]
    results = crop_511(sample(box, 0))
    results.update(
        img_path=[f'f{k}.jpg' for k in range(NUM_FRAMES)],
        frame_id=list(range(NUM_FRAMES)),
        gt_bboxes_labels=[np.array([1])] * NUM_FRAMES,
        gt_ignore_flags=[np.array([False])] * NUM_FRAMES,
    )
    results = USOTShiftScaleCrop()(results)
    results['gt_bboxes'][1] = np.array([[-10, 5, 300, 200]], np.float32)
    packed = PackUSOTInputs()(results)
    inputs, sample_ = packed['inputs'], packed['data_samples']
    assert tuple(inputs['img'].shape) == (1, 3, 127, 127)
    assert tuple(inputs['search_img'].shape) == (1, 3, 255, 255)
    assert tuple(inputs['memory_img'].shape) == (4, 3, 255, 255)
    assert tuple(sample_.gt_instances.bboxes.shape) == (1, 4)
    np.testing.assert_allclose(
        sample_.search_gt_instances.bboxes.numpy(), [[0, 5, 255, 200]]
    )
    assert tuple(sample_.memory_gt_instances.bboxes.shape) == (4, 4)
    shift = sample_.metainfo['search_shift']
    assert isinstance(shift, tuple) and len(shift) == 2
    np.testing.assert_allclose(shift, results['crop_shift'][1])
    assert sample_.metainfo['memory_frame_id'] == [2, 3, 4, 5]
    assert sample_.metainfo['search_img_path'] == 'f1.jpg'
    # naive stage: no memory group
    two = {k: v[:2] for k, v in results.items()}
    packed = PackUSOTInputs()(two)
    assert set(packed['inputs']) == {'img', 'search_img'}
    assert 'memory_gt_instances' not in packed['data_samples']
    assert 'PackUSOTInputs' in repr(PackUSOTInputs())
    with pytest.raises(ValueError, match='2 entries for 3 frames'):
        PackUSOTInputs()(
            dict(img=two['img'] + [two['img'][0]], frame_id=[0, 1])
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match='roles'):
        USOTRandomFlip(roles=('target',))
    with pytest.raises(ValueError, match='unknown key'):
        USOTShiftScaleCrop(search=dict(size=255, jitter=3))
    with pytest.raises(ValueError, match='lo <= hi'):
        USOTBrightness(factor_range=(1.5, 0.5))
    with pytest.raises(TypeError, match='per-frame lists'):
        USOTBrightness()(dict(img=np.zeros((4, 4, 3), np.uint8)))


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_usot_crop_like_siamfc_equals_mmtrack(dtype):
    """The fast-padding crop is mmtrack's CropLikeSiamFC byte for byte."""
    rng = np.random.default_rng(7)
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(40, 400, 2))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        x1, y1 = rng.uniform(-20, w - 5), rng.uniform(-20, h - 5)
        bw, bh = rng.uniform(2, w), rng.uniform(2, h)
        box = np.array([[x1, y1, x1 + bw, y1 + bh]], dtype)
        outs = []
        for crop in (CropLikeSiamFC(), USOTCropLikeSiamFC()):
            outs.append(crop(dict(img=img.copy(), gt_bboxes=box.copy())))
        assert outs[0]['img'].dtype == outs[1]['img'].dtype == np.uint8
        np.testing.assert_array_equal(outs[0]['img'], outs[1]['img'])
        np.testing.assert_array_equal(
            outs[0]['gt_bboxes'], outs[1]['gt_bboxes']
        )


def test_mean_colour_equals_numpy():
    rng = np.random.default_rng(3)
    for shape, dtype in [
        ((37, 53, 3), np.uint8),
        ((720, 1280, 3), np.uint8),
        ((20, 30, 3), np.uint16),
        ((20, 30, 3), np.float32),
        ((9, 11, 1), np.uint8),
    ]:
        img = (rng.random(shape) * 255).astype(dtype)
        assert mean_colour(img) == np.mean(img, axis=(0, 1)).tolist()
