# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Frames per second of the whole pseudo-label conversion, per worker.

Times :func:`process_video` (decode, JPEG write, flow with adaptive T_f,
candidates, DP, filling, quality, files) on real videos with one worker
and OpenCV's default threads (or ``--threads``). Target: >= 25 frames/s
per worker on a 2-core machine at the default settings.

Example::

    python tools/benchmark/pseudo_label_speed.py ../shared/data/unlabeled \\
        --max-videos 10 --dis-preset medium fast --work-size 384 640
"""

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace

import cv2

from mmusot.pseudo_labels import (
    PseudoLabelSettings,
    discover_sources,
    process_video,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('input', help='folder of videos / frame folders')
    parser.add_argument('--max-videos', type=int, default=10)
    parser.add_argument('--max-frames', type=int, default=None)
    parser.add_argument('--flow', default='dis')
    parser.add_argument('--dis-preset', nargs='+', default=['medium'])
    parser.add_argument(
        '--work-size',
        type=int,
        nargs='+',
        default=[384, 640],
        help='H W pairs, e.g. 384 640 192 320',
    )
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='cv2.setNumThreads (default: OpenCV default)',
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    sources = discover_sources(args.input)[: args.max_videos]
    sizes = list(zip(args.work_size[::2], args.work_size[1::2]))
    print(f'{len(sources)} videos, cv2 threads {cv2.getNumThreads()}')
    for preset in args.dis_preset if args.flow == 'dis' else [None]:
        for size in sizes:
            s = replace(
                PseudoLabelSettings(),
                flow=args.flow,
                flow_kwargs=dict(preset=preset) if preset else {},
                work_size=size,
                max_frames=args.max_frames,
            )
            out = tempfile.mkdtemp(prefix='pl_speed_')
            frames, t0 = 0, time.perf_counter()
            try:
                for src in sources:
                    frames += process_video(src, out, s)['num_frames']
            finally:
                shutil.rmtree(out, ignore_errors=True)
            dt = time.perf_counter() - t0
            print(
                f'flow={args.flow} preset={preset} work={size[0]}x'
                f'{size[1]}: {frames} frames in {dt:.1f} s = '
                f'{frames / dt:.1f} frames/s per worker'
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
