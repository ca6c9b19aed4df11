# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Box geometry shared by the pseudo-label stages (numpy only)."""

import numpy as np

_EPS = 1e-12


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Element-wise IoU of two broadcastable box arrays.

    Args:
        boxes1 (np.ndarray): of shape (..., 4) in [x1, y1, x2, y2] format,
            pixels.
        boxes2 (np.ndarray): of shape (..., 4), same format, broadcastable
            against ``boxes1``.

    Returns:
        np.ndarray: IoU values of the broadcast shape without the last axis.
    """
    b1 = np.asarray(boxes1, dtype=np.float64)
    b2 = np.asarray(boxes2, dtype=np.float64)
    iw = np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(
        b1[..., 0], b2[..., 0]
    )
    ih = np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(
        b1[..., 1], b2[..., 1]
    )
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    union = area1 + area2 - inter
    return np.where(union > 0, inter / np.maximum(union, _EPS), 0.0)


def box_diou(
    boxes1: np.ndarray, boxes2: np.ndarray, gamma: float = 1.0
) -> np.ndarray:
    """Distance-IoU with a weight on the centre-distance penalty.

    ``IoU - gamma * rho^2 / c^2`` where rho is the distance between the box
    centres and c the diagonal of the smallest enclosing box.

    Args:
        boxes1 (np.ndarray): of shape (..., 4) in [x1, y1, x2, y2] format.
        boxes2 (np.ndarray): of shape (..., 4), broadcastable, same format.
        gamma (float): weight of the centre-distance term. Defaults to 1.0.

    Returns:
        np.ndarray: DIoU values of the broadcast shape without the last axis.
    """
    b1 = np.asarray(boxes1, dtype=np.float64)
    b2 = np.asarray(boxes2, dtype=np.float64)
    iou = box_iou(b1, b2)
    cx1 = (b1[..., 0] + b1[..., 2]) / 2
    cy1 = (b1[..., 1] + b1[..., 3]) / 2
    cx2 = (b2[..., 0] + b2[..., 2]) / 2
    cy2 = (b2[..., 1] + b2[..., 3]) / 2
    rho2 = (cx1 - cx2) ** 2 + (cy1 - cy2) ** 2
    ew = np.maximum(b1[..., 2], b2[..., 2]) - np.minimum(
        b1[..., 0], b2[..., 0]
    )
    eh = np.maximum(b1[..., 3], b2[..., 3]) - np.minimum(
        b1[..., 1], b2[..., 1]
    )
    c2 = ew**2 + eh**2
    penalty = np.where(c2 > 0, rho2 / np.maximum(c2, _EPS), 0.0)
    return iou - gamma * penalty


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] -> [x, y, w, h] (same dtype, shape (..., 4))."""
    boxes = np.asarray(boxes)
    out = boxes.copy()
    out[..., 2] = boxes[..., 2] - boxes[..., 0]
    out[..., 3] = boxes[..., 3] - boxes[..., 1]
    return out


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """[x, y, w, h] -> [x1, y1, x2, y2] (same dtype, shape (..., 4))."""
    boxes = np.asarray(boxes)
    out = boxes.copy()
    out[..., 2] = boxes[..., 0] + boxes[..., 2]
    out[..., 3] = boxes[..., 1] + boxes[..., 3]
    return out
