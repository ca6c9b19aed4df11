# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Compare USOT with OpenCV's trackers and mmtrack models on OTB-style clips.

Every tracker runs the OPE protocol (start from the first ground-truth box,
never reset) on each sequence of an OTB-style folder (default:
``../shared/data/sot_eval`` beside the repository) and is scored by
mmtrack's ``SOTMetric``, as ``tools/test.py`` scores the OTB folder config
(:func:`mmusot.evaluation.evaluate_ope`). Trackers:

* ``--usot-config`` + ``--usot-checkpoint``: mmusot's USOT (optional);
* ``--onnx DIR``: the same tracker exported by ``mmusot-export``, on the
  torch-free runtime (optional; ``--backend onnxruntime`` by default,
  ``--backend openvino``, or both: one row each, named
  ``<--usot-name>-<backend>``);
* OpenCV MIL (always), KCF and CSRT when opencv-contrib is installed (an
  optional extra; skipped with a note otherwise);
* OpenCV NanoTrack v2 from its two ONNX files (``--nanotrack DIR``;
  default ``../shared/data/baselines/nanotrack`` when present, and only if
  this OpenCV has ``TrackerNano``);
* ``--mmtrack NAME CONFIG CHECKPOINT`` (repeatable): any mmtrack SOT model,
  e.g. SiamRPN++.

Outputs in ``--out-dir`` (default ``work_dirs/compare_trackers``):
``results/<tracker>/<sequence>.txt`` (one ``x,y,w,h`` line per frame) and
``results/<tracker>/meta.json`` (what was run, time per sequence), reused
on the next run (delete them or pass ``--force`` to re-run; a different
config, checkpoint or OpenCV version re-runs by itself); ``results.md``
and ``results.csv`` (the table, also printed) and
``success_precision.png``. FPS counts the tracker's own calls (init and
updates, frame decoding excluded), over all frames of all sequences.

Examples::

    python tools/benchmark/compare_trackers.py                 # MIL (+ ...)
    python tools/benchmark/compare_trackers.py --sequences Crossing Couple \\
        --max-frames 50
    python tools/benchmark/compare_trackers.py \\
        --usot-config configs/usot/usot_r50_test-otb-folder.py \\
        --usot-checkpoint work_dirs/usot/epoch_30.pth \\
        --mmtrack SiamRPN++ "$SIAMRPN_CONFIG" siamrpn.pth
    python tools/benchmark/compare_trackers.py \\
        --usot-config configs/usot/usot_mobilenetv2_test-otb-folder.py \\
        --usot-checkpoint work_dirs/demo/epoch_15.pth \\
        --onnx work_dirs/deploy/usot_mnv2 --backend onnxruntime openvino \\
        --threads 2        # PyTorch vs its export on ONNX Runtime, OpenVINO

where ``SIAMRPN_CONFIG=mmtrack::sot/siamese_rpn/siamese-rpn_r50_8xb16-20e_
imagenetvid-imagenetdet-coco_test-otb100.py`` (one word).
"""

import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHARED_DATA = osp.join(osp.dirname(REPO), 'shared', 'data')
DEFAULT_DATA_ROOT = osp.join(SHARED_DATA, 'sot_eval')
DEFAULT_NANOTRACK = osp.join(SHARED_DATA, 'baselines', 'nanotrack')
#: OpenCV trackers run by default (those absent from the build are noted).
DEFAULT_OPENCV = ('MIL', 'KCF', 'CSRT')
META_FILE = 'meta.json'
EPILOG = """examples:
  compare_trackers.py --usot-config CONFIG --usot-checkpoint CKPT
  compare_trackers.py --onnx DIR               # exported USOT, onnxruntime
  compare_trackers.py --usot-config CONFIG --usot-checkpoint CKPT \\
      --onnx DIR --backend onnxruntime openvino  # PyTorch vs its export
  (DIR: written by mmusot-export CONFIG CKPT DIR)"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmusot.cli.tracker_args import RUNTIME_BACKENDS, runtime_device_error

    parser = argparse.ArgumentParser(
        description='Success AUC, precision@20 and fps of USOT, OpenCV '
        'trackers and mmtrack models on OTB-style sequences.',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        '--data-root',
        default=DEFAULT_DATA_ROOT,
        help='OTB-style sequences (default: ../shared/data/sot_eval)',
    )
    parser.add_argument('--sequences', nargs='+', help='sequences to use')
    parser.add_argument(
        '--max-frames', type=int, help='first N frames of each sequence'
    )
    parser.add_argument(
        '--out-dir',
        default=osp.join('work_dirs', 'compare_trackers'),
        help='results, table and plot',
    )
    parser.add_argument('--usot-config', help='USOT test config')
    parser.add_argument('--usot-checkpoint', help='USOT checkpoint')
    parser.add_argument(
        '--usot-name',
        default='USOT',
        help='USOT name in the table (the --onnx rows: NAME-BACKEND)',
    )
    parser.add_argument(
        '--onnx',
        metavar='DIR',
        help='an exported USOT (the folder written by mmusot-export), run '
        'on each --backend without torch',
    )
    parser.add_argument(
        '--backend',
        '--backends',
        dest='backend',
        nargs='+',
        choices=list(RUNTIME_BACKENDS),
        metavar='BACKEND',
        help=f'runtime(s) of --onnx: {", ".join(RUNTIME_BACKENDS)}, one row '
        'each (default: onnxruntime); '
        'the PyTorch USOT is --usot-config + --usot-checkpoint',
    )
    parser.add_argument(
        '--mmtrack',
        nargs=3,
        action='append',
        default=[],
        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
        help='an mmtrack SOT model (repeatable); CONFIG may be '
        'mmtrack::sot/...',
    )
    parser.add_argument(
        '--opencv',
        nargs='*',
        default=list(DEFAULT_OPENCV),
        choices=list(DEFAULT_OPENCV),
        help='OpenCV trackers (default: MIL KCF CSRT; KCF/CSRT need '
        'opencv-contrib)',
    )
    parser.add_argument(
        '--nanotrack',
        default=DEFAULT_NANOTRACK if osp.isdir(DEFAULT_NANOTRACK) else None,
        help='folder with NanoTrack v2 ONNX files (default: '
        '../shared/data/baselines/nanotrack when present)',
    )
    parser.add_argument(
        '--no-nanotrack', action='store_true', help='skip NanoTrack'
    )
    parser.add_argument(
        '--device',
        default='cpu',
        help='device of the mmtrack models (and of --onnx: cpu or cuda)',
    )
    parser.add_argument(
        '--threads',
        type=int,
        help='torch, OpenCV and --onnx runtime CPU threads',
    )
    parser.add_argument(
        '--force', action='store_true', help='ignore cached results'
    )
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    if args.backend is not None and args.onnx is None:
        parser.error(
            '--backend picks the runtime of an exported tracker: give '
            '--onnx DIR (a folder written by mmusot-export)'
        )
    if args.onnx is not None:
        args.backend = list(dict.fromkeys(args.backend or ['onnxruntime']))
        for backend in args.backend:
            error = runtime_device_error(backend, args.device)
            if error:
                parser.error(error)
    return args


class TrackerSpec:
    """A tracker to run: its name, how to build it, what identifies it.

    Args:
        name (str): table name (also the result folder name).
        build (Callable[[], object]): returns an object with
            ``init(frame, box)`` and ``track(frame) -> (box, score)``.
        signature (dict): what the cached results depend on.
    """

    def __init__(self, name: str, build: Callable, signature: dict):
        self.name = name
        self.build = build
        self.signature = signature


def _file_signature(path: str) -> dict:
    if not osp.isfile(path):
        return dict(path=path)
    stat = os.stat(path)
    return dict(
        path=osp.abspath(path), size=stat.st_size, mtime=int(stat.st_mtime)
    )


def model_spec(
    name: str, config: str, checkpoint: str, device: str
) -> TrackerSpec:
    """An mmtrack/mmusot model through :class:`mmusot.apis.Tracker`."""
    from mmusot.apis import Tracker, resolve_config_path
    from mmusot.engine import MissingCheckpointError

    config_path = resolve_config_path(config)
    if not osp.isfile(checkpoint):
        raise MissingCheckpointError(
            f'{name}: checkpoint file not found: {checkpoint}'
        )

    def build():
        return Tracker.from_config(config, checkpoint, device)

    return TrackerSpec(
        name,
        build,
        dict(
            kind='model',
            config=_file_signature(config_path),
            checkpoint=_file_signature(checkpoint),
        ),
    )


def _backend_version(backend: str) -> Optional[str]:
    from importlib.metadata import PackageNotFoundError, version

    for dist in {
        'onnxruntime': ('onnxruntime', 'onnxruntime-gpu'),
        'openvino': ('openvino',),
        'opencv': ('opencv-python', 'opencv-contrib-python'),
    }[backend]:
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return None


def runtime_spec(
    name: str,
    folder: str,
    backend: str,
    device: str = 'cpu',
    threads: Optional[int] = None,
) -> TrackerSpec:
    """An exported USOT on :class:`mmusot.runtime.Tracker`; raises
    :class:`~mmusot.runtime.DeployError` for a bad folder."""
    from mmusot.runtime import DeployPackage, Tracker

    package = DeployPackage.load(folder)

    def build():
        return Tracker(package, backend, threads=threads, device=device)

    return TrackerSpec(
        name,
        build,
        dict(
            kind='runtime',
            backend=backend,
            version=_backend_version(backend),
            device=device,
            deploy=_file_signature(osp.join(folder, 'deploy.json')),
            graphs=[_file_signature(p) for p in package.files.values()],
        ),
    )


def opencv_spec(kind: str, nanotrack_dir: Optional[str] = None) -> TrackerSpec:
    """An OpenCV tracker; raises RuntimeError when OpenCV lacks it."""
    import cv2

    from mmusot.apis import OpenCVTracker, opencv_factory
    from mmusot.apis.opencv_trackers import OPENCV_TRACKERS, nanotrack_files

    if opencv_factory(kind) is None:
        extra = (
            '; install opencv-contrib-python for it'
            if kind in ('KCF', 'CSRT')
            else ''
        )
        raise RuntimeError(
            f'this OpenCV ({cv2.__version__}) has no '
            f'{OPENCV_TRACKERS[kind]}{extra}'
        )
    signature = dict(kind=kind, opencv=cv2.__version__)
    if kind == 'NanoTrack':
        signature['models'] = [
            _file_signature(p) for p in nanotrack_files(nanotrack_dir)
        ]
    return TrackerSpec(
        kind, lambda: OpenCVTracker(kind, nanotrack_dir), signature
    )


def collect_specs(args) -> Tuple[List[TrackerSpec], List[str]]:
    """The trackers to run, and notes on those left out."""
    specs, notes = [], []
    if args.usot_config or args.usot_checkpoint:
        if not (args.usot_config and args.usot_checkpoint):
            raise ValueError(
                'USOT needs both --usot-config and --usot-checkpoint'
            )
        specs.append(
            model_spec(
                args.usot_name,
                args.usot_config,
                args.usot_checkpoint,
                args.device,
            )
        )
    for backend in args.backend if getattr(args, 'onnx', None) else []:
        specs.append(
            runtime_spec(
                f'{args.usot_name}-{backend}',
                args.onnx,
                backend,
                args.device,
                args.threads,
            )
        )
    for name, config, checkpoint in args.mmtrack:
        specs.append(model_spec(name, config, checkpoint, args.device))
    kinds = list(dict.fromkeys(['MIL', *args.opencv]))
    for kind in kinds:
        try:
            specs.append(opencv_spec(kind))
        except RuntimeError as err:
            notes.append(f'{kind}: skipped, {err}')
    if args.nanotrack and not args.no_nanotrack:
        try:
            specs.append(opencv_spec('NanoTrack', args.nanotrack))
        except (RuntimeError, FileNotFoundError) as err:
            notes.append(f'NanoTrack: skipped, {err}')
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f'tracker names used twice: {duplicates}')
    return specs, notes


def _load_meta(folder: str, signature: dict, force: bool) -> dict:
    path = osp.join(folder, META_FILE)
    if force or not osp.isfile(path):
        return dict(signature=signature, timing={})
    with open(path, encoding='utf-8') as f:
        meta = json.load(f)
    if meta.get('signature') != signature:
        print(f'  {osp.basename(folder)}: tracker changed, re-running')
        return dict(signature=signature, timing={})
    return meta


def _save_meta(folder: str, meta: dict) -> None:
    path = osp.join(folder, META_FILE)
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def run_sequence(tracker, info) -> Tuple[np.ndarray, float]:
    """OPE on one sequence: boxes (N, 4) xywh and seconds in the tracker."""
    import cv2

    boxes = np.zeros((len(info), 4))
    seconds = 0.0
    for i, path in enumerate(info.img_paths):
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(
                f'sequence {info.name!r}: cannot read frame {path}'
            )
        start = time.perf_counter()
        if i == 0:
            tracker.init(frame, info.gt_xywh[0])
            box = info.gt_xywh[0]
        else:
            box, _ = tracker.track(frame)
        seconds += time.perf_counter() - start
        boxes[i] = box
    return boxes, seconds


def run_tracker(
    spec: TrackerSpec, sequences: list, folder: str, force: bool
) -> Tuple[Dict[str, np.ndarray], Optional[float]]:
    """Results of one tracker on every sequence, cached in ``folder``."""
    from mmusot.evaluation import read_track_results, write_track_results

    os.makedirs(folder, exist_ok=True)
    meta = _load_meta(folder, spec.signature, force)
    tracker = None
    predictions, frames, seconds = {}, 0, 0.0
    for info in sequences:
        path = osp.join(folder, f'{info.name}.txt')
        timing = meta['timing'].get(info.name)
        boxes = None
        if timing is not None and osp.isfile(path):
            cached = read_track_results(path)
            if len(cached) >= len(info):
                boxes = cached[: len(info)]
                print(f'  {spec.name} {info.name}: cached')
        if boxes is None:
            if tracker is None:
                tracker = spec.build()
            boxes, elapsed = run_sequence(tracker, info)
            write_track_results(path, boxes)
            # score what the file holds, as a cached run will
            boxes = read_track_results(path)
            timing = dict(frames=len(info), seconds=elapsed)
            meta['timing'][info.name] = timing
            _save_meta(folder, meta)
            print(
                f'  {spec.name} {info.name}: {len(info)} frames, '
                f'{len(info) / max(elapsed, 1e-9):.1f} fps',
                flush=True,
            )
        predictions[info.name] = boxes
        frames += timing['frames']
        seconds += timing['seconds']
    fps = frames / seconds if seconds > 0 else None
    return predictions, fps


def main(argv: Optional[List[str]] = None) -> list:
    args = parse_args(argv)
    import matplotlib.pyplot as plt

    from mmusot.evaluation import (
        evaluate_ope,
        load_sequences,
        ope_markdown_table,
        ope_rows,
        per_sequence_markdown_table,
        plot_success_precision,
        write_csv,
        write_markdown,
    )

    if args.threads:
        import cv2
        import torch

        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    try:
        sequences = load_sequences(
            args.data_root, args.sequences, args.max_frames
        )
        specs, notes = collect_specs(args)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    num_frames = sum(len(s) for s in sequences)
    print(
        f'{len(sequences)} sequences, {num_frames} frames from '
        f'{args.data_root}; trackers: {[s.name for s in specs]}'
    )
    for note in notes:
        print(f'note: {note}')
    results = []
    for spec in specs:
        folder = osp.join(args.out_dir, 'results', spec.name)
        predictions, fps = run_tracker(spec, sequences, folder, args.force)
        results.append(
            evaluate_ope(predictions, sequences, spec.name, fps=fps)
        )
    table = ope_markdown_table(results)
    frames_note = (
        f', first {args.max_frames} frames each' if args.max_frames else ''
    )
    text = (
        '# Tracker comparison (OPE, mmtrack SOTMetric)\n\n'
        f'{len(sequences)} sequences ({num_frames} frames{frames_note}) of '
        f'`{args.data_root}`: {", ".join(s.name for s in sequences)}.\n\n'
        + table
        + ''.join(f'\n- {note}' for note in notes)
        + ('\n' if notes else '')
        + '\n## Per sequence\n\n'
        + per_sequence_markdown_table(results)
    )
    write_markdown(osp.join(args.out_dir, 'results.md'), text)
    write_csv(osp.join(args.out_dir, 'results.csv'), ope_rows(results))
    plot = osp.join(args.out_dir, 'success_precision.png')
    fig = plot_success_precision(results, plot, osp.basename(args.data_root))
    plt.close(fig)
    print(text, end='')
    print(f'\nwritten: {args.out_dir}/results.md, results.csv, {plot}')
    return results


if __name__ == '__main__':
    main()
