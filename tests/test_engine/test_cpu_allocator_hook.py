# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""CPUAllocatorHook: large freed blocks stay in the heap (glibc)."""

import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

from mmusot.engine.hooks import CPUAllocatorHook

GLIBC = sys.platform.startswith('linux')

# Allocates and frees a 96 MiB block, printing the bytes glibc served with
# mmap while it lived and the free bytes it kept in its heap afterwards.
PROBE = textwrap.dedent(
    """
    import ctypes, sys
    import numpy as np
    sys.path.insert(0, {root!r})
    if {keep}:
        from mmusot.engine.hooks.cpu_allocator_hook import keep_freed_memory
        assert keep_freed_memory()

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
            'fsmblks', 'uordblks', 'fordblks', 'keepcost')]

    libc = ctypes.CDLL('libc.so.6')
    libc.mallinfo2.restype = Info
    a = np.ones(96 << 20, np.uint8)
    mapped = libc.mallinfo2().hblkhd
    del a
    print(mapped, libc.mallinfo2().fordblks)
    """
)


def probe(keep: bool):
    from tests.fixtures import REPO

    code = PROBE.format(root=str(REPO), keep=keep)
    out = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    mapped, kept = (int(v) for v in out.stdout.split())
    return mapped, kept


@pytest.mark.skipif(not GLIBC, reason='glibc malloc only')
def test_freed_blocks_stay_in_the_heap():
    mapped, kept = probe(keep=False)
    assert mapped >= 96 << 20  # glibc's default: a fresh mmap ...
    assert kept < 96 << 20  # ... handed back to the kernel when freed
    mapped, kept = probe(keep=True)
    assert mapped < 96 << 20  # from the heap ...
    assert kept >= 96 << 20  # ... and kept there for the next step


def test_hook_arguments_and_configs():
    with pytest.raises(ValueError, match='trim_threshold'):
        CPUAllocatorHook(trim_threshold=-1)
    from tests.fixtures import REPO

    for name in (
        'usot_mobilenetv2_1xb8-30e-cpu_pseudo-folder.py',
        'usot_mobilenetv2_1xb8-15e-demo_pseudo-folder.py',
        'usot_r50_1xb8-30e-cpu_pseudo-folder.py',
    ):
        cfg = Config.fromfile(str(REPO / 'configs' / 'usot' / name))
        assert cfg.default_hooks.cpu_allocator.type == 'CPUAllocatorHook'
