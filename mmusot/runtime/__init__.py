# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Track with an exported USOT, without PyTorch or OpenMMLab.

Needs numpy, OpenCV and ONNX Runtime (or OpenVINO): ``pip install
"mmusot[deploy]"``. Export a trained tracker with ``mmusot-export CONFIG
CHECKPOINT OUT_DIR``, then::

    from mmusot.runtime import Tracker

    tracker = Tracker(OUT_DIR, backend='onnxruntime')
    tracker.init(first_frame, (x, y, w, h))
    (x, y, w, h), score = tracker.track(next_frame)
"""

from .backends import RUNTIME_BACKENDS, make_backend
from .package import DeployError, DeployPackage
from .tracker import MultiTracker, RuntimeEngine, Tracker

__all__ = [
    'RUNTIME_BACKENDS',
    'DeployError',
    'DeployPackage',
    'MultiTracker',
    'RuntimeEngine',
    'Tracker',
    'make_backend',
]
