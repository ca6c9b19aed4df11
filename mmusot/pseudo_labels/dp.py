# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""Dynamic programming over candidate boxes (paper Sec. 3.1, Eq. (3)).

Official ``smooth_bbox_dp`` of
``preprocessing/datasets_train/<dataset>/parse_<dataset>_flow.py``.
"""

from typing import List, Sequence, Tuple

import numpy as np

from .boxes import box_diou


def transition_reward(
    box: np.ndarray,
    prev_boxes: np.ndarray,
    gamma: float = 4.1,
    negative_factor: float = 3.0,
) -> np.ndarray:
    """Eq. 3 transition reward: DIoU between consecutive path boxes.

    ``r = IoU - gamma * rho^2 / c^2``; the official code multiplies negative
    rewards by 3 (``negative_factor``; 1 gives the paper's form).

    Args:
        box (np.ndarray): of shape (4,), [x1, y1, x2, y2].
        prev_boxes (np.ndarray): of shape (M, 4), same format.
        gamma (float): DIoU distance weight. Defaults to 4.1.
        negative_factor (float): multiplier of negative rewards.
            Defaults to 3.0.

    Returns:
        np.ndarray: of shape (M,), float64.
    """
    r = box_diou(np.asarray(box)[None], prev_boxes, gamma)
    return np.where(r < 0, r * negative_factor, r)


def dp_select_boxes(
    candidates: Sequence[np.ndarray],
    gamma: float = 4.1,
    node_reward: float = 0.091,
    look_back: int = 100,
    negative_factor: float = 3.0,
) -> List[Tuple[int, int]]:
    """Eq. 3: the highest-reward smooth path through the candidates.

    Nodes are the frames with at least one candidate, in time order. Any
    earlier node within ``look_back`` nodes may precede a node (frames can
    be skipped), a path may start anywhere, and every box on the path earns
    ``node_reward`` (the supplementary material's K). The code minimises
    cost = -reward: ties go to the later-scanned predecessor, a new path is
    started only when strictly better, and the path ends at the minimal
    cost, on ties at the earliest node and its last such candidate.

    Args:
        candidates (Sequence[np.ndarray]): per node, of shape (K_n, 4),
            K_n >= 1, [x1, y1, x2, y2]. Nodes without candidates must be
            left out by the caller.
        gamma (float): DIoU weight of Eq. 3. Defaults to 4.1.
        node_reward (float): K, reward per box on the path.
            Defaults to 0.091.
        look_back (int): number of earlier nodes a node may link to.
            Defaults to 100.
        negative_factor (float): multiplier of negative transition rewards.
            Defaults to 3.0.

    Returns:
        list[tuple[int, int]]: the path as (node index, candidate index)
        pairs in time order; empty if there are no nodes.
    """
    n = len(candidates)
    if n == 0:
        return []
    cands = [
        np.asarray(c, dtype=np.float64).reshape(-1, 4) for c in candidates
    ]
    for i, c in enumerate(cands):
        if len(c) == 0:
            raise ValueError(f'DP node {i} has no candidate box')
    # Flattened (node, candidate) table so a look-back window is one slice.
    node_of = np.concatenate([np.full(len(c), i) for i, c in enumerate(cands)])
    cand_of = np.concatenate([np.arange(len(c)) for c in cands])
    all_boxes = np.concatenate(cands)
    first_flat = np.concatenate([[0], np.cumsum([len(c) for c in cands])])
    cost = np.zeros(len(all_boxes))
    parent = np.full(len(all_boxes), -1)
    for i in range(n):
        lo = first_flat[max(0, i - look_back)]
        hi = first_flat[i]
        for j in range(len(cands[i])):
            flat = first_flat[i] + j
            best, best_parent = -node_reward, -1
            if hi > lo:
                r = transition_reward(
                    cands[i][j], all_boxes[lo:hi], gamma, negative_factor
                )
                via = cost[lo:hi] - r - node_reward
                m = via.min()
                if m <= best:  # ties: the later-scanned predecessor
                    best = m
                    best_parent = lo + int(np.flatnonzero(via == m)[-1])
            cost[flat], parent[flat] = best, best_parent
    # The official end search scans nodes from the last to the first and,
    # inside a node, candidates 0..K-1, keeping the last '<='. Among equal
    # minima this is the earliest node and, inside it, its last candidate.
    ties = np.flatnonzero(cost == cost.min())
    first_node = node_of[ties[0]]
    end = int(ties[node_of[ties] == first_node][-1])
    path = []
    while end >= 0:
        path.append((int(node_of[end]), int(cand_of[end])))
        end = int(parent[end])
    return path[::-1]
