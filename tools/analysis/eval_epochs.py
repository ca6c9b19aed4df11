# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Evaluate every ``epoch_*.pth`` of a training run with a test config.

Each checkpoint is tested exactly as ``tools/test.py TEST_CONFIG CKPT``
tests it (:func:`mmusot.engine.load_config` + ``build_runner``, then
``runner.test()``), and the metrics (success / norm. precision / precision
for OPE configs, EAO / accuracy / robustness for VOT configs) go into one
table, one row per epoch, as Markdown and CSV.

Resumable: each epoch's metrics are kept in ``<out-dir>/epoch_N.json``
and not computed again (unless the checkpoint file changed, or with
``--force``), so an interrupted run, or a run while training goes on,
continues where it stopped.

Examples::

    python tools/analysis/eval_epochs.py work_dirs/usot_mbv2 \\
        configs/usot/usot_r50_test-otb-folder.py
    python tools/analysis/eval_epochs.py WORK_DIR TEST_CONFIG \\
        --epochs 10 20 30 --cfg-options test_dataloader.dataset.max_frames=100

Outputs (default ``<WORK_DIR>/eval_epochs/<config name>/``): ``epoch_N.json``
per epoch, ``results.md``, ``results.csv``, and each test run's logs in
``epoch_N/``.
"""

import argparse
import json
import os
import os.path as osp
import re
import sys
import time
from itertools import count
from typing import Dict, List, Optional, Tuple

CHECKPOINT_PATTERN = re.compile(r'^epoch_(\d+)\.pth$')
#: Prefix of mmtrack's SOTMetric results, left out of the column names.
METRIC_PREFIX = 'sot/'
#: Distinguishes runs started within the same second.
_RUN_IDS = count()
#: Decimals in the Markdown table (EAO needs 3).
TABLE_DECIMALS = 3


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(
        description='Evaluate every epoch_*.pth of a work dir with a test '
        'config; one table of metrics per epoch (Markdown + CSV).'
    )
    parser.add_argument('work_dir', help='training work dir (epoch_*.pth)')
    parser.add_argument('config', help='test config (as for tools/test.py)')
    parser.add_argument(
        '--out-dir',
        help='results (default: WORK_DIR/eval_epochs/<config name>)',
    )
    parser.add_argument(
        '--epochs', type=int, nargs='+', help='only these epochs'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='test config overrides, as for tools/test.py',
    )
    parser.add_argument(
        '--force',
        action='store_true',
        help='evaluate again the epochs already evaluated',
    )
    parser.add_argument(
        '--plot',
        action='store_true',
        help='also draw the learning curve, learning_curve.png (needs '
        'matplotlib)',
    )
    return parser.parse_args(argv)


def find_checkpoints(
    work_dir: str, epochs: Optional[List[int]] = None
) -> List[Tuple[int, str]]:
    """``(epoch, path)`` of the ``epoch_N.pth`` files, by epoch.

    Raises:
        FileNotFoundError: no work dir, no checkpoint, or a requested
            epoch without checkpoint.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    found = {}
    for name in os.listdir(work_dir):
        match = CHECKPOINT_PATTERN.match(name)
        if match and osp.isfile(osp.join(work_dir, name)):
            found[int(match.group(1))] = osp.join(work_dir, name)
    if epochs is not None:
        missing = sorted(set(epochs) - set(found))
        if missing:
            raise FileNotFoundError(
                f'{work_dir}: no checkpoint for epoch(s) {missing}'
            )
        found = {e: found[e] for e in epochs}
    if not found:
        raise FileNotFoundError(f'no epoch_*.pth checkpoint in {work_dir}')
    return sorted(found.items())


def checkpoint_stamp(path: str) -> dict:
    """What identifies a checkpoint file's content cheaply."""
    stat = os.stat(path)
    return dict(size=stat.st_size, mtime=int(stat.st_mtime))


def evaluate_checkpoint(
    config: str,
    checkpoint: str,
    work_dir: str,
    cfg_options: Optional[dict] = None,
) -> Dict[str, float]:
    """``tools/test.py CONFIG CHECKPOINT``: the metrics of one checkpoint.

    Args:
        config (str): the test config.
        checkpoint (str): the checkpoint (``load_from``).
        work_dir (str): the test run's work dir (logs).
        cfg_options (dict, optional): ``--cfg-options``.

    Returns:
        dict[str, float]: ``runner.test()``'s metrics.
    """
    from mmusot.engine import build_runner, load_config

    cfg = load_config(config, cfg_options, 'none', work_dir)
    cfg.load_from = checkpoint
    # A fresh name per run: mmengine keeps loggers/visualizers by name.
    stem = osp.splitext(osp.basename(checkpoint))[0]
    stamp = time.strftime('%Y%m%d_%H%M%S')
    cfg.experiment_name = f'eval_{stem}_{stamp}_{next(_RUN_IDS)}'
    runner = build_runner(cfg, config)
    metrics = runner.test()
    return {key: float(value) for key, value in metrics.items()}


def load_record(
    path: str, stamp: dict, config: str, cfg_options: Optional[dict]
) -> Optional[dict]:
    """A saved epoch record, if it is for this checkpoint file, this test
    config and these overrides (other ones: evaluate again)."""
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    same = (
        record.get('checkpoint_stamp') == stamp
        and record.get('config') == osp.abspath(config)
        and record.get('cfg_options') == json.loads(json.dumps(cfg_options))
    )
    return record if same else None


def save_record(path: str, record: dict) -> None:
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def table_rows(records: List[dict]) -> List[dict]:
    """One row per epoch: ``epoch`` then the metrics (prefix dropped)."""
    rows = []
    for record in records:
        row = dict(epoch=record['epoch'])
        for key, value in record['metrics'].items():
            name = (
                key[len(METRIC_PREFIX) :]
                if key.startswith(METRIC_PREFIX)
                else key
            )
            row[name] = value
        rows.append(row)
    return rows


def plot_curve(rows: List[dict], path: str, title: str) -> None:
    """Each metric (in %) along the epochs, one line each, as a PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    epochs = [row['epoch'] for row in rows]
    names = [k for k in rows[0] if k != 'epoch']
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name in names:
        values = [row.get(name, float('nan')) for row in rows]
        ax.plot(epochs, values, marker='o', label=name)
    ax.set_xlabel('epoch')
    ax.set_ylabel('metric')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            sys.exit('error: --plot needs matplotlib (pip install matplotlib)')
    from mmusot.evaluation import markdown_table, write_csv, write_markdown
    from mmusot.utils.safe_load import CheckpointLoadError

    if not osp.isfile(args.config):
        sys.exit(f'error: config file not found: {args.config}')
    try:
        checkpoints = find_checkpoints(args.work_dir, args.epochs)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    config_name = osp.splitext(osp.basename(args.config))[0]
    out_dir = args.out_dir or osp.join(
        args.work_dir, 'eval_epochs', config_name
    )
    os.makedirs(out_dir, exist_ok=True)
    records = []
    for i, (epoch, path) in enumerate(checkpoints, start=1):
        prefix = f'[{i}/{len(checkpoints)}] {osp.basename(path)}'
        record_file = osp.join(out_dir, f'epoch_{epoch}.json')
        stamp = checkpoint_stamp(path)
        record = (
            None
            if args.force
            else load_record(record_file, stamp, args.config, args.cfg_options)
        )
        if record is not None:
            print(f'{prefix}: already evaluated ({record_file})', flush=True)
        else:
            print(f'{prefix}: evaluating ...', flush=True)
            start = time.perf_counter()
            try:
                metrics = evaluate_checkpoint(
                    args.config,
                    path,
                    osp.join(out_dir, f'epoch_{epoch}'),
                    args.cfg_options,
                )
            except CheckpointLoadError as err:
                sys.exit(f'error: {err}')
            record = dict(
                epoch=epoch,
                checkpoint=osp.abspath(path),
                checkpoint_stamp=stamp,
                config=osp.abspath(args.config),
                cfg_options=args.cfg_options,
                metrics=metrics,
                seconds=time.perf_counter() - start,
            )
            save_record(record_file, record)
            shown = ', '.join(f'{k} {v:.3f}' for k, v in metrics.items())
            print(f'{prefix}: {shown}', flush=True)
        records.append(record)
    rows = table_rows(records)
    table = markdown_table(rows, decimals=TABLE_DECIMALS)
    text = (
        f'# {config_name}: metrics per epoch\n\n'
        f'Checkpoints: `{args.work_dir}`; test config: `{args.config}`.\n\n'
        + table
    )
    metric_names = [k for k in rows[0] if k != 'epoch']
    if metric_names:
        first = metric_names[0]
        best = max(rows, key=lambda r: r.get(first, float('-inf')))
        text += f'\nBest {first}: epoch {best["epoch"]} ({best[first]:.3f}).\n'
    write_markdown(osp.join(out_dir, 'results.md'), text)
    write_csv(osp.join(out_dir, 'results.csv'), rows)
    print(text, end='')
    written = f'{out_dir}/results.md, results.csv'
    if args.plot:
        plot_curve(
            rows,
            osp.join(out_dir, 'learning_curve.png'),
            f'{args.work_dir} ({config_name})',
        )
        written += ', learning_curve.png'
    print(f'\nwritten: {written}')
    return rows


if __name__ == '__main__':
    main()
