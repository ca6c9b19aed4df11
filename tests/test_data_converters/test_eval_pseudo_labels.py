# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""mmusot-eval-pseudo-labels on a synthetic OTB-style sequence with GT."""

import json

import numpy as np

from mmusot.cli import eval_pseudo_labels
from mmusot.pseudo_labels import (
    PseudoLabelSettings,
    convert_sources,
    discover_sources,
)

from ..test_pseudo_labels.synth_video import moving_object_video, write_folder


def test_eval_scores_and_renders(tmp_path):
    frames, gt = moving_object_video(40)
    write_folder(str(tmp_path / 'seq' / 'Obj' / 'img'), frames, '.jpg')
    xywh = np.c_[gt[:, :2], gt[:, 2:] - gt[:, :2]]
    np.savetxt(
        tmp_path / 'seq' / 'Obj' / 'groundtruth_rect.txt',
        xywh,
        fmt='%d',
        delimiter=',',
    )
    out = tmp_path / 'out'
    convert_sources(
        discover_sources(str(tmp_path / 'seq')),
        str(out),
        PseudoLabelSettings(),
    )
    mod = eval_pseudo_labels
    res_file = tmp_path / 'res.json'
    assert (
        mod.main(
            [
                str(out),
                '--gt-root',
                str(tmp_path / 'seq'),
                '--samples',
                '200',
                '--json',
                str(res_file),
                '--render',
                str(tmp_path / 'r'),
                '--mp4',
            ]
        )
        == 0
    )
    res = json.loads(res_file.read_text())
    assert res['tracks'] == 1 and res['template']['n'] == 200
    assert res['template']['iou03'] > 0.8
    assert 0.5 < res['all_frames']['mean_iou'] <= 1
    assert (tmp_path / 'r' / 'Obj__img.png').is_file()
    assert (tmp_path / 'r' / 'Obj__img.mp4').is_file()
    # a wrong GT scores low: the evaluator can fail
    np.savetxt(
        tmp_path / 'seq' / 'Obj' / 'groundtruth_rect.txt',
        xywh + [60, 50, 0, 0],
        fmt='%d',
        delimiter=',',
    )
    assert (
        mod.main(
            [
                str(out),
                '--gt-root',
                str(tmp_path / 'seq'),
                '--samples',
                '200',
                '--json',
                str(res_file),
            ]
        )
        == 0
    )
    assert json.loads(res_file.read_text())['template']['iou03'] < 0.2
