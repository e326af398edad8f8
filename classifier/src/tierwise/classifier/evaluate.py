"""Routing and calibration metrics, and the Markdown validation report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def apgr(score: np.ndarray, y_weak: np.ndarray, y_strong: np.ndarray) -> float:
    """RouteLLM's average performance gap recovered (random routing = 0.5).

    Queries are sent to the strong model in decreasing ``score`` order; PGR at each
    call fraction k/n is (perf - perf_weak) / (perf_strong - perf_weak); APGR is its mean
    over all fractions (trapezoid over k = 0..n).
    """
    y_weak = np.asarray(y_weak, dtype=np.float64)
    y_strong = np.asarray(y_strong, dtype=np.float64)
    n = len(score)
    gap = y_strong.mean() - y_weak.mean()
    if n == 0 or abs(gap) < 1e-12:
        return float("nan")
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    gain = (y_strong - y_weak)[order]
    perf = y_weak.sum() + np.concatenate([[0.0], np.cumsum(gain)])
    pgr = (perf / n - y_weak.mean()) / gap
    return float(np.trapezoid(pgr, dx=1.0 / n))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((np.asarray(p) - np.asarray(y)) ** 2))


@dataclass(frozen=True)
class Reliability:
    ece: float
    rows: list[tuple[float, float, int, float, float]]  # lo, hi, n, mean p, mean outcome


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> Reliability:
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    ece = 0.0
    for k in range(bins):
        sel = idx == k
        cnt = int(sel.sum())
        mp = float(p[sel].mean()) if cnt else float("nan")
        my = float(y[sel].mean()) if cnt else float("nan")
        if cnt:
            ece += cnt / len(p) * abs(mp - my)
        rows.append((float(edges[k]), float(edges[k + 1]), cnt, mp, my))
    return Reliability(ece=float(ece), rows=rows)


def length_errors(pred_log: np.ndarray, true_log: np.ndarray) -> dict[str, float]:
    d = np.asarray(pred_log, dtype=np.float64) - np.asarray(true_log, dtype=np.float64)
    return {
        "mae_log_tokens": float(np.mean(np.abs(d))),
        "median_abs_pct_error": float(np.median(np.abs(np.exp(d) - 1.0)) * 100.0),
        "n": float(len(d)),
    }


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    def rank(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v), dtype=np.float64)
        r[order] = np.arange(len(v))
        # average ties
        _, inv = np.unique(v, return_inverse=True)
        sums = np.bincount(inv, weights=r)
        cnts = np.bincount(inv)
        return np.asarray((sums / cnts)[inv])

    if len(a) < 3:
        return float("nan")
    return float(np.corrcoef(rank(np.asarray(a)), rank(np.asarray(b)))[0, 1])
