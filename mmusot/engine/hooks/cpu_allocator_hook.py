# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Keep freed memory in the training process instead of handing it back.

glibc's ``malloc`` serves every block above 32 MiB (its largest mmap
threshold) with a fresh ``mmap`` and returns it with ``munmap`` when the
block is freed. A USOT cycle-memory step makes many such blocks (the
backbone's activations of the 32 memory searches, 75 MB each for
MobileNetV2), so every step pays the kernel to map and zero the same
memory again: on 2 CPU cores two thirds of the backbone's wall time were
page faults (``tools/benchmark/train_speed.py``). With mmap off and a high
trim threshold the freed blocks stay in the heap and are reused. Nothing
computed changes; the process keeps its peak memory.
"""

import ctypes
import ctypes.util
import logging
import sys

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmtrack.registry import HOOKS

# mallopt parameters (glibc malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Free memory above this at the heap's top goes back to the system.
DEFAULT_TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory(trim_threshold: int = DEFAULT_TRIM_THRESHOLD) -> bool:
    """Tell glibc's malloc to keep freed memory (no mmap, high trim).

    Affects this process and the processes it forks afterwards (data
    loader workers).

    Args:
        trim_threshold (int): bytes of free memory at the top of the heap
            kept before trimming. Defaults to 2**31 - 1.

    Returns:
        bool: whether the settings took effect (False off glibc, e.g. on
        macOS, Windows or musl).
    """
    if not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_MAX, 0)
        and mallopt(M_TRIM_THRESHOLD, int(trim_threshold))
    )


@HOOKS.register_module()
class CPUAllocatorHook(Hook):
    """Calls :func:`keep_freed_memory` before the run.

    Listed in the train configs' ``default_hooks`` (``cpu_allocator``);
    set it to None to keep glibc's defaults. The results are bit for bit
    those without it; only the wall time changes.

    Args:
        trim_threshold (int): see :func:`keep_freed_memory`.
    """

    priority = 'VERY_HIGH'

    def __init__(self, trim_threshold: int = DEFAULT_TRIM_THRESHOLD) -> None:
        if trim_threshold < 0:
            raise ValueError(
                f'trim_threshold must be >= 0, got {trim_threshold}'
            )
        self.trim_threshold = int(trim_threshold)

    def before_run(self, runner) -> None:
        if not keep_freed_memory(self.trim_threshold):
            print_log(
                'CPUAllocatorHook: not glibc malloc; allocator unchanged',
                logger='current',
                level=logging.DEBUG,
            )
