# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Smoke demo: the pinned OpenMMLab stack works end to end, offline, on CPU.

Builds mmtrack's own SiamRPN++ from its ``mmtrack::`` config with random
weights (no download), runs one training loss + backward on a tiny batch,
then tracks a textured square moving across a few synthetic frames.

    python tools/demo/smoke_demo.py
"""

import argparse
import time
import warnings
from typing import Dict, List, Optional

import numpy as np
import torch

SIAMRPN_CONFIG = (
    'mmtrack::sot/siamese_rpn/siamese-rpn_r50_8xb28-20e_'
    'imagenetvid-imagenetdet-coco_test-lasot.py'
)


def build_siamrpn(device: str = 'cpu') -> torch.nn.Module:
    """mmtrack's SiamRPN++ from its own config, random weights, offline."""
    from mmengine.hub import get_config
    from mmtrack.registry import MODELS
    from mmtrack.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = get_config(SIAMRPN_CONFIG)  # resolves mmtrack:: in the wheel
    cfg.model.backbone.init_cfg = None
    # PyTorch's default initialisation; init_weights() would only log.
    model = MODELS.build(cfg.model)
    return model.to(device)


def moving_square_frames(
    num_frames: int = 4,
    size: tuple = (240, 320),
    box_size: int = 48,
    step: int = 6,
) -> tuple:
    """Frames (H, W, 3) uint8 BGR with a checkered square moving right.

    Returns:
        tuple: the frames and the true boxes, each [x1, y1, x2, y2].
    """
    rng = np.random.default_rng(0)
    height, width = size
    background = rng.integers(60, 120, (height, width, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:box_size, :box_size]
    pattern = np.where(((yy // 8) + (xx // 8)) % 2 == 0, 230, 20)
    frames, boxes = [], []
    for i in range(num_frames):
        frame = background.copy()
        x1, y1 = 60 + i * step, 90
        frame[y1 : y1 + box_size, x1 : x1 + box_size] = pattern[..., None]
        frames.append(frame)
        boxes.append([x1, y1, x1 + box_size, y1 + box_size])
    return frames, boxes


def siamrpn_loss_step(model: torch.nn.Module) -> Dict[str, float]:
    """One loss + backward on a batch of 2 template/search pairs."""
    from mmengine.structures import InstanceData
    from mmtrack.structures import TrackDataSample

    device = next(model.parameters()).device
    batch = 2
    inputs = dict(
        img=torch.randint(
            0, 255, (batch, 1, 3, 127, 127), device=device
        ).float(),
        search_img=torch.randint(
            0, 255, (batch, 1, 3, 255, 255), device=device
        ).float(),
    )
    data_samples = []
    for i in range(batch):
        sample = TrackDataSample()
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[32.0, 32.0, 96.0, 96.0]], device=device),
            labels=torch.tensor([1], device=device),
        )
        sample.search_gt_instances = InstanceData(
            bboxes=torch.tensor([[100.0, 90.0, 170.0, 160.0]], device=device),
            labels=torch.tensor([1 - i], device=device),
        )  # pos and neg pair
        data_samples.append(sample)
    model.train()
    losses = model(inputs, data_samples, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    return {k: v.item() for k, v in losses.items()}


def siamrpn_track(
    model: torch.nn.Module, frames: List[np.ndarray], init_box: List[float]
) -> List[List[float]]:
    """Track with SiamRPN++ in OPE mode; returns xyxy boxes per frame."""
    from mmengine.structures import InstanceData
    from mmtrack.structures import TrackDataSample

    device = next(model.parameters()).device
    model.eval()
    boxes = []
    with torch.no_grad():
        for frame_id, frame in enumerate(frames):
            img = torch.from_numpy(frame).permute(2, 0, 1).float()
            sample = TrackDataSample(
                metainfo=dict(
                    frame_id=frame_id,
                    ori_shape=frame.shape[:2],
                    img_shape=frame.shape[:2],
                )
            )
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor(
                    [init_box], dtype=torch.float32, device=device
                )
            )
            result = model(
                dict(img=img[None, None].to(device)), [sample], mode='predict'
            )
            boxes.append(result[0].pred_track_instances.bboxes[0].tolist())
    return boxes


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--frames', type=int, default=4)
    args = parser.parse_args(argv)
    # mmengine 0.10.7 imports pkg_resources (hence the setuptools<81 pin).
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    torch.manual_seed(0)
    start = time.perf_counter()
    model = build_siamrpn(args.device)
    print(
        f'built SiamRPN++ from {SIAMRPN_CONFIG} '
        f'({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M '
        'parameters, random weights)'
    )
    losses = siamrpn_loss_step(model)
    print(
        'training step: '
        + ', '.join(f'{k}={v:.4f}' for k, v in losses.items())
    )
    frames, truth = moving_square_frames(args.frames)
    boxes = siamrpn_track(model, frames, truth[0])
    for i, box in enumerate(boxes):
        print(f'frame {i}: box {[round(v, 1) for v in box]}')
    print(
        f'smoke demo finished in {time.perf_counter() - start:.1f} s: '
        'the stack works (weights are random, so the boxes are not '
        'meaningful).'
    )
    return dict(losses=losses, boxes=boxes)


if __name__ == '__main__':
    main()
