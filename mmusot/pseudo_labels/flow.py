# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Optical flow backends behind one interface (paper Sec. 3.1).

USOT computes the forward flow of a centre frame ``t`` to ``t + T_f`` at a
working resolution of 384x640 and rescales it to the original frame size
(official ``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py``).
The official code uses ARFlow (a learned model with a CUDA op); here classic
OpenCV flow is the default so conversion runs anywhere. A learned model can
be added with :func:`register_flow_backend`.
"""

from typing import Callable, Dict, Optional, Tuple, Type

import cv2
import numpy as np

FLOW_BACKENDS: Dict[str, Type['FlowBackend']] = {}

# The official working resolution of the flow, (height, width).
WORK_SIZE = (384, 640)
# Adaptive frame interval T_f (the paper fixes it; the official code adapts
# it to the flow magnitude m, in original-frame pixels): shrink T_f while
# m > 16, grow it while m < 8, within [1, 7].
INTERVAL_SHRINK_FLOW = 16.0
INTERVAL_GROW_FLOW = 8.0
MIN_FRAME_INTERVAL = 1
MAX_FRAME_INTERVAL = 7


def register_flow_backend(name: str) -> Callable:
    """Class decorator adding a :class:`FlowBackend` under ``name``."""

    def _register(cls: Type['FlowBackend']) -> Type['FlowBackend']:
        if name in FLOW_BACKENDS:
            raise KeyError(f'flow backend {name!r} is already registered')
        FLOW_BACKENDS[name] = cls
        cls.name = name
        return cls

    return _register


def build_flow_backend(name: str, **kwargs) -> 'FlowBackend':
    """Instantiate the registered flow backend ``name`` with ``kwargs``."""
    if name not in FLOW_BACKENDS:
        raise KeyError(
            f'unknown flow backend {name!r}; registered: '
            f'{sorted(FLOW_BACKENDS)}'
        )
    return FLOW_BACKENDS[name](**kwargs)


class FlowBackend:
    """Interface of a flow backend.

    A backend receives frames prepared by :meth:`prepare` (at the working
    resolution) and returns the forward flow of ``center`` to ``target`` as
    an array of shape (h, w, 2), float32, [u, v] in working-resolution
    pixels. Three-frame models (such as ARFlow's multi-view variant) set
    ``uses_previous_frame = True`` and receive the frame ``t - T_f`` too.
    """

    name = 'base'
    uses_previous_frame = False

    def prepare(
        self, frame_bgr: np.ndarray, size_hw: Tuple[int, int]
    ) -> np.ndarray:
        """Resize a BGR uint8 frame to the working size and convert it.

        Args:
            frame_bgr (np.ndarray): of shape (H, W, 3), uint8, BGR.
            size_hw (tuple[int, int]): working (height, width).

        Returns:
            np.ndarray: the frame in the backend's own input format.
        """
        h, w = size_hw
        shrink = frame_bgr.shape[0] > h or frame_bgr.shape[1] > w
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        small = cv2.resize(frame_bgr, (w, h), interpolation=interp)
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)

    def __call__(
        self,
        center: np.ndarray,
        target: np.ndarray,
        previous: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict:
        """A JSON-able description used to detect changed settings."""
        return dict(name=self.name)


@register_flow_backend('dis')
class DISFlow(FlowBackend):
    """OpenCV dense inverse search flow, a CPU stand-in for ARFlow.

    Args:
        preset (str): 'ultrafast', 'fast' or 'medium'. Defaults to 'medium'.
    """

    _PRESETS = dict(
        ultrafast=cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        fast=cv2.DISOPTICAL_FLOW_PRESET_FAST,
        medium=cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    )

    def __init__(self, preset: str = 'medium') -> None:
        if preset not in self._PRESETS:
            raise ValueError(
                f'DIS preset must be one of '
                f'{sorted(self._PRESETS)}, got {preset!r}'
            )
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(self._PRESETS[preset])

    def __call__(self, center, target, previous=None):
        return self._dis.calc(
            np.ascontiguousarray(center), np.ascontiguousarray(target), None
        )

    def config(self) -> dict:
        return dict(name=self.name, preset=self.preset)


@register_flow_backend('farneback')
class FarnebackFlow(FlowBackend):
    """OpenCV Farnebäck polynomial-expansion flow.

    Args:
        pyr_scale (float): pyramid scale. Defaults to 0.5.
        levels (int): pyramid levels. Defaults to 4.
        winsize (int): averaging window. Defaults to 15.
        iterations (int): iterations per level. Defaults to 3.
        poly_n (int): neighbourhood of the expansion. Defaults to 5.
        poly_sigma (float): Gaussian sigma of the expansion. Defaults to 1.1.
    """

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 4,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.1,
    ) -> None:
        self.params = dict(
            pyr_scale=pyr_scale,
            levels=levels,
            winsize=winsize,
            iterations=iterations,
            poly_n=poly_n,
            poly_sigma=poly_sigma,
        )

    def __call__(self, center, target, previous=None):
        p = self.params
        return cv2.calcOpticalFlowFarneback(
            center,
            target,
            None,
            p['pyr_scale'],
            p['levels'],
            p['winsize'],
            p['iterations'],
            p['poly_n'],
            p['poly_sigma'],
            0,
        )

    def config(self) -> dict:
        return dict(name=self.name, **self.params)


def resize_flow(flow: np.ndarray, size_hw: Tuple[int, int]) -> np.ndarray:
    """Rescale a flow map to another resolution, as the official code does.

    Bilinear with ``align_corners=True`` semantics (corner pixels map to
    corner pixels); u is multiplied by W_out/w_in and v by H_out/h_in.

    Args:
        flow (np.ndarray): of shape (h, w, 2), [u, v] in input pixels.
        size_hw (tuple[int, int]): output (height, width).

    Returns:
        np.ndarray: of shape (H, W, 2), float32, [u, v] in output pixels.
    """
    h, w = flow.shape[:2]
    out_h, out_w = size_hw
    sx = (w - 1) / (out_w - 1) if out_w > 1 else 0.0
    sy = (h - 1) / (out_h - 1) if out_h > 1 else 0.0
    matrix = np.array([[sx, 0, 0], [0, sy, 0]], dtype=np.float64)
    out = cv2.warpAffine(
        flow.astype(np.float32),
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    out[..., 0] *= out_w / w
    out[..., 1] *= out_h / h
    return out


def max_flow_component(
    flow: np.ndarray, scale_xy: Tuple[float, float] = (1.0, 1.0)
) -> float:
    """Largest absolute flow component (m of the adaptive T_f).

    The official code measures m on the flow already resized to the
    original frame (:func:`resize_flow`); pass that map with the default
    scale. Scaling a working-resolution map instead is only an upper bound,
    since resizing interpolates between (or skips) working pixels.

    Args:
        flow (np.ndarray): of shape (h, w, 2).
        scale_xy (tuple[float, float]): factors applied to |u| and |v|.
            Defaults to (1.0, 1.0).

    Returns:
        float: max(|u| * sx, |v| * sy) ignoring non-finite values; 0.0 when
        nothing is finite.
    """
    u = np.abs(flow[..., 0])
    v = np.abs(flow[..., 1])
    mu = np.nanmax(u) if np.isfinite(u).any() else 0.0
    mv = np.nanmax(v) if np.isfinite(v).any() else 0.0
    m = max(float(mu) * scale_xy[0], float(mv) * scale_xy[1])
    return m if np.isfinite(m) else 0.0


def next_frame_interval(
    max_flow: float,
    interval: int,
    increased: bool,
    decreased: bool,
    high: float = INTERVAL_SHRINK_FLOW,
    low: float = INTERVAL_GROW_FLOW,
    min_interval: int = MIN_FRAME_INTERVAL,
    max_interval: int = MAX_FRAME_INTERVAL,
) -> Optional[int]:
    """One step of the adaptive frame interval T_f.

    Official ``parse_<dataset>_flow.py``: T_f persists from one sub-sampled
    frame to the next and moves in one direction only within a frame.

    Args:
        max_flow (float): max absolute flow component (original pixels).
        interval (int): the T_f the flow was computed with.
        increased (bool): T_f was already increased at this frame.
        decreased (bool): T_f was already decreased at this frame.
        high (float): shrink T_f above this magnitude. Defaults to 16.
        low (float): grow T_f below this magnitude. Defaults to 8.
        min_interval (int): smallest T_f. Defaults to 1.
        max_interval (int): largest T_f. Defaults to 7.

    Returns:
        int | None: the T_f to retry with, or None to accept the flow.
    """
    if max_flow > high and interval > min_interval and not increased:
        return interval - 1
    if max_flow < low and interval < max_interval and not decreased:
        return interval + 1
    return None
