# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Inference engines for the exported graphs: ONNX Runtime, OpenVINO and
OpenCV's DNN module.

Each backend loads the three graphs of a :class:`~.package.DeployPackage`
and runs one by role with numpy inputs, returning numpy outputs in the
graph's output order. The graphs have dynamic shapes (batch, memory
entries, crop size) and multiply runtime tensors (the correlation); all
three run them (OpenCV from its 5.x DNN engine on). ``'opencv'`` needs
nothing beyond OpenCV itself.
"""

import importlib
import os
from typing import Dict, List, Optional

import numpy as np

from .package import GRAPH_OUTPUTS, DeployError, DeployPackage

#: ``--backend`` values of the deployment runtime.
RUNTIME_BACKENDS = ('onnxruntime', 'openvino', 'opencv')


def _threads(threads: Optional[int]) -> int:
    """Threads per graph: ``threads``, else all CPUs this process may use."""
    if threads:
        return int(threads)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover  (not Linux)
        return os.cpu_count() or 1


def _import(module: str, backend: str):
    """Import a backend's package, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DeployError(
            f'the {backend} backend needs {module}: pip install '
            '"mmusot[deploy]"'
        ) from None


def _load_graphs(package: DeployPackage, load, what: str) -> dict:
    """``load(path)`` for each graph, by role; a failure names the file.

    Args:
        package (DeployPackage): the exported folder.
        load (callable): path → the backend's loaded graph.
        what (str): e.g. ``'onnxruntime cannot load it'``.
    """
    graphs = {}
    for role, path in package.files.items():
        try:
            graphs[role] = load(path)
        except Exception as err:  # each backend raises its own types
            message = str(err).strip().splitlines()
            detail = message[-1] if message else type(err).__name__
            raise DeployError(f'{path}: {what} ({detail})') from None
    return graphs


class OnnxRuntimeBackend:
    """The graphs on ONNX Runtime (CPU, or CUDA when asked and present).

    Args:
        package (DeployPackage): the exported folder.
        threads (int, optional): intra-op threads. Defaults to the CPUs
            this process may use.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to 'cpu'.
    """

    name = 'onnxruntime'

    def __init__(
        self,
        package: DeployPackage,
        threads: Optional[int] = None,
        device: str = 'cpu',
    ) -> None:
        ort = _import('onnxruntime', self.name)
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads(threads)
        options.inter_op_num_threads = 1
        # no busy-waiting between calls: the tracker's numpy work (and any
        # other model in the process) gets the cores back at once
        options.add_session_config_entry(
            'session.intra_op.allow_spinning', '0'
        )
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        )
        providers = ['CPUExecutionProvider']
        if device.startswith('cuda'):
            if 'CUDAExecutionProvider' not in ort.get_available_providers():
                raise DeployError(
                    'device cuda: this onnxruntime has no CUDA provider '
                    '(install onnxruntime-gpu)'
                )
            providers.insert(0, 'CUDAExecutionProvider')
        self.sessions = _load_graphs(
            package,
            lambda path: ort.InferenceSession(
                path, options, providers=providers
            ),
            'onnxruntime cannot load it',
        )

    def run(self, role: str, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run graph ``role`` on ``feeds``; outputs in graph order."""
        return self.sessions[role].run(list(GRAPH_OUTPUTS[role]), feeds)


class OpenVINOBackend:
    """The graphs on OpenVINO's CPU plugin.

    Args:
        package (DeployPackage): the exported folder.
        threads (int, optional): inference threads. Defaults to the CPUs
            this process may use.
        device (str): OpenVINO device name. Defaults to 'CPU'.
    """

    name = 'openvino'

    def __init__(
        self,
        package: DeployPackage,
        threads: Optional[int] = None,
        device: str = 'CPU',
    ) -> None:
        core = _import('openvino', self.name).Core()
        device = 'CPU' if device.lower() == 'cpu' else device
        config = {'INFERENCE_NUM_THREADS': _threads(threads)}
        self.requests = _load_graphs(
            package,
            lambda path: core.compile_model(
                path, device, config
            ).create_infer_request(),
            'openvino cannot compile it',
        )

    def run(self, role: str, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run graph ``role`` on ``feeds``; outputs in graph order."""
        request = self.requests[role]
        request.infer(feeds)
        return [
            request.get_output_tensor(i).data.copy()
            for i in range(len(request.model_outputs))
        ]


class OpenCVBackend:
    """The graphs on OpenCV's DNN module (CPU).

    Args:
        package (DeployPackage): the exported folder.
        threads (int, optional): OpenCV's thread count (process-wide:
            ``cv2.setNumThreads``). Defaults to OpenCV's own.
        device (str): ``'cpu'`` only. Defaults to 'cpu'.
    """

    name = 'opencv'

    def __init__(
        self,
        package: DeployPackage,
        threads: Optional[int] = None,
        device: str = 'cpu',
    ) -> None:
        import cv2

        if device != 'cpu':
            raise DeployError(
                f'the opencv backend runs on the CPU only, not {device!r}'
            )
        if threads:
            cv2.setNumThreads(int(threads))
        self.nets = _load_graphs(
            package,
            cv2.dnn.readNetFromONNX,
            f'OpenCV {cv2.__version__} cannot load it',
        )

    def run(self, role: str, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run graph ``role`` on ``feeds``; outputs in graph order."""
        net = self.nets[role]
        for name, value in feeds.items():
            net.setInput(value, name)
        return list(net.forward(list(GRAPH_OUTPUTS[role])))


def make_backend(
    package: DeployPackage,
    backend: str = 'onnxruntime',
    threads: Optional[int] = None,
    device: str = 'cpu',
):
    """The backend named ``backend`` on ``package``.

    Raises:
        DeployError: an unknown backend, or one that is not installed.
    """
    if backend == 'onnxruntime':
        return OnnxRuntimeBackend(package, threads, device)
    if backend == 'openvino':
        return OpenVINOBackend(package, threads, device)
    if backend == 'opencv':
        return OpenCVBackend(package, threads, device)
    raise DeployError(
        f'unknown runtime backend {backend!r}; choose one of '
        f'{RUNTIME_BACKENDS}'
    )
