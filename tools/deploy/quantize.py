# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Int8 copy of an exported tracker (ONNX Runtime static quantisation).

The convolutions of ``backbone.onnx`` and ``head.onnx`` are quantised
(QDQ, int8 per-channel weights, uint8 activations), calibrated on the
inputs the fp32 tracker itself feeds them while it follows pseudo-label
tracks of training clips (no ground truth, nothing from the test set).
``kernel.onnx`` (once per frame, ~2 % of the time) and ``deploy.json``
are copied. The result is a folder :mod:`mmusot.runtime` loads like any
export; its speed: ``tools/benchmark/track_speed.py`` cannot build it
from random weights, so time it with ``--int8-onnx`` there, and its
accuracy with ``tools/deploy/check_parity.py`` or ``mmusot-track``.

Example::

    python tools/deploy/quantize.py work_dirs/onnx work_dirs/onnx_int8 \
        --pseudo-labels data/unlabeled74_pseudo --clips 12 --frames 20
"""

import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile
from typing import Dict, List, Optional

import numpy as np

from mmusot.tracking.inputs import read_frame

#: The graphs quantised (by role) and the ops quantised in them.
QUANTISED = ('backbone', 'head')
OP_TYPES = ['Conv']


def read_tracks(root: str, clips: int, frames: int) -> List[tuple]:
    """(frame paths, first box) of the first ``clips`` pseudo-label tracks.

    Raises:
        FileNotFoundError: no ``pseudo_infos.txt`` under ``root``.
    """
    infos = osp.join(root, 'pseudo_infos.txt')
    if not osp.isfile(infos):
        raise FileNotFoundError(f'{infos}: no pseudo-label index')
    tracks = []
    with open(infos) as f:
        lines = [
            ln.strip()
            for ln in f
            if ln.count(',') == 3 and ln.strip().rsplit(',', 1)[1].isdigit()
        ]
    for line in lines[:clips]:
        video, ann, start, end = line.split(',')
        boxes = np.loadtxt(osp.join(root, ann), delimiter=',', ndmin=2)
        names = sorted(os.listdir(osp.join(root, video)))
        first = int(start) - 1
        last = min(int(end), first + frames)
        paths = [osp.join(root, video, n) for n in names[first:last]]
        if len(paths) < 2:
            raise ValueError(f'{osp.join(root, video)}: fewer than 2 frames')
        tracks.append((paths, boxes[first]))
    if not tracks:
        raise ValueError(f'{infos}: no track listed')
    return tracks


def collect_inputs(
    folder: str, tracks: List[tuple], threads: Optional[int]
) -> Dict[str, List[dict]]:
    """The feeds of each graph while the fp32 tracker follows ``tracks``."""
    from mmusot.runtime import Tracker

    tracker = Tracker(folder, threads=threads)
    backend = tracker.engine.backend
    recorded: Dict[str, List[dict]] = {role: [] for role in QUANTISED}
    run = backend.run

    def recording_run(role, feeds):
        if role in recorded:
            recorded[role].append({k: v.copy() for k, v in feeds.items()})
        return run(role, feeds)

    backend.run = recording_run
    for paths, box in tracks:
        frames = [read_frame(p) for p in paths]
        tracker.init(frames[0], box)
        for frame in frames[1:]:
            tracker.track(frame)
    return recorded


class _Reader:
    """ONNX Runtime's calibration reader over recorded feeds."""

    def __init__(self, feeds: List[dict]) -> None:
        self.feeds = iter(feeds)

    def get_next(self):
        return next(self.feeds, None)

    def rewind(self):  # pragma: no cover  (newer onnxruntime asks)
        pass


def quantize_folder(
    src: str,
    dst: str,
    pseudo_labels: str,
    clips: int = 12,
    frames: int = 20,
    threads: Optional[int] = None,
) -> str:
    """Write the int8 copy of ``src`` into ``dst``; returns ``dst``."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from mmusot.runtime import DeployPackage

    package = DeployPackage.load(src)
    recorded = collect_inputs(
        src, read_tracks(pseudo_labels, clips, frames), threads
    )
    os.makedirs(dst, exist_ok=True)
    for name in ('deploy.json', osp.basename(package.files['kernel'])):
        shutil.copy(osp.join(src, name), osp.join(dst, name))
    with tempfile.TemporaryDirectory() as tmp:
        for role in QUANTISED:
            prepared = osp.join(tmp, f'{role}.onnx')
            quant_pre_process(package.files[role], prepared)
            quantize_static(
                prepared,
                osp.join(dst, osp.basename(package.files[role])),
                _Reader(recorded[role]),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=OP_TYPES,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
            )
    DeployPackage.load(dst)
    return dst


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='an mmusot-export folder (fp32)')
    parser.add_argument('dst', help='the int8 folder to write')
    parser.add_argument(
        '--pseudo-labels',
        required=True,
        help='a pseudo-label dataset (mmusot-videos-to-pseudo output)',
    )
    parser.add_argument('--clips', type=int, default=12)
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    from mmusot.runtime import DeployError

    try:
        quantize_folder(
            args.src,
            args.dst,
            args.pseudo_labels,
            args.clips,
            args.frames,
            args.threads,
        )
    except (OSError, ValueError, DeployError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
