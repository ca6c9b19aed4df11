# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Command-line plumbing shared by the pseudo-label converters.

Used by :mod:`mmusot.cli.videos_to_pseudo_sot` and
:mod:`mmusot.cli.datasets_to_pseudo_sot`. Every converter: ``--workers
N`` processes, ``--shard i/n`` independent shards (cluster array jobs),
resume by re-running with the same arguments, ``--merge-only`` to write
the infos file once all shards are done, a progress bar and a summary at
the end. A run holds a lock file in the output folder (per shard), so a
second run on the same videos stops at once, naming the first one's pid.
Boxes are checked before they are written and again when the infos file
is merged; ``--fix`` filters bad tracks instead of failing.
"""

import argparse
import os
import sys
import time
from dataclasses import replace
from typing import List, Optional

from mmusot.pseudo_labels import (
    FLOW_BACKENDS,
    PRESETS,
    PseudoLabelError,
    PseudoLabelSettings,
    VideoSource,
    convert_sources,
    format_summary,
    load_records,
    merge,
    parse_shard,
    preset_settings,
    select_shard,
    summarize,
)

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover
    tqdm = None


def add_common_args(
    parser: argparse.ArgumentParser,
    default_preset: str = 'default',
    default_shot_cut: Optional[float] = None,
) -> None:
    """Add the arguments shared by all converters to ``parser``.

    Args:
        parser (argparse.ArgumentParser): the converter's parser.
        default_preset (str): the ``--preset`` default. Defaults to
            ``'default'``; ``''`` lets the caller pick one per layout.
        default_shot_cut (float, optional): the ``--shot-cut`` default
            (None: videos are not split at shot cuts unless asked).
    """
    parser.add_argument('out', help='output dataset root (data_root)')
    parser.add_argument(
        '--name', default='pseudo', help='infos file is <out>/<name>_infos.txt'
    )
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes (default 1)'
    )
    parser.add_argument(
        '--shard',
        default='0/1',
        help='i/n: process every n-th video from the i-th; '
        'run --merge-only when all shards are done',
    )
    parser.add_argument(
        '--merge-only',
        action='store_true',
        help='only write the infos file and summary',
    )
    parser.add_argument(
        '--no-merge',
        action='store_true',
        help='do not merge at the end of this shard',
    )
    parser.add_argument(
        '--retry-failed',
        action='store_true',
        help='redo videos recorded as failed',
    )
    parser.add_argument(
        '--preset',
        default=default_preset,
        choices=sorted(PRESETS),
        help='per-dataset settings of the official '
        'preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py',
    )
    parser.add_argument(
        '--flow',
        default='dis',
        choices=sorted(FLOW_BACKENDS),
        help='optical flow backend',
    )
    parser.add_argument(
        '--dis-preset',
        default='medium',
        choices=['ultrafast', 'fast', 'medium'],
    )
    parser.add_argument(
        '--work-size',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='flow working resolution (default 384 640)',
    )
    parser.add_argument(
        '--max-frames',
        type=int,
        default=None,
        help='use only the first frames of every video',
    )
    parser.add_argument(
        '--reversed-interpolation',
        action='store_true',
        help="official code's reversed interpolation",
    )
    parser.add_argument(
        '--keep-filtered-frames',
        action='store_true',
        help='keep decoded frames of filtered videos',
    )
    on = f'on, {default_shot_cut}' if default_shot_cut else 'off'
    parser.add_argument(
        '--shot-cut',
        type=float,
        default=default_shot_cut,
        metavar='D',
        help='split edited videos at shot cuts (frames whose colour '
        'histogram is farther than D, in (0, 1], from the previous '
        f"frame's); each shot becomes its own track (default: {on})",
    )
    parser.add_argument(
        '--no-shot-cut',
        action='store_true',
        help='never split videos (the official behaviour)',
    )
    parser.add_argument('--jpeg-quality', type=int, default=95)
    parser.add_argument(
        '--fix',
        action='store_true',
        help='filter a track with an unusable box (not finite, zero or '
        'negative size, outside the frame) and leave tracks whose '
        'annotation file is bad out of the infos file, counting them in '
        'the summary; default: such a video fails and a bad file at merge '
        'stops the merge, naming the file and line',
    )
    parser.add_argument('--quiet', action='store_true')


def report_error(err: PseudoLabelError) -> int:
    """Print ``err`` for the user; returns its exit code."""
    print(f'error: {err}', file=sys.stderr)
    return err.exit_code


def settings_from_args(args: argparse.Namespace) -> PseudoLabelSettings:
    """The settings the parsed common arguments ask for.

    Args:
        args (argparse.Namespace): from a parser given
            :func:`add_common_args`.

    Returns:
        PseudoLabelSettings: the preset with the overrides applied.
    """
    s = preset_settings(args.preset)
    over = dict(
        flow=args.flow,
        flow_kwargs=(
            dict(preset=args.dis_preset) if args.flow == 'dis' else {}
        ),
        reversed_interpolation=args.reversed_interpolation,
        keep_filtered_frames=args.keep_filtered_frames,
        jpeg_quality=args.jpeg_quality,
        shot_cut=None if args.no_shot_cut else args.shot_cut,
    )
    if args.work_size:
        over['work_size'] = tuple(args.work_size)
    if args.max_frames is not None:
        over['max_frames'] = args.max_frames
    return replace(s, **over)


def run_conversion(
    args: argparse.Namespace,
    sources: List[VideoSource],
    extra: Optional[dict] = None,
) -> int:
    """Convert this shard's sources, merge, print the summary.

    Args:
        args (argparse.Namespace): the parsed common arguments.
        sources (list[VideoSource]): every video of the dataset (the
            shard's share is picked here).
        extra (dict, optional): recorded with the settings (input layout
            and root).

    Returns:
        int: the process exit code (0; 1 when a listed track's annotation
        file is bad at merge, without ``--fix``; 2 on a settings mismatch;
        3 when another converter is writing the same videos).
    """
    index, count = parse_shard(args.shard)
    names = [s.name for s in sources]
    if args.merge_only:
        return _merge(args, names)
    try:
        settings = settings_from_args(args)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    mine = select_shard(sources, index, count)
    bar = None
    if tqdm is not None and not args.quiet:
        bar = tqdm(total=len(mine), unit='video', desc=f'shard {args.shard}')

    def on_record(rec, skipped):
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(
                ('skip ' if skipped else '') + rec['video'][-30:]
            )
        if rec['status'] == 'failed' and not skipped:
            msg = f'FAILED {rec["video"]}: {rec["reason"]}'
            (bar.write if bar is not None else print)(msg)

    t0 = time.perf_counter()
    try:
        convert_sources(
            mine,
            args.out,
            settings,
            args.workers,
            args.retry_failed,
            on_record,
            extra,
            shard=(index, count),
            fix=args.fix,
        )
    except PseudoLabelError as e:
        return report_error(e)
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    if count == 1 and not args.no_merge:
        return _merge(args, names, wall)
    else:
        mine_names = {s.name for s in mine}
        recs = [r for r in load_records(args.out) if r['video'] in mine_names]
        print(format_summary(summarize(recs), wall))
        print(
            f'shard {args.shard} done; when all shards are done run the '
            f'same command with --merge-only'
        )
    return 0


def _merge(
    args: argparse.Namespace, names: List[str], wall: Optional[float] = None
) -> int:
    """Merge, print the summary; 1 on a bad annotation file."""
    try:
        summary = merge(args.out, args.name, names, fix=args.fix)
    except PseudoLabelError as e:
        return report_error(e)
    print(format_summary(summary, wall))
    if wall is not None:
        print(f'infos: {os.path.join(args.out, args.name + "_infos.txt")}')
    return 0
