"""Greedy matching and detection scores."""

from __future__ import annotations

import pytest
import torch

from emkit_atomfinder.matching import detection_scores, match_points


def greedy_reference(pred, true, tol):
    """Textbook greedy matching: closest remaining pair first."""
    d = torch.cdist(pred.double(), true.double())
    pairs = sorted((float(d[i, j]), i, j) for i in range(len(pred)) for j in range(len(true)) if d[i, j] <= tol)
    used_p, used_t, out = set(), set(), []
    for dist, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return sorted(out)


@pytest.mark.parametrize("seed", range(6))
def test_mutual_nearest_rounds_equal_greedy(seed):
    g = torch.Generator().manual_seed(seed)
    true = torch.rand(30, 2, generator=g) * 20
    pred = torch.cat([true[:20] + torch.randn(20, 2, generator=g) * 1.5, torch.rand(15, 2, generator=g) * 20])
    pi, ti, dist = match_points(pred, true, tolerance=3.0)
    assert sorted(zip(pi.tolist(), ti.tolist())) == greedy_reference(pred, true, 3.0)
    assert torch.allclose(dist, torch.linalg.norm(pred[pi].double() - true[ti].double(), dim=1))


def test_scores_count_tp_fp_fn_and_localisation_error():
    true = [torch.tensor([[10.0, 10.0], [20.0, 20.0], [30.0, 30.0], [40.0, 40.0]])]
    pred = [torch.tensor([[10.0, 11.0], [20.5, 20.0], [25.0, 25.0]])]  # 2 TP, 1 FP, 2 FN
    s = detection_scores(pred, true, tolerance=2.0, shape=(64, 64))
    assert s["precision"].item() == pytest.approx(2 / 3)
    assert s["recall"].item() == pytest.approx(0.5)
    assert s["f1"].item() == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    assert s["loc_error"].item() == pytest.approx(0.75)
    assert s["n_true"].item() == 4 and s["n_pred"].item() == 3


def test_border_columns_are_not_scored():
    true = [torch.tensor([[1.0, 30.0], [30.0, 30.0]])]
    pred = [torch.tensor([[1.5, 30.0], [30.0, 30.2], [62.5, 5.0]])]  # matched border, TP, FP in border
    s = detection_scores(pred, true, tolerance=2.0, shape=(64, 64), border=3)
    assert (s["precision"].item(), s["recall"].item(), s["n_true"].item(), s["n_pred"].item()) == (1.0, 1.0, 1, 1)
    assert s["loc_error"].item() == pytest.approx(0.2, abs=1e-5)


def test_empty_cases_score_by_convention():
    empty = torch.zeros(0, 2)
    one = torch.tensor([[5.0, 5.0]])
    s = detection_scores([empty, empty, one], [empty, one, empty], tolerance=2.0, shape=(16, 16))
    assert s["f1"].tolist() == [1.0, 0.0, 0.0]
    assert s["precision"].tolist() == [1.0, 1.0, 0.0]
    assert s["recall"].tolist() == [1.0, 0.0, 1.0]
    assert s["loc_error"].tolist() == [2.0, 2.0, 2.0]  # no match: the tolerance


def test_large_sets_are_matched_in_chunks(monkeypatch):
    import emkit_atomfinder.matching as matching

    monkeypatch.setattr(matching, "_CHUNK_ENTRIES", 64)
    g = torch.Generator().manual_seed(1)
    true = torch.rand(200, 2, generator=g) * 100
    pred = true + 0.1
    pi, ti, _ = match_points(pred, true, 1.0)
    assert len(pi) == 200 and torch.equal(pi.sort().values, ti.sort().values)
