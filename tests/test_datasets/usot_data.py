# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Tiny pseudo-labelled folders (converter layout) for the USOT data tests.

Each video is a black frame sequence with a white rectangle at its pseudo
box, so crops can be checked against the pixels.
"""

import json
import os
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from mmusot.pseudo_labels import FRAME_TEMPLATE, INFOS_HEADER

FRAME_HW = (96, 128)


def white_box_frame(box: Sequence[float], hw=FRAME_HW) -> np.ndarray:
    """A black BGR frame with white pixels exactly inside ``box`` (xyxy)."""
    img = np.zeros((hw[0], hw[1], 3), np.uint8)
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    img[y1:y2, x1:x2] = 255
    return img


def video_spec(
    name: str,
    num_frames: int = 8,
    q_v: float = 0.9,
    corner_freq: float = 0.0,
    frame_quality_short: Optional[List[float]] = None,
    corner: Optional[List[float]] = None,
    t_l: Optional[List[int]] = None,
    t_u: Optional[List[int]] = None,
    boxes: Optional[np.ndarray] = None,
) -> dict:
    """One single-track video; defaults give a good, easy video."""
    n = num_frames
    if boxes is None:
        # the box moves right and down, and starts over every 24 frames
        # so that it stays in the frame
        k = np.arange(n)[:, None] % 24
        boxes = np.concatenate([30 + 4 * k, 20 + 2 * k], 1)
        boxes = np.concatenate([boxes, boxes + [40, 30]], 1)
    return dict(
        name=name,
        num_frames=n,
        q_v=q_v,
        corner_freq=corner_freq,
        frame_quality_short=frame_quality_short or [1.0] * n,
        corner=corner or [0.2] * n,
        t_l=t_l if t_l is not None else [0] * n,
        t_u=t_u if t_u is not None else [n - 1] * n,
        boxes=np.asarray(boxes, np.int64),
    )


def write_dataset(
    root: str,
    specs: List[dict],
    frames: bool = True,
    sidecars: bool = True,
    name: str = 'pseudo',
    overrides: Optional[Dict[str, dict]] = None,
) -> str:
    """Write the converter's layout; returns the infos file name.

    Args:
        root (str): dataset root.
        specs (list[dict]): :func:`video_spec` outputs.
        frames (bool): write the JPEG frames. Defaults to True.
        sidecars (bool): write ``quality/<video>.json``. Defaults to True.
        name (str): infos name. Defaults to 'pseudo'.
        overrides (dict, optional): video name -> track fields to replace
            (None deletes the field) in its sidecar.
    """
    os.makedirs(root, exist_ok=True)
    lines = []
    for spec in specs:
        video, n = spec['name'], spec['num_frames']
        boxes = spec['boxes']
        ann = f'annotations/{video}.txt'
        os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
        with open(os.path.join(root, ann), 'w') as f:
            for x1, y1, x2, y2 in boxes.tolist():
                f.write(f'{x1},{y1},{x2 - x1},{y2 - y1}\n')
        if frames:
            folder = os.path.join(root, 'frames', video)
            os.makedirs(folder, exist_ok=True)
            for k in range(n):
                cv2.imwrite(
                    os.path.join(folder, FRAME_TEMPLATE % (k + 1)),
                    white_box_frame(boxes[k]),
                    [cv2.IMWRITE_JPEG_QUALITY, 100],
                )
        track = dict(
            track_id=0,
            start_frame_id=1,
            end_frame_id=n,
            num_frames=n,
            ann_path=ann,
            kept=True,
            reason='',
            q_v=spec['q_v'],
            corner_freq=spec['corner_freq'],
            frame_quality_short=spec['frame_quality_short'],
            corner=spec['corner'],
            t_l=spec['t_l'],
            t_u=spec['t_u'],
        )
        for key, value in ((overrides or {}).get(video) or {}).items():
            if value is None:
                track.pop(key, None)
            else:
                track[key] = value
        if sidecars:
            os.makedirs(os.path.join(root, 'quality'), exist_ok=True)
            with open(
                os.path.join(root, 'quality', video + '.json'), 'w'
            ) as f:
                json.dump(
                    dict(
                        video=video,
                        frame_size=[FRAME_HW[1], FRAME_HW[0]],
                        num_frames=n,
                        frame_template=FRAME_TEMPLATE,
                        tracks=[track],
                    ),
                    f,
                )
        lines.append(f'frames/{video},{ann},1,{n}')
    infos = f'{name}_infos.txt'
    with open(os.path.join(root, infos), 'w') as f:
        f.write(INFOS_HEADER + '\n' + ''.join(x + '\n' for x in lines))
    return infos


class SpyRng:
    """A ``numpy.random.Generator`` that records its ``integers`` draws."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.calls: List[tuple] = []

    def integers(self, *args, **kwargs):
        out = self.rng.integers(*args, **kwargs)
        self.calls.append((args, np.copy(out)))
        return out

    def __getattr__(self, name):
        return getattr(self.rng, name)
