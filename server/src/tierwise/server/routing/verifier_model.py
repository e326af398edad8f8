"""A scorer of a given AUC as a binormal model: what plans and replay assume about verifiers.

A good answer's score logit is N(+d/2, 1), a bad one's N(−d/2, 1), with d = √2·Φ⁻¹(AUC) (the
binormal ROC has exactly that AUC); the score is the logistic of the logit, so thresholds
live on the same 0..1 scale a caller's scorer reports.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

_NORMAL: Final = NormalDist()


def separation(auc: float) -> float:
    """d for a scorer of this AUC (0.5 < auc < 1)."""
    if not 0.5 < auc < 1.0:
        raise ValueError(f"verifier AUC must be in (0.5, 1) (got {auc})")
    return math.sqrt(2.0) * _NORMAL.inv_cdf(auc)


def accept_rates(auc: float, threshold: float) -> tuple[float, float]:
    """(P(score ≥ threshold | good answer), P(score ≥ threshold | bad answer))."""
    if threshold <= 0.0:
        return 1.0, 1.0
    if threshold >= 1.0:
        return 0.0, 0.0
    half = separation(auc) / 2.0
    logit = math.log(threshold / (1.0 - threshold))
    return 1.0 - _NORMAL.cdf(logit - half), 1.0 - _NORMAL.cdf(logit + half)
