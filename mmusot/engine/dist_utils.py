# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Distributed training on machines without CUDA (gloo)."""

from datetime import timedelta

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log

CPU_BACKEND = 'gloo'


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``--launcher pytorch`` runs on a machine without CUDA.

    mmengine 0.10 cannot start them by itself: its ``init_dist`` calls
    ``torch.cuda.set_device`` unconditionally, and ``Runner.wrap_model``
    passes ``device_ids=[LOCAL_RANK]``, which DDP refuses for CPU modules.
    This starts the process group first (``env_cfg.dist_cfg``, with
    ``'nccl'`` replaced by ``'gloo'``; the Runner then skips its own
    ``init_dist``) and sets ``model_wrapper_cfg.device_ids=None``. It does
    nothing with CUDA, without the pytorch launcher, or when a process
    group already exists.

    Args:
        cfg (Config): the run's config (``launcher`` set); modified in
            place.

    Returns:
        bool: whether a process group was started.
    """
    if (
        cfg.get('launcher', 'none') != 'pytorch'
        or torch.cuda.is_available()
        or torch_dist.is_initialized()
    ):
        return False
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = dist_cfg.pop('backend', CPU_BACKEND)
    if backend != CPU_BACKEND:
        print_log(
            f'No CUDA device: distributed backend {backend!r} replaced by '
            f'{CPU_BACKEND!r}',
            logger='current',
        )
    timeout = dist_cfg.pop('timeout', None)
    if timeout is not None:
        dist_cfg['timeout'] = timedelta(seconds=timeout)
    torch_dist.init_process_group(backend=CPU_BACKEND, **dist_cfg)

    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
        )
    else:
        wrapper_cfg.setdefault('device_ids', None)
    return True
