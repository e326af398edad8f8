"""The router's success model, written once for training, runtime, server, replay and bench.

    P(tier solves query) = c + (1 − c) · σ(z),    z = a · (θ − b) + s · u

θ the tier's (or model's) ability, b the query's difficulty, a the discrimination (IRT slope),
s the query's skill profile (a model output), u the tier's skill vector, c the chance of a
correct guess (0 for open-ended answers).

Every function takes python floats or numpy arrays. With floats the arithmetic stays in
python (``math.exp``, ``math.fsum``) so the server's per-tier estimate costs no array
allocation and keeps the exact numbers it has always reported; with arrays it broadcasts
like numpy (pass ``theta[None, :]`` and ``b[:, None]`` for a query × tier matrix).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# |z| is clipped before exp(−z): σ(±60) is 0 or 1 to within 1e-26, so no probability that
# matters moves, while exp(60) ≈ 1e26 stays far from float64 overflow (exp(709)). A clip at
# 30 (used by training until now) would cap P at 1 − 9e-14, a visible change in reported
# probabilities for very easy queries.
LOGIT_CLIP: Final = 60.0


Number = float | int


@overload
def success_logit(
    ability: Number, difficulty: Number, discrimination: float, offset: Number = 0.0
) -> float: ...


@overload
def success_logit(
    ability: npt.ArrayLike,
    difficulty: npt.ArrayLike,
    discrimination: float,
    offset: npt.ArrayLike = 0.0,
) -> FloatArray: ...


def success_logit(
    ability: npt.ArrayLike,
    difficulty: npt.ArrayLike,
    discrimination: float,
    offset: npt.ArrayLike = 0.0,
) -> float | FloatArray:
    """z = a · (θ − b) + s · u; ``offset`` is the skill term s · u (:func:`skill_term`)."""
    if (
        isinstance(ability, Number)
        and isinstance(difficulty, Number)
        and isinstance(offset, Number)
    ):
        z = discrimination * (ability - difficulty)
        return z + offset if offset else float(z)
    z_array = discrimination * (
        np.asarray(ability, dtype=np.float64) - np.asarray(difficulty, dtype=np.float64)
    )
    if np.ndim(offset) or offset:
        z_array = z_array + np.asarray(offset, dtype=np.float64)
    return np.asarray(z_array, dtype=np.float64)


@overload
def skill_term(  # type: ignore[overload-overlap]  # a flat sequence is also array-like
    query_skills: Sequence[float], tier_skills: Sequence[float]
) -> float: ...


@overload
def skill_term(query_skills: npt.ArrayLike, tier_skills: npt.ArrayLike) -> FloatArray: ...


def skill_term(query_skills: npt.ArrayLike, tier_skills: npt.ArrayLike) -> float | FloatArray:
    """s · u. Two flat sequences (one query, one tier) give a float, summed exactly; arrays
    give ``s @ u.T``: profiles [n, k] with one vector [k] → [n], with vectors [T, k] → [n, T].
    An empty sequence on either side means no skill term (0)."""
    if isinstance(query_skills, Sequence) and isinstance(tier_skills, Sequence):
        if not len(query_skills) or not len(tier_skills):
            return 0.0
        return math.fsum(
            float(u) * float(s) for u, s in zip(tier_skills, query_skills, strict=True)
        )
    s = np.asarray(query_skills, dtype=np.float64)
    u = np.asarray(tier_skills, dtype=np.float64)
    return np.asarray(s @ u.T, dtype=np.float64)


@overload
def p_success(logit: Number, chance: Number = 0.0) -> float: ...


@overload
def p_success(logit: npt.ArrayLike, chance: npt.ArrayLike = 0.0) -> FloatArray: ...


def p_success(logit: npt.ArrayLike, chance: npt.ArrayLike = 0.0) -> float | FloatArray:
    """c + (1 − c) · σ(z), z clipped to ±:data:`LOGIT_CLIP`."""
    if isinstance(logit, Number) and isinstance(chance, Number):
        sigma = 1.0 / (1.0 + math.exp(-max(-LOGIT_CLIP, min(LOGIT_CLIP, logit))))
        return sigma if chance == 0 else chance + (1.0 - chance) * sigma
    z = np.clip(np.asarray(logit, dtype=np.float64), -LOGIT_CLIP, LOGIT_CLIP)
    c = np.asarray(chance, dtype=np.float64)
    return np.asarray(c + (1.0 - c) / (1.0 + np.exp(-z)), dtype=np.float64)


def log_loss(logit: npt.ArrayLike, outcome: npt.ArrayLike) -> FloatArray:
    """Bernoulli negative log-likelihood of ``outcome`` (fractional allowed) under P = σ(z),
    per element; computed from z directly (no clip needed, exact for large |z|)."""
    z = np.asarray(logit, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    return np.asarray(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z))
