# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Build a single object tracker from any mmtrack SOT config.

:func:`build_tracker` is mmusot's counterpart of mmtrack's ``init_model``
(``mmtrack/apis/inference.py``): the config is read the way
``tools/test.py`` reads it (:func:`mmusot.config.load_tracker_config`:
mmtrack and mmusot registered, ``custom_imports`` run, ``--cfg-options``
merged), and
a checkpoint is loaded as the test Runner loads ``load_from`` (mmengine's
``load_checkpoint``, ``module.`` prefixes dropped) through mmusot's safe
unpickler (:func:`mmusot.engine.use_safe_local_loading`), after the same
checks as mmusot's Runners make: it must fit the network
(:func:`mmusot.engine.check_checkpoint_fits`, unless ``allow_partial``)
and hold finite weights (:func:`mmusot.engine.check_finite_checkpoint`).
"""

import logging
import os
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config

# The config resolver is mmusot.config's; its names stay importable here.
from mmusot.config import (  # noqa: F401
    PACKAGE_SEPARATOR,
    load_tracker_config,
    resolve_config_path,
)


class DeviceError(RuntimeError):
    """A device that this machine does not have (or cannot parse)."""


def check_device(device: Union[str, torch.device]) -> torch.device:
    """The device to run on, if this machine has it.

    Args:
        device (str | torch.device): e.g. ``'cpu'``, ``'cuda'``,
            ``'cuda:1'``.

    Returns:
        torch.device: the parsed device.

    Raises:
        DeviceError: not a device name, or a CUDA (or MPS) device this
            machine or this torch build does not have; the message says
            what there is.
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise DeviceError(
            f'--device {device!r} is not a device: {err}. Use cpu, cuda or '
            'cuda:N.'
        ) from None
    if parsed.type == 'cuda':
        if not torch.cuda.is_available():
            why = (
                'this torch build has no CUDA'
                if torch.version.cuda is None
                else 'no CUDA GPU is visible (driver, CUDA_VISIBLE_DEVICES)'
            )
            raise DeviceError(
                f'--device {device}: CUDA is not available ({why}; torch '
                f'{torch.__version__}). Use --device cpu.'
            )
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise DeviceError(
                f'--device {device}: this machine has {count} CUDA '
                f'device(s), cuda:0 to cuda:{count - 1}.'
            )
    elif parsed.type == 'mps' and not torch.backends.mps.is_available():
        raise DeviceError(
            f'--device {device}: MPS is not available on this machine. Use '
            '--device cpu.'
        )
    return parsed


def quiet_init_weights(model: torch.nn.Module) -> None:
    """``model.init_weights()`` without its per-parameter log.

    mmengine writes the initialisation of every parameter to the current
    logger unless the logger has a file handler, in which case it goes to
    that file; a handler on ``os.devnull`` takes it (as mmtrack's
    ``init_model`` does with a temporary file).
    """
    from mmengine.logging import MMLogger

    logger = MMLogger.get_current_instance()
    handler = logging.FileHandler(os.devnull, mode='w')
    logger.addHandler(handler)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(handler)
        handler.close()


def build_tracker(
    config: Union[str, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = 'cpu',
    cfg_options: Optional[dict] = None,
    allow_partial: bool = False,
) -> torch.nn.Module:
    """Build a single object tracker model, ready for inference.

    Works with any mmtrack SOT config: mmusot's USOT configs, mmtrack's
    own (SiamRPN++, STARK, PrDiMP), plugin configs with
    ``custom_imports``. With a checkpoint the weights come from it and the
    config's ``init_cfg`` is not applied (as in ``tools/test.py``, so no
    pretrained backbone is needed); without one, ``model.init_weights()``
    applies the config's ``init_cfg`` (a ``Pretrained`` URL downloads;
    offline, override it with ``cfg_options={'model.backbone.init_cfg':
    None}``).

    Args:
        config (str | Config): config file, ``package::path`` name or
            ``Config``.
        checkpoint (str, optional): a local checkpoint file (mmengine
            format, or any state dict ``load_checkpoint`` accepts) or a URL
            mmengine can load. Defaults to None.
        device (str | torch.device): where the model runs. Defaults to
            'cpu'.
        cfg_options (dict, optional): config overrides. Defaults to None.
        allow_partial (bool): load a checkpoint that does not fit the
            network (missing, unexpected or reshaped weights): what fits is
            loaded, the rest keeps the config's initial values, with
            mmengine's warning only. For experts. Defaults to False.

    Returns:
        torch.nn.Module: the model in eval mode on ``device``, with the
        merged config as ``model.cfg``.

    Raises:
        FileNotFoundError: the config does not exist.
        DeviceError: ``device`` is not available here.
        mmusot.engine.MissingCheckpointError: ``checkpoint`` (or, without
            it, a local ``init_cfg`` checkpoint of the config) does not
            exist.
        mmusot.utils.CheckpointLoadError: ``checkpoint`` is empty,
            truncated or no checkpoint; or (subclasses in
            :mod:`mmusot.engine`) it does not fit the network
            (``CheckpointMismatchError``) or holds NaN/Inf weights
            (``NonFiniteCheckpointError``).
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import (
        _load_checkpoint,
        _load_checkpoint_to_model,
    )
    from mmtrack.registry import MODELS

    from mmusot.engine import (
        MissingCheckpointError,
        check_checkpoint_fits,
        check_checkpoint_paths,
        check_finite_checkpoint,
        use_safe_local_loading,
    )
    from mmusot.engine.checkpoint import (
        REMOTE_PATTERN,
        REVISE_KEYS,
        non_finite_keys,
    )
    from mmusot.utils import CheckpointLoadError

    device = check_device(device)
    cfg = load_tracker_config(config, cfg_options)
    name = config if isinstance(config, str) else cfg.filename
    if checkpoint is not None and not REMOTE_PATTERN.match(checkpoint):
        if not osp.isfile(osp.expanduser(checkpoint)):
            raise MissingCheckpointError(
                f'checkpoint file not found: {checkpoint}'
            )
        checkpoint = osp.expanduser(checkpoint)
    if checkpoint is None:
        # init_weights() will read these; fail before building anything.
        check_checkpoint_paths(dict(model=cfg.model), name)
    init_default_scope(cfg.get('default_scope', 'mmtrack'))
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        quiet_init_weights(model)
    else:
        use_safe_local_loading()
        # mmengine's load_checkpoint, with the checks before the load
        loaded = _load_checkpoint(checkpoint, map_location='cpu')
        if not isinstance(loaded, dict):
            raise CheckpointLoadError(
                f'{checkpoint}: holds a {type(loaded).__name__}, not a '
                'checkpoint (a dict of weights)'
            )
        by_design = set(non_finite_keys(model.state_dict()))
        check_finite_checkpoint(loaded, checkpoint, by_design)
        if not allow_partial:
            check_checkpoint_fits(model, loaded, checkpoint, name, REVISE_KEYS)
        _load_checkpoint_to_model(
            model, loaded, strict=False, revise_keys=REVISE_KEYS
        )
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model
