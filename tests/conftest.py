# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Fixtures shared by the test modules."""

import pytest


@pytest.fixture(scope='module')
def torch_one_thread():
    """Run a module's tests with one torch thread, then restore the count.

    The suite runs on small shared machines, where one thread is faster
    than two fighting for the cores; opt in with
    ``pytestmark = pytest.mark.usefixtures('torch_one_thread')``.
    """
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)
