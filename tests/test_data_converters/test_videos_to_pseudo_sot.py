# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The converter CLI: format, shards + merge, resume after a kill, bad
inputs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmusot.cli import videos_to_pseudo_sot
from mmusot.pseudo_labels import (
    INFOS_HEADER,
    FlowBackend,
    PseudoLabelSettings,
    convert_sources,
    discover_sources,
    merge,
    read_infos,
    register_flow_backend,
)
from mmusot.pseudo_labels.flow import FLOW_BACKENDS

from ..test_pseudo_labels.synth_video import (
    moving_object_video,
    write_folder,
    write_video,
)

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / 'data_converters' / 'videos_to_pseudo_sot.py'
FAST = ['--work-size', '96', '128', '--quiet']


def load_cli():
    return videos_to_pseudo_sot


def make_inputs(root: Path, n_videos: int = 3, n_frames: int = 30) -> None:
    for k in range(n_videos):
        frames, _ = moving_object_video(
            n_frames, size_hw=(96, 128), obj_hw=(24, 28), seed=k
        )
        if k % 2 == 0:
            write_video(str(root / f'clip{k}.avi'), frames)
        else:
            write_folder(
                str(root / 'nested' / f'seq{k}' / 'img'), frames, '.jpg'
            )


def tree_bytes(out: Path) -> dict:
    files = {}
    for sub in ('frames', 'annotations', 'quality'):
        for p in sorted((out / sub).rglob('*')):
            if p.is_file():
                files[str(p.relative_to(out))] = p.read_bytes()
    for p in out.glob('*_infos.txt'):
        files[p.name] = p.read_bytes()
    return files


def test_discover_names(tmp_path):
    make_inputs(tmp_path, 4, 5)
    (tmp_path / 'clip0.mp4').write_bytes(b'')  # clashes with clip0.avi
    names = [s.name for s in discover_sources(str(tmp_path))]
    assert names == [
        'clip0_avi',
        'clip0_mp4',
        'clip2',
        'nested/seq1/img',
        'nested/seq3/img',
    ]


def test_cli_output_format_and_shards(tmp_path):
    cli = load_cli()
    src = tmp_path / 'in'
    make_inputs(src, 3)
    one = tmp_path / 'one'
    assert cli.main([str(src), str(one)] + FAST) == 0
    infos = (one / 'pseudo_infos.txt').read_text().splitlines()
    assert infos[0] == INFOS_HEADER
    for video_path, ann_path, start, end in read_infos(
        str(one / 'pseudo_infos.txt')
    ):
        boxes = np.loadtxt(one / ann_path, delimiter=',')  # as mmtrack
        assert boxes.shape == (end - start + 1, 4)
        assert (one / video_path / ('%08d.jpg' % end)).is_file()
    assert len(infos) >= 2  # the synthetic objects are found
    # two shards, then merge: same files, same infos
    two = tmp_path / 'two'
    for i in range(2):
        assert cli.main([str(src), str(two), '--shard', f'{i}/2'] + FAST) == 0
    assert not (two / 'pseudo_infos.txt').exists()
    assert cli.main([str(src), str(two), '--merge-only'] + FAST) == 0
    assert tree_bytes(one) == tree_bytes(two)
    # other settings into the same folder are refused
    assert (
        cli.main([str(src), str(one), '--work-size', '64', '96', '--quiet'])
        == 2
    )


def test_resume_after_kill_is_byte_identical(tmp_path):
    src = tmp_path / 'in'
    make_inputs(src, 8, 40)
    ref, out = tmp_path / 'ref', tmp_path / 'out'
    cmd = [sys.executable, str(CLI), str(src)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        cmd + [str(ref)] + FAST, check=True, env=env, capture_output=True
    )
    proc = subprocess.Popen(
        cmd + [str(out)] + FAST,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    status = out / 'status'
    while time.time() < deadline:
        if status.is_dir() and len(list(status.glob('*.json'))) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(status.glob('**/*.json')))
    assert done < 8, 'the run finished before it could be killed'
    assert not (out / 'pseudo_infos.txt').exists()
    # a half-written leftover must not be taken as done
    (out / 'frames' / 'clip6').mkdir(parents=True, exist_ok=True)
    (out / 'frames' / 'clip6' / '00000001.jpg').write_bytes(b'partial')
    subprocess.run(
        cmd + [str(out)] + FAST, check=True, env=env, capture_output=True
    )
    assert tree_bytes(out) == tree_bytes(ref)
    assert not list((out / '.tmp').iterdir())


class _NaNFlow(FlowBackend):
    def __call__(self, center, target, previous=None):
        return np.full(center.shape[:2] + (2,), np.nan, np.float32)


def test_bad_inputs_are_logged_and_skipped(tmp_path):
    if 'nan_test' not in FLOW_BACKENDS:
        register_flow_backend('nan_test')(_NaNFlow)
    src = tmp_path / 'in'
    src.mkdir()
    frames, _ = moving_object_video(30, size_hw=(96, 128), obj_hw=(24, 28))
    (src / 'garbage.mp4').write_bytes(os.urandom(2000))
    (src / 'empty.mp4').write_bytes(b'')
    write_folder(str(src / 'single'), frames[:1])
    write_folder(str(src / 'gray'), frames, gray=True)
    mixed = [
        f if k % 5 != 4 else cv2.resize(f, (100, 80))
        for k, f in enumerate(frames)
    ]
    write_folder(str(src / 'mixed_size'), mixed)
    write_folder(str(src / 'still'), [frames[0]] * 30)
    write_folder(str(src / 'ok'), frames)
    sources = discover_sources(str(src))
    out = tmp_path / 'out'
    s = PseudoLabelSettings(work_size=(96, 128))
    recs = {r['video']: r for r in convert_sources(sources, str(out), s)}
    assert recs['garbage']['status'] == 'failed'
    assert 'garbage.mp4' in recs['garbage']['reason']
    assert recs['empty']['status'] == 'failed'
    assert 'empty.mp4' in recs['empty']['reason']
    assert recs['single']['status'] == 'filtered'
    assert 'too short' in recs['single']['reason']
    assert recs['still']['status'] == 'filtered'
    assert 'no motion' in recs['still']['reason']
    assert recs['gray']['status'] == 'kept'
    img = cv2.imread(
        str(out / 'frames' / 'gray' / '00000001.jpg'), cv2.IMREAD_UNCHANGED
    )
    assert img.ndim == 3 and img.shape[2] == 3
    assert recs['mixed_size']['status'] in ('kept', 'filtered')
    assert any('differ in size' in w for w in recs['mixed_size']['warnings'])
    img = cv2.imread(str(out / 'frames' / 'mixed_size' / '00000001.jpg'))
    if img is not None:
        assert img.shape[:2] == (96, 128)
    assert recs['ok']['status'] == 'kept'
    summary = merge(str(out), expected=[x.name for x in sources])
    assert len(summary['failed']) == 2 and not summary['pending']
    assert summary['videos'] == len(sources)
    # all-NaN flow
    nan_out = tmp_path / 'nan'
    s_nan = PseudoLabelSettings(
        work_size=(96, 128), flow='nan_test', flow_kwargs={}
    )
    ok_src = [x for x in sources if x.name == 'ok']
    rec = convert_sources(ok_src, str(nan_out), s_nan)[0]
    assert rec['status'] == 'filtered' and 'NaN' in rec['reason']
    assert any('NaN' in w for w in rec['warnings'])


@pytest.mark.parametrize('bad', ['2/2', 'x', '1/0'])
def test_bad_shard_argument(bad):
    from mmusot.pseudo_labels import parse_shard

    with pytest.raises(ValueError):
        parse_shard(bad)
