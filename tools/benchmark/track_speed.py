# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Tracking speed of mmusot's USOT (ResNet-50 and MobileNetV2) and
mmtrack's SiamRPN++, on the same frames.

All trackers get random weights (no checkpoint is needed for speed),
the same frames already on the device, and run their whole per-frame
``predict`` (crop, network, post-processing). USOT runs once per crop mode
(``test_cfg.crop_mode``): ``'exact'``, the float crop on the device (the
default), and ``'official'``, the official uint8 OpenCV crop on the host.
Frame 0 (init) and the warm-up frames are not timed; the table reports
the median over the timed frames, in fp32 and in autocast (fp16 on CUDA,
bf16 on CPU).

Examples::

    python tools/benchmark/track_speed.py                  # CPU or CUDA
    python tools/benchmark/track_speed.py --frames 40 --warmup 5
    python tools/benchmark/track_speed.py --source synthetic --device cuda
    python tools/benchmark/track_speed.py --device cpu --threads 2 \
        --trackers usot --crop-modes exact official --precisions fp32
    # PyTorch vs the exported graphs (mmusot.runtime), same weights,
    # interleaved frame by frame; plus a trained export and its int8 copy
    python tools/benchmark/track_speed.py --threads 2 --precisions fp32 \
        --trackers usot usot-mobilenetv2 --crop-modes exact \
        --backends pytorch onnxruntime openvino \
        --onnx work_dirs/onnx work_dirs/onnx_int8

With ``--backends`` the USOT models are also exported (``mmusot-export``'s
graphs of the same weights) and tracked by :mod:`mmusot.runtime`; the "vs
PyTorch" column is their speed-up over the PyTorch row of the same model.

Targets (a benchmark, not a test): on CPU USOT at >= 1.5x the fps of
SiamRPN++; on an H100 >= 200 fps; the ONNX Runtime tracker at >= 2x the
PyTorch tracker's fps for USOT-MobileNetV2, >= 1.3x for ResNet-50.
"""

import argparse
import copy
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch

from mmusot.tracking import CROP_MODES

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
USOT_CONFIG = osp.join(REPO, 'configs', 'usot', '_base_', 'usot_r50.py')
USOT_MOBILENET_CONFIG = osp.join(
    REPO, 'configs', 'usot', '_base_', 'usot_mobilenetv2.py'
)
USOT_MOBILENET = 'USOT-MobileNetV2'
SIAMRPN_CONFIG = (
    'sot/siamese_rpn/siamese-rpn_r50_8xb28-20e_imagenetvid-'
    'imagenetdet-coco_base.py'
)
SOT_EVAL = osp.join(osp.dirname(REPO), 'shared', 'data', 'sot_eval')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--source',
        default='book',
        help='a sequence folder name under shared/data/sot_eval, a path to '
        'an OTB-style sequence, or "synthetic" (640x480 frames with a '
        'moving textured square). Defaults to "book" (640x480) when '
        'present, else synthetic.',
    )
    parser.add_argument(
        '--frames',
        type=int,
        default=60,
        help='frames per run, init frame included',
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=5,
        help='tracked frames not timed after init',
    )
    parser.add_argument(
        '--device',
        default=None,
        help='cpu, cuda, cuda:1 ... (default: cuda if available)',
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch default)',
    )
    parser.add_argument(
        '--precisions',
        nargs='+',
        default=['fp32', 'amp'],
        choices=['fp32', 'amp'],
    )
    parser.add_argument(
        '--trackers',
        nargs='+',
        default=['usot', 'usot-mobilenetv2', 'siamrpn'],
        choices=['usot', 'usot-mobilenetv2', 'siamrpn'],
    )
    parser.add_argument(
        '--backends',
        '--backend',
        nargs='+',
        default=['pytorch'],
        choices=['pytorch', 'onnxruntime', 'openvino', 'opencv'],
        help='USOT backends to time: PyTorch, and the mmusot-export graphs '
        'of the same weights on ONNX Runtime / OpenVINO (mmusot.runtime, '
        'fp32 only). Defaults to pytorch.',
    )
    parser.add_argument(
        '--onnx',
        nargs='+',
        default=[],
        metavar='DIR',
        help='more mmusot-export folders to time (e.g. an int8 copy from '
        'tools/deploy/quantize.py), on each runtime backend of --backends '
        '(onnxruntime when none); rows named after the folder',
    )
    parser.add_argument(
        '--crop-modes',
        nargs='+',
        default=list(CROP_MODES),
        choices=list(CROP_MODES),
        help='USOT test_cfg.crop_mode values to time (default: all)',
    )
    return parser.parse_args()


def load_frames(
    source: str, num: int
) -> Tuple[List[np.ndarray], List[float], str]:
    """Frames (HWC uint8 BGR), the first box (xyxy) and the source name."""
    seq_dir = source if osp.isdir(source) else osp.join(SOT_EVAL, source)
    if source != 'synthetic' and osp.isdir(seq_dir):
        names = sorted(os.listdir(osp.join(seq_dir, 'img')))[:num]
        frames = [cv2.imread(osp.join(seq_dir, 'img', n)) for n in names]
        with open(osp.join(seq_dir, 'groundtruth_rect.txt')) as f:
            x, y, w, h = (
                float(v)
                for v in f.readline()
                .replace('\t', ',')
                .replace(' ', ',')
                .split(',')
                if v
            )
        return frames, [x, y, x + w, y + h], osp.basename(seq_dir)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 80, (480, 640, 3), dtype=np.uint8)
    texture = rng.integers(120, 255, (60, 60, 3), dtype=np.uint8)
    frames = []
    for t in range(num):
        frame = base.copy()
        x, y = 200 + 3 * t % 300, 150 + 2 * t % 200
        frame[y : y + 60, x : x + 60] = texture
        frames.append(frame)
    return frames, [200.0, 150.0, 260.0, 210.0], 'synthetic'


def mmtrack_config_dir() -> str:
    import mmtrack

    return osp.join(osp.dirname(mmtrack.__file__), '.mim', 'configs')


def usot_name(crop_mode: str) -> str:
    return f'USOT/{crop_mode}'


def build_models(names: List[str]) -> Dict[str, torch.nn.Module]:
    """USOT from configs/usot/_base_/usot_{r50,mobilenetv2}.py; SiamRPN++
    from mmtrack (random weights, no per-parameter initialisation log)."""
    from mmengine.config import Config
    from mmtrack.registry import MODELS
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    import mmusot  # noqa: F401  (registers USOT)
    from mmusot.apis import quiet_init_weights

    models = {}
    for name, key, config in (
        (usot_name('exact'), 'usot', USOT_CONFIG),
        (USOT_MOBILENET, 'usot-mobilenetv2', USOT_MOBILENET_CONFIG),
    ):
        if key in names:
            cfg = Config.fromfile(config)
            cfg.model.backbone.init_cfg = None
            models[name] = MODELS.build(cfg.model)
    if 'siamrpn' in names:
        cfg = Config.fromfile(osp.join(mmtrack_config_dir(), SIAMRPN_CONFIG))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model)
        quiet_init_weights(model)  # reset_parameters() of neck/head
        models['SiamRPN++'] = model
    return models


def make_sample(
    frame_id: int, box: List[float], hw: Tuple[int, int], device: torch.device
):
    from mmengine.structures import InstanceData
    from mmtrack.structures import TrackDataSample

    sample = TrackDataSample()
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([box], dtype=torch.float32, device=device)
    )
    sample.set_metainfo(dict(frame_id=frame_id, img_shape=hw, ori_shape=hw))
    return sample


def time_trackers(
    models: Dict[str, torch.nn.Module],
    frames: List[torch.Tensor],
    box: List[float],
    device: torch.device,
    warmup: int,
    autocast: Optional[torch.dtype],
    runtimes: Optional[Dict[str, object]] = None,
    frames_np: Optional[List[np.ndarray]] = None,
) -> Dict[str, object]:
    """Per-frame seconds of each model's ``predict`` after init/warm-up.

    The trackers take turns frame by frame, so a shared, busy machine
    slows them alike. A tracker that raises is dropped: its entry becomes
    the error message.
    """
    hw = tuple(frames[0].shape[-2:])
    samples = [make_sample(i, box, hw, device) for i in range(len(frames))]
    sync: Callable[[], None] = (
        torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    )
    runtimes = runtimes or {}
    times: Dict[str, object] = {name: [] for name in [*models, *runtimes]}
    xywh = [box[0], box[1], box[2] - box[0], box[3] - box[1]]
    with (
        torch.inference_mode(),
        torch.autocast(
            device.type,
            dtype=autocast or torch.float32,
            enabled=autocast is not None,
        ),
    ):
        for i, (frame, sample) in enumerate(zip(frames, samples)):
            for name, model in models.items():
                if isinstance(times[name], str):
                    continue
                try:
                    sync()
                    start = time.perf_counter()
                    out = model.predict(dict(img=frame), [sample])
                    # the box must be computed: wait for the device
                    out[0].pred_track_instances.bboxes.sum()
                    sync()
                except Exception as err:  # report it, time the others
                    times[name] = f'failed: {type(err).__name__}: {err}'
                    continue
                if i > warmup:
                    times[name].append(time.perf_counter() - start)
            for name, tracker in runtimes.items():
                if isinstance(times[name], str):
                    continue
                try:
                    start = time.perf_counter()
                    if i == 0:
                        tracker.init(frames_np[0], xywh)
                    else:
                        tracker.track(frames_np[i])
                except Exception as err:  # report it, time the others
                    times[name] = f'failed: {type(err).__name__}: {err}'
                    continue
                if i > warmup:
                    times[name].append(time.perf_counter() - start)
    return times


def build_runtimes(
    models: Dict[str, torch.nn.Module],
    backends: List[str],
    crop_modes: List[str],
    threads: Optional[int],
    out_dir: str,
) -> Dict[str, object]:
    """The USOT models exported (same weights, calibrated BN) and loaded
    in :mod:`mmusot.runtime`, one tracker per backend and crop mode."""
    from mmusot.apis.onnx_export import export_model
    from mmusot.runtime import Tracker

    runtimes = {}
    for name, model in models.items():
        if not name.startswith('USOT') or name == usot_name('official'):
            continue
        base = 'USOT' if name == usot_name('exact') else name
        folder = osp.join(out_dir, base)
        export_model(model.cpu(), folder)
        for backend in backends:
            for crop_mode in crop_modes:
                label = f'{base}/{crop_mode}' if base == 'USOT' else base
                if base != 'USOT' and crop_mode != 'exact':
                    continue
                runtimes[f'{label} [{backend}]'] = Tracker(
                    folder,
                    backend,
                    threads,
                    test_cfg=dict(crop_mode=crop_mode),
                )
    return runtimes


def pytorch_name(name: str) -> str:
    """The PyTorch row a runtime row compares with."""
    return name.split(' [')[0]


def calibrate_batchnorm(
    model: torch.nn.Module,
    frames: List[torch.Tensor],
    box: List[float],
    device: torch.device,
) -> None:
    """Give random-weight BN layers running statistics of real inputs.

    With random convolutions and the default running statistics (mean 0,
    var 1), activations of un-normalised 0-255 inputs blow up through 50
    layers (SiamRPN++ then yields NaN boxes). A few frames tracked in
    training mode, with cumulative BN averaging, fix the statistics; the
    timed runs are in eval mode.
    """
    bns = [
        m
        for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    hw = tuple(frames[0].shape[-2:])
    with torch.no_grad():
        for i, frame in enumerate(frames[:3]):
            model.predict(dict(img=frame), [make_sample(i, box, hw, device)])
    model.eval()


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    )
    frames_np, box, source = load_frames(args.source, args.frames)
    frames = [
        torch.from_numpy(f).permute(2, 0, 1).float()[None, None].to(device)
        for f in frames_np
    ]
    models = build_models(args.trackers)
    for model in models.values():
        model.to(device)
        calibrate_batchnorm(model, frames, box, device)
    usot = models.pop(usot_name('exact'), None)
    if usot is not None:
        # same weights and statistics, one model per crop mode
        for crop_mode in args.crop_modes:
            model = usot if crop_mode == 'exact' else copy.deepcopy(usot)
            model.test_cfg.update(crop_mode=crop_mode)
            models[usot_name(crop_mode)] = model
    amp_dtype = torch.float16 if device.type == 'cuda' else torch.bfloat16
    runtime_backends = [b for b in args.backends if b != 'pytorch']
    runtimes = {}
    if runtime_backends:
        tmp = tempfile.mkdtemp(prefix='mmusot_track_speed_')
        runtimes = build_runtimes(
            models, runtime_backends, args.crop_modes, args.threads, tmp
        )
        for model in models.values():
            model.to(device)
    extra = set()
    for folder in args.onnx:
        from mmusot.runtime import Tracker

        for backend in runtime_backends or ['onnxruntime']:
            name = f'{osp.basename(osp.normpath(folder))} [{backend}]'
            runtimes[name] = Tracker(folder, backend, args.threads)
            extra.add(name)

    if usot is not None:
        params = sum(p.numel() for p in usot.parameters())
        print(f'USOT parameters: {params / 1e6:.2f} M ({params:,})')
    print(
        f'device: {device}'
        + (
            f' ({torch.cuda.get_device_name(device)})'
            if device.type == 'cuda'
            else f' ({torch.get_num_threads()} threads)'
        )
        + f'; frames: {len(frames)} of '
        f'{frames_np[0].shape[1]}x{frames_np[0].shape[0]} '
        f'({source}), warm-up {args.warmup}'
    )

    rows = []
    for precision in args.precisions:
        autocast = None if precision == 'fp32' else amp_dtype
        label = (
            'fp32'
            if autocast is None
            else f'amp ({str(amp_dtype).replace("torch.", "")})'
        )
        times = time_trackers(
            models,
            frames,
            box,
            device,
            args.warmup,
            autocast,
            runtimes if autocast is None else None,
            frames_np,
        )
        for name, samples in times.items():
            row_label = 'as exported' if name in extra else label
            if isinstance(samples, str) or not samples:
                rows.append(
                    (name, row_label, None, str(samples or 'no frame')[:90])
                )
                continue
            rows.append(
                (
                    name,
                    row_label,
                    statistics.median(samples),
                    f'{len(samples)} frames, min {min(samples) * 1e3:.1f} ms',
                )
            )

    print()
    header = (
        f'{"tracker":<32} {"precision":<16} {"median ms":>10} '
        f'{"fps":>8} {"vs SiamRPN++":>13} {"vs PyTorch":>11}  note'
    )
    print(header)
    print('-' * len(header))
    reference = {label: m for n, label, m, _ in rows if n == 'SiamRPN++' and m}
    medians = {(n, label): m for n, label, m, _ in rows}
    for name, label, median, note in rows:
        if median is None:
            print(
                f'{name:<32} {label:<16} {"-":>10} {"-":>8} {"-":>13} '
                f'{"-":>11}  {note}'
            )
            continue
        ratio = reference.get(label)
        ratio = f'{ratio / median:.2f}x' if ratio else '-'
        torch_median = medians.get((pytorch_name(name), label))
        speedup = (
            f'{torch_median / median:.2f}x'
            if torch_median and name != pytorch_name(name)
            else '-'
        )
        print(
            f'{name:<32} {label:<16} {median * 1e3:>10.1f} '
            f'{1.0 / median:>8.2f} {ratio:>13} {speedup:>11}  {note}'
        )


if __name__ == '__main__':
    main()
