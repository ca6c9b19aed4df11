# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Box / polygon overlap for the VOT reset protocol, without ``vot``.

The VOT supervised protocol of the official test script declares a failure
when the
tracked box no longer overlaps the ground-truth region, which in VOT2016-18
is a rotated polygon. The official test script asks the ``vot`` toolkit
(``vot.region.calculate_overlap``, bounded by the image); these functions
compute the same overlap with numpy only.
"""

from typing import Optional, Tuple

import numpy as np

#: Vertices of an axis-aligned ``[x1, y1, x2, y2]`` box as a polygon.
_RECT_CORNERS = ((0, 1), (2, 1), (2, 3), (0, 3))


def polygon_area(poly: np.ndarray) -> float:
    """Shoelace area of a simple polygon.

    Args:
        poly (np.ndarray): of shape (P, 2), the vertices in order.

    Returns:
        float: the area (0 for fewer than 3 vertices).
    """
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(
        float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    )


def clip_polygon(
    poly: np.ndarray, x1: float, y1: float, x2: float, y2: float
) -> np.ndarray:
    """Sutherland-Hodgman clip of a polygon by an axis-aligned rectangle.

    Args:
        poly (np.ndarray): of shape (P, 2), the vertices in order.
        x1 (float): left edge of the rectangle.
        y1 (float): top edge.
        x2 (float): right edge.
        y2 (float): bottom edge.

    Returns:
        np.ndarray: of shape (Q, 2), float64, the clipped polygon (Q = 0
        when nothing is inside).
    """

    def clip(points, inside, cross):
        out = []
        for i in range(len(points)):
            cur, prev = points[i], points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
        return out

    def at_x(xv):
        return lambda p, q: (
            xv,
            p[1] + (q[1] - p[1]) * (xv - p[0]) / (q[0] - p[0]),
        )

    def at_y(yv):
        return lambda p, q: (
            p[0] + (q[0] - p[0]) * (yv - p[1]) / (q[1] - p[1]),
            yv,
        )

    points = [tuple(p) for p in poly]
    for inside, cross in (
        (lambda p: p[0] >= x1, at_x(x1)),
        (lambda p: p[0] <= x2, at_x(x2)),
        (lambda p: p[1] >= y1, at_y(y1)),
        (lambda p: p[1] <= y2, at_y(y2)),
    ):
        if not points:
            break
        points = clip(points, inside, cross)
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def region_overlap(
    box: np.ndarray,
    region: np.ndarray,
    bounds: Optional[Tuple[float, float]] = None,
) -> float:
    """IoU of an axis-aligned box with a box or polygon region.

    A dependency-free stand-in for ``vot.region.calculate_overlap``: both
    regions are first cut to the image ``bounds`` (when given).

    Args:
        box (np.ndarray): of shape (4,) in ``[x1, y1, x2, y2]`` format.
        region (np.ndarray): of shape (4,) ``[x1, y1, x2, y2]`` or (2P,)
            polygon ``[x1, y1, x2, y2, ...]``.
        bounds (tuple[float, float], optional): image ``(w, h)``.
            Defaults to None (unbounded).

    Returns:
        float: IoU in [0, 1].
    """
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    region = np.asarray(region, dtype=np.float64).reshape(-1)
    if region.size == 4:
        region = np.array([region[i] for c in _RECT_CORNERS for i in c])
    poly = region.reshape(-1, 2)
    bx1, by1, bx2, by2 = box
    if bounds is not None:
        poly = clip_polygon(poly, 0.0, 0.0, float(bounds[0]), float(bounds[1]))
        bx1, bx2 = np.clip([bx1, bx2], 0.0, float(bounds[0]))
        by1, by2 = np.clip([by1, by2], 0.0, float(bounds[1]))
    area_box = max(bx2 - bx1, 0.0) * max(by2 - by1, 0.0)
    area_poly = polygon_area(poly)
    if area_box <= 0 or area_poly <= 0:
        return 0.0
    inter = polygon_area(clip_polygon(poly, bx1, by1, bx2, by2))
    union = area_box + area_poly - inter
    return float(inter / union) if union > 0 else 0.0
