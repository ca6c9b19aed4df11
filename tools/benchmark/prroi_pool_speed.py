# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Speed of mmusot's precise RoI pooling (forward, and forward+backward).

    python tools/benchmark/prroi_pool_speed.py [--rois 64] [--device cpu]

Defaults mirror a USOT training step: 256-channel 31x31 search features,
one RoI per feature map, 7x7 bins.
"""

import argparse
import statistics
import time

import torch

from mmusot.models.layers import prroi_pool2d


def timed(fn, device: str, repeats: int) -> float:
    """Median wall time of ``fn`` in milliseconds, after warm-up."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rois', type=int, default=64)
    parser.add_argument('--channels', type=int, default=256)
    parser.add_argument('--size', type=int, default=31)
    parser.add_argument('--bins', type=int, default=7)
    parser.add_argument('--repeats', type=int, default=50)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(
        args.rois, args.channels, args.size, args.size, generator=gen
    ).to(args.device)
    xy = torch.rand(args.rois, 2, generator=gen) * (args.size - 8)
    wh = torch.rand(args.rois, 2, generator=gen) * 6 + 1
    rois = torch.cat([xy, xy + wh], dim=1).to(args.device)
    forward_ms = timed(
        lambda: prroi_pool2d(feats, rois, args.bins), args.device, args.repeats
    )
    feats.requires_grad_(True)

    def forward_backward():
        prroi_pool2d(feats, rois, args.bins).sum().backward()

    backward_ms = timed(forward_backward, args.device, args.repeats)
    print(
        f'PrRoIPool {args.rois} RoIs on {args.rois}x{args.channels}x'
        f'{args.size}x{args.size} features, {args.bins}x{args.bins} bins, '
        f'{args.device} ({torch.get_num_threads()} threads):'
    )
    print(f'  forward            {forward_ms:8.2f} ms')
    print(f'  forward + backward {backward_ms:8.2f} ms')


if __name__ == '__main__':
    main()
