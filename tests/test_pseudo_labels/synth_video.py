# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Synthetic videos with a known moving box, for the pseudo-label tests."""

import os
from typing import List, Tuple

import cv2
import numpy as np


def texture(
    rng: np.random.Generator, h: int, w: int, blur: float, contrast: float
) -> np.ndarray:
    """Smooth random texture, uint8 (h, w, 3)."""
    noise = rng.normal(0, 1, (h, w, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), blur)
    noise = (noise - noise.mean()) / (noise.std() + 1e-6)
    return np.clip(128 + contrast * noise, 0, 255).astype(np.uint8)


def _bounce(pos: float, hi: int) -> int:
    """Reflect a position into [0, hi] (the object bounces off edges)."""
    period = 2 * hi
    p = pos % period
    return int(round(p if p <= hi else period - p))


def moving_object_video(
    num_frames: int = 40,
    size_hw: Tuple[int, int] = (120, 160),
    obj_hw: Tuple[int, int] = (30, 36),
    obj_speed: Tuple[float, float] = (2.0, 1.0),
    cam_speed: Tuple[float, float] = (0.5, 0.25),
    seed: int = 0,
) -> Tuple[List[np.ndarray], np.ndarray]:
    """A textured object moving over a moving textured background.

    Returns:
        tuple: the BGR uint8 frames and the true boxes (N, 4) in
        [x1, y1, x2, y2] format, pixels.
    """
    rng = np.random.default_rng(seed)
    h, w = size_hw
    oh, ow = obj_hw
    pad = 64
    bg = texture(rng, h + 2 * pad, w + 2 * pad, 2.0, 40)
    obj = texture(rng, oh, ow, 1.5, 70)
    frames, boxes = [], []
    x0, y0 = w * 0.2, h * 0.3
    for k in range(num_frames):
        cx, cy = cam_speed[0] * k, cam_speed[1] * k
        shift = np.float32([[1, 0, cx - pad], [0, 1, cy - pad]])
        frame = cv2.warpAffine(
            bg, shift, (w, h), borderMode=cv2.BORDER_REFLECT
        )
        x = _bounce(x0 + obj_speed[0] * k, w - ow)
        y = _bounce(y0 + obj_speed[1] * k, h - oh)
        frame[y : y + oh, x : x + ow] = obj
        frames.append(frame)
        boxes.append((x, y, x + ow, y + oh))
    return frames, np.asarray(boxes, np.float64)


def write_video(path: str, frames: List[np.ndarray], fps: int = 25) -> None:
    """Write frames to an mp4 (mp4v) or avi (MJPG) file."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    h, w = frames[0].shape[:2]
    fourcc = cv2.VideoWriter_fourcc(
        *('MJPG' if path.endswith('.avi') else 'mp4v')
    )
    out = cv2.VideoWriter(path, fourcc, fps, (w, h))
    if not out.isOpened():
        raise RuntimeError(f'cannot write {path}')
    for f in frames:
        out.write(f)
    out.release()


def write_folder(
    folder: str,
    frames: List[np.ndarray],
    ext: str = '.png',
    gray: bool = False,
) -> None:
    """Write frames as numbered images into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for k, f in enumerate(frames):
        img = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if gray else f
        cv2.imwrite(os.path.join(folder, f'{k + 1:04d}{ext}'), img)
