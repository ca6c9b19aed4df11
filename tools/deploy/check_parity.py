# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Does the exported tracker track as the PyTorch tracker does?

Runs :class:`mmusot.apis.Tracker` (PyTorch) and
:class:`mmusot.runtime.Tracker` (the ``mmusot-export`` folder, on ONNX
Runtime or OpenVINO) over OTB-style sequences from their first
ground-truth box, and reports the per-frame IoU between the two boxes,
two ways:

* ``free``: each tracker follows its own state (what a user gets; a
  rounding difference can flip an argmax on an ambiguous frame, and the
  runs then part);
* ``forced``: before each frame the runtime's centre and size are set to
  the PyTorch tracker's (teacher forcing, as ``tests/test_models/test_sot/
  test_usot_tracker_parity.py`` does against the official tracker), so
  every frame is compared on its own.

With ``--golden`` it also checks the runtime (``crop_mode='official'``,
forced) against the official trajectories of
``shared/docs/parity/tracker_golden.npz`` (use the fixture's R50 weights).

Examples::

    mmusot-export CONFIG CKPT work_dirs/onnx
    python tools/deploy/check_parity.py CONFIG CKPT work_dirs/onnx \
        --data-root ../shared/data/sot_eval --out work_dirs/parity.json
    python tools/deploy/check_parity.py CONFIG CKPT work_dirs/onnx \
        --sequences Crossing --max-frames 30 --backend openvino
"""

import argparse
import json
import os.path as osp
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from mmusot.tracking.inputs import read_frame

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SOT_EVAL = osp.join(osp.dirname(REPO), 'shared', 'data', 'sot_eval')
GOLDEN = osp.join(
    osp.dirname(REPO), 'shared', 'docs', 'parity', 'tracker_golden.npz'
)
#: The issue's bar: per-frame IoU between the two trackers.
MIN_IOU = 0.99


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row IoU of (N, 4) ``[x, y, w, h]`` boxes."""
    lo = np.maximum(a[:, :2], b[:, :2])
    hi = np.minimum(a[:, :2] + a[:, 2:], b[:, :2] + b[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    union = np.prod(a[:, 2:], axis=1) + np.prod(b[:, 2:], axis=1) - inter
    return inter / np.maximum(union, 1e-12)


def force_runtime(runtime, state) -> None:
    """Set the runtime target's centre and size to a PyTorch state's."""
    target = runtime.state
    target.center = state.center.detach().cpu().numpy().astype(np.float32)
    target.size = state.size.detach().cpu().numpy().astype(np.float32)


def compare_sequence(
    pytorch, runtimes: Dict[str, object], frames: List[np.ndarray], init_box
) -> Dict[str, dict]:
    """Track ``frames`` with PyTorch and with each runtime tracker.

    Args:
        pytorch: the PyTorch tracker.
        runtimes (dict): mode (``'free'`` / ``'forced'``) → runtime
            tracker; the ``'forced'`` one is set to the PyTorch state
            before each frame.
        frames (list[np.ndarray]): the sequence.
        init_box: ``[x, y, w, h]`` in the first frame.

    Returns:
        dict: per mode, ``iou`` (N - 1,) over the tracked frames and
        ``seconds`` of the runtime; ``'pytorch'``: its ``seconds``.
    """
    pytorch.init(frames[0], init_box)
    for runtime in runtimes.values():
        runtime.init(frames[0], init_box)
    ious = {mode: [] for mode in runtimes}
    boxes = {mode: [init_box] for mode in ['pytorch', *runtimes]}
    seconds = dict.fromkeys(['pytorch', *runtimes], 0.0)
    for frame in frames[1:]:
        for mode, runtime in runtimes.items():
            if mode == 'forced':
                force_runtime(runtime, pytorch.state)
        start = time.perf_counter()
        ref, _ = pytorch.track(frame)
        seconds['pytorch'] += time.perf_counter() - start
        boxes['pytorch'].append(ref)
        for mode, runtime in runtimes.items():
            start = time.perf_counter()
            box, _ = runtime.track(frame)
            seconds[mode] += time.perf_counter() - start
            boxes[mode].append(box)
            ious[mode].append(box_iou(ref[None], box[None])[0])
    out = {
        m: dict(iou=np.asarray(v), seconds=seconds[m], boxes=boxes[m])
        for m, v in ious.items()
    }
    out['pytorch'] = dict(seconds=seconds['pytorch'], boxes=boxes['pytorch'])
    return out


def success_auc(boxes, gt: np.ndarray) -> float:
    """OTB success AUC (%) of one run: the mean success rate over the
    overlap thresholds 0, 0.05, ..., 1, frames with a valid box only."""
    valid = (gt[:, 2] > 0) & (gt[:, 3] > 0)
    iou = box_iou(np.asarray(boxes)[valid], gt[valid])
    thresholds = np.arange(0, 1.05, 0.05)
    return float(np.mean([(iou > t).mean() for t in thresholds]) * 100)


def check_golden(
    package: str,
    backend: str = 'onnxruntime',
    threads: Optional[int] = None,
    max_frames: Optional[int] = None,
) -> List[dict]:
    """The runtime against the official tracker's trajectories (forced).

    Returns:
        list[dict]: per fixture sequence, frames, min / mean IoU and the
        search size the runtime chose.
    """
    from mmusot.runtime import Tracker

    golden = np.load(GOLDEN)
    rows = []
    for sequence in ('Crossing', 'bag', 'Surfer'):
        names = golden[f'{sequence}/frames'].tolist()[:max_frames]
        ref = golden[f'{sequence}/boxes'][: len(names)]
        tracker = Tracker(
            package,
            backend,
            threads,
            test_cfg=dict(crop_mode='official', one_based_gt=False),
        )
        frames = [
            read_frame(osp.join(SOT_EVAL, sequence, 'img', n)) for n in names
        ]
        tracker.init(frames[0], golden[f'{sequence}/init_box'])
        boxes = [tracker.box]
        for t, frame in enumerate(frames[1:], start=1):
            if t >= 2:  # the official box of frame t - 1 (as the test)
                force_to_box(tracker, ref[t - 1])
            boxes.append(tracker.track(frame)[0])
        iou = box_iou(np.asarray(boxes)[1:], ref[1:])
        rows.append(
            dict(
                sequence=sequence,
                frames=len(frames),
                min_iou=float(iou.min()),
                mean_iou=float(iou.mean()),
                search=int(tracker.state.instance_size),
            )
        )
    return rows


def force_to_box(tracker, box: np.ndarray) -> None:
    """Teacher forcing to an official output box ``[x, y, w, h]``
    (0-based): the size is the box's; the centre where the corner was not
    clamped at 0."""
    state = tracker.state
    size = np.asarray(box[2:], dtype=np.float32)
    center = state.center.copy()
    for axis in range(2):
        if box[axis] > 0:
            center[axis] = box[axis] + size[axis] / 2
    state.center, state.size = center, size


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the USOT config that was exported')
    parser.add_argument('checkpoint', help='its weights')
    parser.add_argument('onnx', help='the mmusot-export folder')
    parser.add_argument(
        '--data-root', default=SOT_EVAL, help='OTB-style sequences'
    )
    parser.add_argument('--sequences', nargs='+', default=None)
    parser.add_argument('--max-frames', type=int, default=None)
    parser.add_argument(
        '--backend',
        default='onnxruntime',
        choices=['onnxruntime', 'openvino', 'opencv'],
    )
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--modes',
        nargs='+',
        default=['free', 'forced'],
        choices=['free', 'forced'],
    )
    parser.add_argument(
        '--crop-mode',
        default=None,
        choices=['exact', 'official'],
        help='override test_cfg.crop_mode in both trackers',
    )
    parser.add_argument(
        '--golden',
        action='store_true',
        help='also check the runtime against tracker_golden.npz',
    )
    parser.add_argument('--out', default=None, help='write a JSON report')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import torch

    from mmusot.apis import Tracker as PyTorchTracker
    from mmusot.evaluation.ope import load_sequences
    from mmusot.runtime import Tracker as RuntimeTracker

    torch.set_num_threads(args.threads)
    test_cfg = {} if args.crop_mode is None else dict(crop_mode=args.crop_mode)
    cfg_options = {f'model.test_cfg.{k}': v for k, v in test_cfg.items()}
    pytorch = PyTorchTracker.from_config(
        args.config, args.checkpoint, cfg_options=cfg_options
    )
    runtimes = {
        mode: RuntimeTracker(
            args.onnx, args.backend, args.threads, test_cfg=test_cfg
        )
        for mode in args.modes
    }
    infos = load_sequences(args.data_root, args.sequences, args.max_frames)
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        onnx=args.onnx,
        backend=args.backend,
        threads=args.threads,
        min_iou_required=MIN_IOU,
        sequences=[],
    )
    print(
        f'{"sequence":<14}{"frames":>7}  {"mode":<7}{"min IoU":>9}'
        f'{"mean IoU":>10}{"frames < 0.99":>15}'
    )
    for info in infos:
        frames = [read_frame(p) for p in info.img_paths]
        runs = compare_sequence(pytorch, runtimes, frames, info.gt_xywh[0])
        for mode in args.modes:
            iou = runs[mode]['iou']
            below = iou < MIN_IOU
            row = dict(
                sequence=info.name,
                frames=len(frames),
                mode=mode,
                min_iou=float(iou.min()),
                mean_iou=float(iou.mean()),
                frames_below=int(below.sum()),
                first_below=int(np.argmax(below)) + 1 if below.any() else None,
                runtime_seconds=runs[mode]['seconds'],
                pytorch_seconds=runs['pytorch']['seconds'],
                pytorch_auc=success_auc(
                    runs['pytorch']['boxes'], info.gt_xywh
                ),
                runtime_auc=success_auc(runs[mode]['boxes'], info.gt_xywh),
            )
            report['sequences'].append(row)
            print(
                f'{info.name:<14}{len(frames):>7}  {mode:<7}'
                f'{row["min_iou"]:>9.4f}{row["mean_iou"]:>10.4f}'
                f'{row["frames_below"]:>15}',
                flush=True,
            )
    for mode in args.modes:
        rows = [r for r in report['sequences'] if r['mode'] == mode]
        if rows:
            print(
                f'{mode}: mean success AUC over the sequences, PyTorch '
                f'{np.mean([r["pytorch_auc"] for r in rows]):.2f}, runtime '
                f'{np.mean([r["runtime_auc"] for r in rows]):.2f}'
            )
    if args.golden:
        report['golden'] = check_golden(args.onnx, args.backend, args.threads)
        for row in report['golden']:
            print(
                f'golden {row["sequence"]:<10} {row["frames"]} frames, '
                f'search {row["search"]}: min IoU {row["min_iou"]:.4f}, '
                f'mean {row["mean_iou"]:.4f}'
            )
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
