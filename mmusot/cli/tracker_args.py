# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""The tracker options shared by the toolkit commands.

``mmusot-vot-trax`` and ``mmusot-got10k`` run either a model (an mmtrack
SOT config, weights, device, config overrides), an exported USOT on the
torch-free runtime (:mod:`mmusot.runtime`: ``--onnx DIR`` written by
``mmusot-export``, ``--backend onnxruntime|openvino|opencv``) or an
OpenCV
tracker, with the same options and checks.

The backend switch (:func:`add_backend_args`, :func:`check_backend_args`,
:func:`build_runtime`) is shared with ``mmusot-track``:

* ``--backend pytorch`` (the default): the tracker is built from a config
  (and ``--checkpoint``) as before;
* ``--backend onnxruntime`` / ``openvino`` runs the folder given by
  ``--onnx DIR``, which is then required; ``--onnx DIR`` alone implies
  ``--backend onnxruntime``. The folder holds the network and its test
  settings: a config, ``--checkpoint`` or ``--allow-partial`` with it is
  a usage error, ``--cfg-options`` may only set
  ``model.test_cfg.KEY=VALUE`` (the runtime's ``test_cfg`` overrides),
  ``--device`` is ``cpu`` or ``cuda`` (ONNX Runtime with its CUDA
  provider) and ``--threads`` the runtime's inference threads.
"""

import argparse
from typing import Dict, List, Optional, Union

from mmusot.runtime.backends import RUNTIME_BACKENDS

#: ``--backend`` values: PyTorch, then the runtime's.
BACKENDS = ('pytorch',) + tuple(RUNTIME_BACKENDS)
#: The ``--cfg-options`` prefix the runtime backends take.
TEST_CFG_PREFIX = 'model.test_cfg.'
#: ``--device`` values of the runtime backends.
RUNTIME_DEVICES = ('cpu', 'cuda')


def add_tracker_args(parser: argparse.ArgumentParser) -> None:
    """``config``, ``--checkpoint``, ``--allow-partial``, ``--device``,
    ``--cfg-options``, ``--opencv``, ``--threads``, ``--backend`` and
    ``--onnx``."""
    parser.add_argument(
        'config',
        nargs='?',
        help='tracker config (file or package::path), for --backend '
        'pytorch; omit with --onnx or --opencv',
    )
    parser.add_argument(
        '--checkpoint', help='model weights (--backend pytorch only)'
    )
    add_allow_partial_arg(parser)
    parser.add_argument(
        '--device',
        default='cpu',
        help="cpu, cuda, cuda:N (default 'cpu'; the runtime backends: cpu "
        'or cuda)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='config overrides, as tools/test.py takes them (with --onnx: '
        'only model.test_cfg.KEY=VALUE)',
    )
    parser.add_argument(
        '--opencv',
        metavar='KIND',
        help='an OpenCV tracker (MIL, KCF, CSRT) instead of a model',
    )
    parser.add_argument(
        '--threads',
        type=int,
        help="CPU threads: torch's (default: torch's own) or the "
        "runtime's (default: all CPUs this process may use)",
    )
    add_backend_args(parser)


def add_allow_partial_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-partial``: load a checkpoint that does not fit the model."""
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help="load a checkpoint that does not fit the config's network "
        '(missing, unexpected or reshaped weights keep the initial values; '
        'for experts: by default such a checkpoint is an error)',
    )


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    """``--backend pytorch|onnxruntime|openvino|opencv`` and ``--onnx DIR``.

    Check them with :func:`check_backend_args` (which also resolves the
    default ``args.backend``)."""
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        help='what runs the tracker: pytorch (the config and --checkpoint), '
        'or the exported --onnx folder on onnxruntime, openvino or opencv '
        "(OpenCV's DNN module), without torch (default: pytorch, or "
        'onnxruntime when --onnx is given)',
    )
    parser.add_argument(
        '--onnx',
        metavar='DIR',
        help='an exported tracker, the folder written by mmusot-export '
        'CONFIG CHECKPOINT DIR; implies --backend onnxruntime unless '
        '--backend openvino is given (no config or --checkpoint then)',
    )


def runtime_test_cfg(
    options: Union[Dict[str, object], List[str], None],
) -> Dict[str, object]:
    """The runtime's ``test_cfg`` overrides from ``--cfg-options``.

    Args:
        options (dict | list[str] | None): the parsed options (mmengine's
            ``DictAction``) or the ``KEY=VALUE`` items.

    Returns:
        dict: ``{KEY: VALUE}`` of the ``model.test_cfg.KEY=VALUE`` items.

    Raises:
        ValueError: a key other than ``model.test_cfg.KEY`` (naming it), an
            unknown test setting or an invalid value.
    """
    if isinstance(options, (list, tuple)):
        bad = [o for o in options if '=' not in o]
        if bad:
            raise ValueError(f'--cfg-options takes KEY=VALUE items, got {bad}')
        options = cfg_options(list(options))
    options = options or {}
    other = [key for key in options if not key.startswith(TEST_CFG_PREFIX)]
    if other:
        raise ValueError(
            f'--cfg-options {", ".join(other)}: the runtime backends take '
            f'only {TEST_CFG_PREFIX}KEY=VALUE (the exported folder holds '
            'the network); other keys are for --backend pytorch'
        )
    test_cfg = {
        key[len(TEST_CFG_PREFIX) :]: value for key, value in options.items()
    }
    from mmusot.tracking import USOTTestConfig

    USOTTestConfig.from_cfg(test_cfg)  # unknown keys, invalid modes
    return test_cfg


def runtime_device_error(backend: str, device: str) -> Optional[str]:
    """Why ``device`` cannot run ``backend`` (a runtime backend), or None."""
    if device not in RUNTIME_DEVICES:
        return (
            f'--device {device}: --backend {backend} runs on cpu or cuda '
            '(one GPU, the first; cuda:N is for --backend pytorch)'
        )
    if backend in ('openvino', 'opencv') and device != 'cpu':
        return f'--backend {backend} runs on the CPU (--device cpu)'
    return None


def check_backend_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> None:
    """Resolve ``args.backend`` and check the options that go with it.

    ``--onnx`` without ``--backend`` is ``--backend onnxruntime``; without
    either the backend is ``pytorch``. A runtime backend needs ``--onnx``
    and refuses a config, ``--checkpoint``, ``--allow-partial``,
    ``--cfg-options`` other than ``model.test_cfg.KEY=VALUE`` and a device
    other than cpu / cuda; ``--backend pytorch`` refuses ``--onnx``
    (``parser.error`` for each). Reads the attributes ``args`` has of
    ``config``, ``checkpoint``, ``allow_partial``, ``cfg_options``,
    ``device`` and ``threads``.
    """
    if args.backend is None:
        args.backend = 'pytorch' if args.onnx is None else 'onnxruntime'
    if args.backend == 'pytorch':
        if args.onnx is not None:
            parser.error(
                '--onnx is for the runtime backends '
                f'({", ".join(RUNTIME_BACKENDS)}); --backend pytorch builds '
                'the tracker from a config and --checkpoint'
            )
        return
    if args.onnx is None:
        parser.error(
            f'--backend {args.backend} needs --onnx DIR, a folder written by '
            'mmusot-export CONFIG CHECKPOINT DIR'
        )
    for attr, option in (
        ('config', 'a config'),
        ('checkpoint', '--checkpoint'),
        ('allow_partial', '--allow-partial'),
    ):
        if getattr(args, attr, None):
            parser.error(
                f'{option} is for --backend pytorch; the exported folder '
                f'--onnx {args.onnx} holds the network and its settings'
            )
    threads = getattr(args, 'threads', None)
    if threads is not None and threads < 1:
        parser.error('--threads must be >= 1')
    error = runtime_device_error(args.backend, getattr(args, 'device', 'cpu'))
    if error:
        parser.error(error)
    try:
        runtime_test_cfg(getattr(args, 'cfg_options', None))
    except ValueError as err:
        parser.error(str(err))


def check_tracker_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> None:
    """Exactly one of a config, ``--onnx`` and ``--opencv``; the backend
    options (:func:`check_backend_args`); a device this machine has; sane
    ``--threads`` and ``--cfg-options`` (``parser.error`` otherwise)."""
    if args.opencv is not None and (
        args.backend is not None or args.onnx is not None
    ):
        parser.error('--opencv runs an OpenCV tracker: no --backend or --onnx')
    check_backend_args(parser, args)
    if args.backend == 'pytorch' and (args.config is None) == (
        args.opencv is None
    ):
        parser.error(
            'give either a config, --onnx DIR (an exported tracker) or '
            '--opencv KIND'
        )
    if args.backend == 'pytorch' and args.config is not None:
        from mmusot.apis.builder import DeviceError, check_device

        try:
            check_device(args.device)
        except DeviceError as err:
            parser.error(str(err))
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    bad = [o for o in args.cfg_options if '=' not in o]
    if bad:
        parser.error(f'--cfg-options takes KEY=VALUE items, got {bad}')


def cfg_options(items: List[str]) -> Optional[dict]:
    """``KEY=VALUE`` items parsed as mmengine's ``DictAction`` does."""
    if not items:
        return None
    from mmengine.config import DictAction

    options = {}
    for item in items:
        key, value = item.split('=', 1)
        options[key] = DictAction._parse_iterable(value)
    return options


def build_runtime(args: argparse.Namespace):
    """The :class:`mmusot.runtime.Tracker` of checked ``args`` (a runtime
    ``args.backend``, ``args.onnx``; ``threads``, ``device`` and
    ``cfg_options`` when ``args`` has them).

    Raises:
        DeployError: a bad folder, or a backend that is not installed or
            cannot load the graphs (one line naming the file).
    """
    from mmusot.runtime import Tracker

    return Tracker(
        args.onnx,
        backend=args.backend,
        threads=getattr(args, 'threads', None),
        device=getattr(args, 'device', 'cpu'),
        test_cfg=runtime_test_cfg(getattr(args, 'cfg_options', None)) or None,
    )


def build(args: argparse.Namespace):
    """The tracker of ``args``: an mmusot ``Tracker``, a runtime
    ``Tracker`` or an ``OpenCVTracker``."""
    if args.opencv is not None:
        from mmusot.apis import OpenCVTracker

        return OpenCVTracker(args.opencv)
    if getattr(args, 'backend', 'pytorch') not in (None, 'pytorch'):
        return build_runtime(args)
    import torch

    from mmusot.apis import Tracker, build_tracker

    if args.threads:
        torch.set_num_threads(args.threads)
    model = build_tracker(
        args.config,
        args.checkpoint,
        args.device,
        cfg_options(args.cfg_options),
        allow_partial=getattr(args, 'allow_partial', False),
    )
    return Tracker(model)
