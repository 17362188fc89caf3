"""Match detected atom columns to true ones and score the detection.

A detection is correct when it lies within ``tolerance`` pixels of a true column that no
closer detection claimed. Matching is greedy by distance (the closest remaining pair
first), computed as repeated rounds of mutual nearest neighbours: a pair that are each
other's nearest is exactly the pair greedy would take, so the rounds give the greedy
result without a Python loop over pairs. When ``tolerance`` is below half the column
spacing (the intended use) every detection has at most one candidate and greedy matching
is also optimal.
"""

from __future__ import annotations

import torch

from emkit_atomfinder.points import PointSets

#: Above this many distance entries a sample is matched in row chunks.
_CHUNK_ENTRIES = 1 << 22


def _nearest(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row of ``a`` the distance to and index of its nearest row of ``b``."""
    dist, idx = [], []
    step = max(1, _CHUNK_ENTRIES // max(len(b), 1))
    for start in range(0, len(a), step):
        d = torch.cdist(a[start:start + step], b)
        m = d.min(1)
        dist.append(m.values)
        idx.append(m.indices)
    return torch.cat(dist), torch.cat(idx)


def match_points(pred: torch.Tensor, true: torch.Tensor, tolerance: float
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One-to-one greedy matching of ``pred`` (P, 2) to ``true`` (T, 2) within ``tolerance``.

    Returns ``(pred_index, true_index, distance)`` of the matched pairs.
    """
    device = pred.device
    pred = pred.double()
    true = true.to(device).double()
    free_p = torch.arange(len(pred), device=device)
    free_t = torch.arange(len(true), device=device)
    mp, mt, md = [], [], []
    while len(free_p) and len(free_t):
        p, t = pred[free_p], true[free_t]
        d_pt, nn_pt = _nearest(p, t)  # for each free pred its nearest free true
        _, nn_tp = _nearest(t, p)
        mutual = (nn_tp[nn_pt] == torch.arange(len(p), device=device)) & (d_pt <= tolerance)
        if not bool(mutual.any()):
            break
        pi = torch.nonzero(mutual).squeeze(1)
        ti = nn_pt[pi]
        mp.append(free_p[pi])
        mt.append(free_t[ti])
        md.append(d_pt[pi])
        keep_p = torch.ones(len(free_p), dtype=torch.bool, device=device)
        keep_p[pi] = False
        keep_t = torch.ones(len(free_t), dtype=torch.bool, device=device)
        keep_t[ti] = False
        free_p, free_t = free_p[keep_p], free_t[keep_t]
    if not mp:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return empty, empty.clone(), torch.zeros(0, dtype=torch.float64, device=device)
    return torch.cat(mp), torch.cat(mt), torch.cat(md)


def _inside(points: torch.Tensor, shape: tuple[int, int], border: float) -> torch.Tensor:
    h, w = shape
    y, x = points[:, 0], points[:, 1]
    return (y >= border) & (y <= h - 1 - border) & (x >= border) & (x <= w - 1 - border)


def detection_scores(pred: PointSets, true: PointSets, *, tolerance: float, shape: tuple[int, int],
                     border: float = 0.0) -> dict[str, torch.Tensor]:
    """Per-sample precision, recall, F1 and localisation error (1-D tensors of length B).

    Columns within ``border`` pixels of the image edge are not scored (their mask discs
    are cut, so their reference positions are biased): a true column there is neither
    found nor missed, and a detection there counts only if it matches a scored column.
    Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN), with
    0/0 scored 1 (nothing to find, nothing found). ``loc_error`` is the mean distance in
    pixels of the matched pairs; a sample without any match scores ``tolerance`` (the
    worst a match can be) so that averages over samples stay finite. ``n_true`` and
    ``n_pred`` are the scored column counts.
    """
    if len(pred) != len(true):
        raise ValueError(f"got {len(pred)} predicted and {len(true)} true point sets")
    rows: dict[str, list[float]] = {k: [] for k in ("precision", "recall", "f1", "loc_error", "n_true", "n_pred")}
    for p, t in zip(pred, true):
        t = t.to(p.device)
        pi, ti, dist = match_points(p, t, tolerance)
        t_in = _inside(t, shape, border)
        p_in = _inside(p, shape, border)
        scored = t_in[ti]
        tp = int(scored.sum())
        fn = int(t_in.sum()) - tp
        matched = torch.zeros(len(p), dtype=torch.bool, device=p.device)
        matched[pi] = True
        fp = int((p_in & ~matched).sum())
        rows["precision"].append(tp / (tp + fp) if tp + fp else 1.0)
        rows["recall"].append(tp / (tp + fn) if tp + fn else 1.0)
        rows["f1"].append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
        rows["loc_error"].append(float(dist[scored].mean()) if tp else float(tolerance))
        rows["n_true"].append(float(tp + fn))
        rows["n_pred"].append(float(tp + fp))
    device = pred[0].device if pred else "cpu"
    return {k: torch.tensor(v, dtype=torch.float32, device=device) for k, v in rows.items()}
