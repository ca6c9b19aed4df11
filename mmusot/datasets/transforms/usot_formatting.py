# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Packing of USOT samples for ``USOT.loss``."""

from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import InstanceData
from mmtrack.datasets.transforms import PackTrackInputs
from mmtrack.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackUSOTInputs(PackTrackInputs):
    """Pack a USOT sample: template, search and (cycle stage) memory.

    The first two frames go through mmtrack's :class:`PackTrackInputs`
    (``ref_prefix='search'``, one template frame); frames 2.. are the
    memory search areas of cycle memory training (paper Sec. 3.3; official
    ``lib/dataset_loader/datasets_usot.py``). Output, per sample:

    * ``inputs['img']``: (1, 3, 127, 127) template; ``inputs['search_img']``
      (1, 3, 255, 255); ``inputs['memory_img']`` (M, 3, 255, 255), only when
      the sample has memory frames. uint8 BGR (``TrackDataPreprocessor``
      makes them float 0-255).
    * ``data_sample.gt_instances`` (``bboxes`` (1, 4) xyxy in template
      pixels, ``labels``) and ``data_sample.search_gt_instances`` (search
      pixels); with ``clip_boxes`` every box is clipped to [0, side] of its
      patch first (as the official loader does after augmenting).
    * ``data_sample.memory_gt_instances``: the memory boxes (M, 4), for
      inspection only; the model finds the target in the memory frames
      itself.
    * metainfo: :class:`PackTrackInputs`' keys for template and search,
      ``search_shift`` = the search crop's ``(t_x, t_y)`` from
      :class:`USOTShiftScaleCrop` (a tuple of 2 floats, 511-crop pixels),
      and ``memory_frame_id``, ``memory_img_path`` (lists).

    Required Keys:

    - img (list[np.ndarray]): per-frame patches, at least 2.
    - gt_bboxes, gt_bboxes_labels, gt_ignore_flags (per-frame lists)
    - crop_shift (list[np.ndarray], optional): from USOTShiftScaleCrop.
    - the metainfo keys (per-frame lists)

    Added Keys:

    - inputs (dict[str, Tensor])
    - data_samples (TrackDataSample)

    Args:
        clip_boxes (bool): clip boxes to their patch. Defaults to True.
        meta_keys (tuple, optional): extra metainfo keys, as
            :class:`PackTrackInputs`. Defaults to None.
        memory_prefix (str): prefix of the memory group (``<prefix>_img``,
            ``<prefix>_gt_instances``). Defaults to 'memory'.
    """

    def __init__(
        self,
        clip_boxes: bool = True,
        meta_keys: Optional[Tuple[str, ...]] = None,
        memory_prefix: str = 'memory',
    ) -> None:
        super().__init__(
            ref_prefix='search', num_template_frames=1, meta_keys=meta_keys
        )
        self.clip_boxes = clip_boxes
        self.memory_prefix = memory_prefix

    @staticmethod
    def _clip(boxes: np.ndarray, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h)
        return boxes

    def transform(self, results: dict) -> dict:
        imgs = results.get('img')
        if not isinstance(imgs, list) or len(imgs) < 2:
            raise ValueError(
                'PackUSOTInputs needs per-frame lists with at least a '
                'template and a search frame'
            )
        num = len(imgs)
        if self.clip_boxes and 'gt_bboxes' in results:
            results['gt_bboxes'] = [
                self._clip(b, im) for b, im in zip(results['gt_bboxes'], imgs)
            ]
        pair = {}
        for key, value in results.items():
            if isinstance(value, list):
                if len(value) != num:
                    raise ValueError(
                        f'PackUSOTInputs: {key!r} has {len(value)} entries '
                        f'for {num} frames'
                    )
                pair[key] = value[:2]
        packed = super().transform(pair)
        sample = packed['data_samples']
        meta = {}
        if 'crop_shift' in results:
            shift = np.asarray(results['crop_shift'][1], np.float64)
            meta['search_shift'] = (float(shift[0]), float(shift[1]))
        if num > 2:
            memory = np.stack(imgs[2:], axis=0).transpose(0, 3, 1, 2)
            packed['inputs'][f'{self.memory_prefix}_img'] = to_tensor(
                np.ascontiguousarray(memory)
            )
            instances = InstanceData()
            if 'gt_bboxes' in results:
                instances.bboxes = to_tensor(
                    np.concatenate(results['gt_bboxes'][2:], axis=0)
                )
            if 'gt_bboxes_labels' in results:
                instances.labels = to_tensor(
                    np.concatenate(results['gt_bboxes_labels'][2:], axis=0)
                )
            setattr(sample, f'{self.memory_prefix}_gt_instances', instances)
            for key in ('frame_id', 'img_path'):
                if key in results:
                    meta[f'{self.memory_prefix}_{key}'] = list(
                        results[key][2:]
                    )
        sample.set_metainfo(meta)
        return packed

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(clip_boxes={self.clip_boxes}, '
            f'meta_keys={self.meta_keys}, '
            f'memory_prefix={self.memory_prefix!r})'
        )
