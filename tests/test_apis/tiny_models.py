# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Small trackers and synthetic OTB-style clips for the API and tool tests.

The tiny tracker is USOT with the MobileNetV2 backbone (``configs/usot/
_base_/usot_mobilenetv2.py`` without its pretrained weights) on top of the
OTB-folder test config, so it runs the real test pipeline, data
preprocessor and ``SOTMetric`` at ~0.1 s per frame on a CPU.
"""

from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
OTB_FOLDER_CONFIG = REPO / 'configs' / 'usot' / 'usot_r50_test-otb-folder.py'
SIAMRPN_CONFIG = (
    'mmtrack::sot/siamese_rpn/siamese-rpn_r50_8xb16-20e_'
    'imagenetvid-imagenetdet-coco_test-otb100.py'
)

TINY_USOT = """
_base_ = [{base!r}]
model = dict(
    backbone=dict(_delete_=True, type='SOTMobileNetV2', out_indices=(13,),
                  frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[96], out_channels=128),
    head=dict(in_channels=128),
)
test_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root={data_root!r}))
"""


def write_tiny_usot_config(path: Path, data_root: Optional[Path] = None):
    """A MobileNetV2 USOT test config on an OTB-style folder."""
    path = Path(path)
    path.write_text(
        TINY_USOT.format(
            base=str(OTB_FOLDER_CONFIG),
            data_root=str(data_root or REPO.parent / 'shared' / 'data'),
        )
    )
    return str(path)


def save_init_checkpoint(
    config: str, path: Path, seed: int = 0, cfg_options=None
) -> str:
    """Save the weights of ``MODELS.build(cfg.model)`` (PyTorch's default
    init, finite outputs) as an mmengine checkpoint."""
    import torch
    from mmengine.registry import init_default_scope
    from mmtrack.registry import MODELS
    from mmtrack.utils import register_all_modules

    from mmusot.apis import load_tracker_config

    register_all_modules(init_default_scope=False)
    cfg = load_tracker_config(config, cfg_options)
    init_default_scope('mmtrack')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(seed=seed)), str(path)
    )
    return str(path)


def moving_square(
    num_frames: int,
    size: Tuple[int, int] = (120, 160),
    side: int = 24,
    start: Tuple[int, int] = (40, 40),
    step: Tuple[int, int] = (3, 2),
    seed: int = 0,
) -> Tuple[List[np.ndarray], np.ndarray]:
    """Frames (H, W, 3) uint8 BGR with a checkered square moving.

    Returns:
        tuple: the frames and the true boxes (N, 4) ``[x, y, w, h]``.
    """
    rng = np.random.default_rng(seed)
    height, width = size
    background = rng.integers(40, 110, (height, width, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:side, :side]
    pattern = np.where(((yy // 6) + (xx // 6)) % 2 == 0, 235, 15)
    frames, boxes = [], []
    for i in range(num_frames):
        x, y = start[0] + i * step[0], start[1] + i * step[1]
        frame = background.copy()
        frame[y : y + side, x : x + side] = pattern[..., None]
        frames.append(frame)
        boxes.append([x, y, side, side])
    return frames, np.array(boxes, dtype=np.float64)


def write_otb_sequence(
    root: Path,
    name: str,
    frames: Sequence[np.ndarray],
    boxes: np.ndarray,
    ext: str = '.png',
) -> Path:
    """``root/name/img/0001.png ...`` and ``groundtruth_rect.txt``."""
    import cv2

    seq = Path(root) / name
    (seq / 'img').mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, start=1):
        cv2.imwrite(str(seq / 'img' / f'{i:04d}{ext}'), frame)
    lines = [','.join(f'{v:g}' for v in box) for box in boxes]
    (seq / 'groundtruth_rect.txt').write_text('\n'.join(lines) + '\n')
    return seq
