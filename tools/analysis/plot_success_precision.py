# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Success/precision plots and a results table from per-sequence results.

Each tracker is a folder of OTB result files, ``<sequence>.txt`` with one
``x,y,w,h`` line per frame: what ``tools/test.py`` writes with
``--cfg-options test_evaluator.saved_track_res_path=DIR``, what
``tools/benchmark/compare_trackers.py`` caches, or any OTB toolkit output.
They are scored against an OTB-style folder by mmtrack's ``SOTMetric``
(:func:`mmusot.evaluation.evaluate_ope`).

Examples::

    python tools/analysis/plot_success_precision.py \\
        USOT=work_dirs/usot_res SiamRPN++=work_dirs/siamrpn_res \\
        --out work_dirs/plots/otb.png --table work_dirs/plots/otb.md
    python tools/analysis/plot_success_precision.py results/* \\
        --data-root /data/my_clips --sequences clip1 clip2 --max-frames 100

Without ``--sequences`` the sequences that every tracker has results for
are used (the others are named in the output).
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_DATA_ROOT = osp.join(osp.dirname(REPO), 'shared', 'data', 'sot_eval')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Success/precision plots of OTB-style result folders '
        "(scored by mmtrack's SOTMetric)."
    )
    parser.add_argument(
        'results',
        nargs='+',
        help='result folders, NAME=DIR or DIR (the name is then the '
        "folder's name)",
    )
    parser.add_argument(
        '--data-root',
        default=DEFAULT_DATA_ROOT,
        help='OTB-style sequences (<Seq>/img, <Seq>/groundtruth_rect.txt);'
        ' default: ../shared/data/sot_eval beside the repository',
    )
    parser.add_argument('--sequences', nargs='+', help='sequences to use')
    parser.add_argument(
        '--max-frames',
        type=int,
        help='score only the first N frames of each sequence',
    )
    parser.add_argument(
        '--out',
        default='work_dirs/success_precision.png',
        help='plot file (PNG)',
    )
    parser.add_argument('--table', help='also write a Markdown table here')
    parser.add_argument('--csv', help='also write a CSV table here')
    parser.add_argument('--title', help='plot title')
    parser.add_argument(
        '--only-eval-visible',
        action='store_true',
        help="SOTMetric's only_eval_visible (LaSOT protocol)",
    )
    return parser.parse_args(argv)


def parse_result_specs(specs: List[str]) -> List[Tuple[str, str]]:
    """``NAME=DIR`` / ``DIR`` → ``(name, folder)``; folders must exist."""
    pairs = []
    for spec in specs:
        name, sep, folder = spec.partition('=')
        if not sep:
            folder = spec
            name = osp.basename(osp.normpath(spec))
        if not osp.isdir(folder):
            raise FileNotFoundError(f'result folder not found: {folder}')
        if name in [n for n, _ in pairs]:
            raise ValueError(f'tracker name {name!r} given twice')
        pairs.append((name, folder))
    return pairs


def common_sequences(
    folders: List[Tuple[str, str]], available: List[str]
) -> Tuple[List[str], List[str]]:
    """Sequences with a result file in every folder, and the others."""
    used, skipped = [], []
    for name in available:
        if all(
            osp.isfile(osp.join(folder, f'{name}.txt'))
            for _, folder in folders
        ):
            used.append(name)
        else:
            skipped.append(name)
    return used, skipped


def main(argv: Optional[List[str]] = None) -> list:
    args = parse_args(argv)
    import matplotlib.pyplot as plt

    from mmusot.evaluation import (
        evaluate_ope,
        list_sequences,
        load_sequences,
        ope_markdown_table,
        ope_rows,
        plot_success_precision,
        read_result_folder,
        write_csv,
        write_markdown,
    )

    try:
        folders = parse_result_specs(args.results)
        sequences = args.sequences
        if sequences is None:
            available = list_sequences(args.data_root)
            sequences, skipped = common_sequences(folders, available)
            if not sequences:
                raise FileNotFoundError(
                    f'no sequence of {args.data_root} has a result file in '
                    'every result folder'
                )
            if skipped:
                print(f'sequences without results (left out): {skipped}')
        infos = load_sequences(args.data_root, sequences, args.max_frames)
        results = [
            evaluate_ope(
                read_result_folder(folder, infos),
                infos,
                name,
                only_eval_visible=args.only_eval_visible,
            )
            for name, folder in folders
        ]
    except (FileNotFoundError, ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
    fig = plot_success_precision(results, args.out, args.title)
    plt.close(fig)
    table = ope_markdown_table(results)
    print(table, end='')
    print(f'plot: {args.out}')
    if args.table:
        write_markdown(args.table, table)
        print(f'table: {args.table}')
    if args.csv:
        write_csv(args.csv, ope_rows(results))
        print(f'csv: {args.csv}')
    return results


if __name__ == '__main__':
    main()
