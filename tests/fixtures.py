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
