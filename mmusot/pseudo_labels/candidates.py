# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Flow -> distance map -> masks -> candidate boxes (Sec. 3.1, Eq. (1)-(2)).

Follows the official ``flow_to_bbox`` of
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py``: a 1/32
margin cut, two thresholds (alpha = 0.3 and 0.16), a saliency gate, 80 px
morphology, size / aspect / border filters and the Eq. (2) score with the
official multipliers.
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

# The official code cleans masks with skimage's remove_small_objects /
# remove_small_holes (4-connected by default) and labels components with
# skimage's label (8-connected by default).
MORPHOLOGY_CONNECTIVITY = 4
LABEL_CONNECTIVITY = 8


@dataclass(frozen=True)
class CandidateConfig:
    """Constants of candidate-box extraction (official ``flow_to_bbox``).

    Args:
        alphas (tuple[float]): Eq. 1 threshold weights, one candidate group
            each. Defaults to (0.3, 0.16).
        beta (float): Eq. 2 centre weight. Defaults to 0.5.
        margin_div (int): a 1/margin_div border is cut off. Defaults to 32.
        gate_mean (float): gate passes if D_mean < this. Defaults to 0.05.
        gate_ratio (float): or if D_max / D_mean > this. Defaults to 2.5.
        min_region (int): smallest kept component / hole. Defaults to 80.
        min_side_frac (float): min box side / map side. Defaults to 0.02.
        min_area (int): min box area in px. Defaults to 50.
        border_px (int): border proximity halving the score. Defaults to 15.
        max_long_frac (float): border box longer than this fraction of the
            map is dropped. Defaults to 0.7.
        max_aspect (float): max aspect ratio either way. Defaults to 6.
    """

    alphas: Tuple[float, ...] = (0.3, 0.16)
    beta: float = 0.5
    margin_div: int = 32
    gate_mean: float = 0.05
    gate_ratio: float = 2.5
    min_region: int = 80
    min_side_frac: float = 0.02
    min_area: int = 50
    border_px: int = 15
    max_long_frac: float = 0.7
    max_aspect: float = 6.0


def cut_margin(
    flow: np.ndarray, margin_div: int = CandidateConfig.margin_div
) -> Tuple[np.ndarray, int, int]:
    """Drop a 1/margin_div border of the flow map, where flow is noisy.

    As in the official code, the kept rows are ``int(H / margin_div)`` to
    ``int(H * (1 - 1 / margin_div))`` (exclusive), and the columns alike;
    when H is not a multiple of ``margin_div`` the bottom cut is one row
    wider than the top one (H = 240: rows 7..231, not 7..232).

    Args:
        flow (np.ndarray): of shape (H, W, 2).
        margin_div (int): fraction denominator. Defaults to 32.

    Returns:
        tuple: the cropped map (h_c, w_c, 2), and the row and column offsets
        (int(H / margin_div), int(W / margin_div)).
    """
    h, w = flow.shape[:2]
    keep = 1 - 1 / margin_div
    mr, mc = int(h / margin_div), int(w / margin_div)
    return flow[mr : int(h * keep), mc : int(w * keep)], mr, mc


def motion_distance_map(flow: np.ndarray) -> np.ndarray:
    """Eq. 1 (left part): distance of each flow vector from the mean flow.

    ``D(p) = || F(p) - mean_p F ||_2``; the mean flow stands for the camera
    (background) motion. Non-finite flow vectors are treated as 0.

    Args:
        flow (np.ndarray): of shape (h, w, 2), [u, v].

    Returns:
        np.ndarray: of shape (h, w), float32.
    """
    f = np.nan_to_num(flow.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    mean = f.reshape(-1, 2).mean(axis=0, dtype=np.float64)
    du = f[..., 0] - np.float32(mean[0])
    dv = f[..., 1] - np.float32(mean[1])
    return np.sqrt(du * du + dv * dv)


def motion_threshold(d_max: float, d_mean: float, alpha: float) -> float:
    """Eq. 1 (right part): ``tau = alpha * D_max + (1 - alpha) * D_mean``.

    Args:
        d_max (float): maximum of the distance map.
        d_mean (float): mean of the distance map.
        alpha (float): Eq. 1 alpha (0.3 in the paper; the code adds 0.16).

    Returns:
        float: the binarisation threshold.
    """
    return alpha * d_max + (1.0 - alpha) * d_mean


def passes_saliency_gate(
    d_max: float,
    d_mean: float,
    gate_mean: float = CandidateConfig.gate_mean,
    gate_ratio: float = CandidateConfig.gate_ratio,
) -> bool:
    """Official saliency gate: D_mean < 0.05 or D_max / D_mean > 2.5."""
    if d_mean < gate_mean:
        return True
    return d_max / d_mean > gate_ratio


def _remove_small_components(
    mask: np.ndarray, min_size: int, connectivity: int
) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=connectivity
    )
    if n <= 1:
        return mask
    keep = stats[:, cv2.CC_STAT_AREA] >= min_size
    keep[0] = False
    return keep[labels]


def clean_mask(
    mask: np.ndarray, min_region: int = CandidateConfig.min_region
) -> np.ndarray:
    """Remove 4-connected blobs and fill 4-connected holes below min_region.

    Args:
        mask (np.ndarray): of shape (h, w), bool.
        min_region (int): components / holes smaller than this (in pixels)
            are removed / filled. Defaults to 80.

    Returns:
        np.ndarray: of shape (h, w), bool.
    """
    mask = _remove_small_components(mask, min_region, MORPHOLOGY_CONNECTIVITY)
    holes = ~mask
    big_holes = _remove_small_components(
        holes, min_region, MORPHOLOGY_CONNECTIVITY
    )
    return ~big_holes


def box_score(
    r0: int,
    c0: int,
    r1: int,
    c1: int,
    h_c: int,
    w_c: int,
    beta: float = CandidateConfig.beta,
) -> float:
    """Eq. 2: box area plus beta times the product of the border distances.

    ``S = h_b * w_b + beta * min(r0, h_c - r1) * min(c0, w_c - c1)``: large
    boxes are preferred, and boxes far from the image border.

    Args:
        r0 (int): top row (inclusive), cropped-map pixels.
        c0 (int): left column (inclusive).
        r1 (int): bottom row (exclusive).
        c1 (int): right column (exclusive).
        h_c (int): height of the cropped map.
        w_c (int): width of the cropped map.
        beta (float): centre weight. Defaults to 0.5.

    Returns:
        float: the score S.
    """
    return float(
        (r1 - r0) * (c1 - c0) + beta * min(r0, h_c - r1) * min(c0, w_c - c1)
    )


def score_component(
    r0: int,
    c0: int,
    r1: int,
    c1: int,
    h_c: int,
    w_c: int,
    peak_rc: Tuple[int, int],
    cfg: CandidateConfig,
) -> Optional[float]:
    """Eq. (2) score with the official filters and multipliers.

    Args:
        r0, c0, r1, c1 (int): component box, cropped-map pixels, r1 / c1
            exclusive.
        h_c, w_c (int): size of the cropped map.
        peak_rc (tuple[int, int]): (row, col) of the distance-map argmax.
        cfg (CandidateConfig): constants.

    Returns:
        float | None: the score, or None if the component is rejected.
    """
    h_b, w_b = r1 - r0, c1 - c0
    if (
        h_b < cfg.min_side_frac * h_c
        or w_b < cfg.min_side_frac * w_c
        or h_b * w_b < cfg.min_area
    ):
        return None
    score = box_score(r0, c0, r1, c1, h_c, w_c, cfg.beta)
    pr, pc = peak_rc
    if r0 <= pr <= r1 and c0 <= pc <= c1:
        score *= 2
    if min(r0, h_c - r1) <= cfg.border_px:
        score /= 2
        if w_b > cfg.max_long_frac * w_c:
            return None
    if min(c0, w_c - c1) <= cfg.border_px:
        score /= 2
        if h_b > cfg.max_long_frac * h_c:
            return None
    if h_b == 0 or w_b == 0:
        return None
    if h_b / w_b > cfg.max_aspect or w_b / h_b > cfg.max_aspect:
        return None
    return score


def best_component_box(
    mask: np.ndarray, peak_rc: Tuple[int, int], cfg: CandidateConfig
) -> Optional[Tuple[int, int, int, int]]:
    """The top-scoring 8-connected component of a cleaned mask.

    Args:
        mask (np.ndarray): of shape (h_c, w_c), bool, already cleaned.
        peak_rc (tuple[int, int]): (row, col) of the distance-map argmax.
        cfg (CandidateConfig): constants.

    Returns:
        tuple | None: (r0, c0, r1, c1) with r1 / c1 exclusive, or None.
    """
    h_c, w_c = mask.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=LABEL_CONNECTIVITY
    )
    best, best_score = None, None
    for k in range(1, n):
        c0 = int(stats[k, cv2.CC_STAT_LEFT])
        r0 = int(stats[k, cv2.CC_STAT_TOP])
        c1 = c0 + int(stats[k, cv2.CC_STAT_WIDTH])
        r1 = r0 + int(stats[k, cv2.CC_STAT_HEIGHT])
        s = score_component(r0, c0, r1, c1, h_c, w_c, peak_rc, cfg)
        if s is not None and (best_score is None or s > best_score):
            best, best_score = (r0, c0, r1, c1), s
    return best


def candidate_boxes(
    flow: np.ndarray, cfg: Optional[CandidateConfig] = None
) -> np.ndarray:
    """Candidate boxes of the moving object in one frame (Eq. 1-2).

    Args:
        flow (np.ndarray): of shape (H, W, 2), forward flow in original-frame
            pixels.
        cfg (CandidateConfig, optional): constants; official by default.

    Returns:
        np.ndarray: of shape (K, 4), K in 0..len(cfg.alphas), float64,
        [x1, y1, x2, y2] in original-frame pixels.
    """
    cfg = cfg or CandidateConfig()
    h, w = flow.shape[:2]
    cropped, _, _ = cut_margin(flow, cfg.margin_div)
    if cropped.size == 0:
        return np.zeros((0, 4))
    dist = motion_distance_map(cropped)
    d_max, d_mean = float(dist.max()), float(dist.mean())
    if not passes_saliency_gate(d_max, d_mean, cfg.gate_mean, cfg.gate_ratio):
        return np.zeros((0, 4))
    peak_rc = np.unravel_index(int(np.argmax(dist)), dist.shape)
    boxes: List[Sequence[float]] = []
    off_x, off_y = w / cfg.margin_div, h / cfg.margin_div
    for alpha in cfg.alphas:
        mask = clean_mask(
            dist >= motion_threshold(d_max, d_mean, alpha), cfg.min_region
        )
        found = best_component_box(mask, peak_rc, cfg)
        if found is not None:
            r0, c0, r1, c1 = found
            boxes.append((c0 + off_x, r0 + off_y, c1 + off_x, r1 + off_y))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
