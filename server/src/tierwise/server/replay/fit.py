"""Re-fit the policy's parameters (tier abilities, discrimination, tier skill vectors) and,
optionally, a linear difficulty head on the user's labelled queries.

P(tier t solves query i) = σ(a · (θ_t − b_i) + s_i · u_t) (tierwise.classifier.success), s_i the
query's skill profile (a model output) and u_t the tier's skill vector; graded outcomes are
fractional targets of the Bernoulli log-likelihood. ``offset`` arguments carry s_i · u_t
([n, T]) where u is held fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from tierwise.classifier import success
from tierwise.server.routing.policy import DISCRIMINATION_RANGE, SKILL_LIMIT

# Weak Gaussian priors toward the current policy: a tier's ability moves freely with a few
# dozen labelled queries but cannot run off to ±infinity when a tier never (or always) fails.
PRIOR_SD_ABILITY: Final = 1.0
PRIOR_SD_LOG_DISCRIMINATION: Final = 0.5
# Skill vectors have 8 free numbers per tier: a tighter prior keeps 100 queries from fitting
# noise (the shipped vectors have entries of about ±0.5).
PRIOR_SD_SKILL: Final = 0.3
# Per-query difficulty targets for the head shrink toward the current prediction.
PRIOR_SD_QUERY_DIFFICULTY: Final = 2.0
CV_FOLDS: Final = 5
# Ridge penalty = λ · n; λ is picked by k-fold CV from this grid.
RIDGE_LAMBDAS: Final = tuple(float(x) for x in np.logspace(-5, 1, 13))
# A re-fitted head is adopted only if it lowers the validation log-loss by at least this much
# (nats per outcome): a head ties the policy to one encoder, so a tie keeps the shipped one.
HEAD_MIN_GAIN_NATS: Final = 1e-3


def _logits(b: np.ndarray, theta: np.ndarray, a: float, offset: np.ndarray | None) -> np.ndarray:
    """[n, T] logits of every query against every tier."""
    return success.success_logit(theta[None, :], b[:, None], a, 0.0 if offset is None else offset)


def log_loss(
    b: np.ndarray, y: np.ndarray, theta: np.ndarray, a: float, offset: np.ndarray | None = None
) -> float:
    """Mean Bernoulli log-loss per outcome (fractional targets allowed)."""
    return float(np.mean(success.log_loss(_logits(b, theta, a, offset), y)))


def brier(
    b: np.ndarray, y: np.ndarray, theta: np.ndarray, a: float, offset: np.ndarray | None = None
) -> float:
    p = success.p_success(_logits(b, theta, a, offset))
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class TierParameters:
    theta: np.ndarray  # [T]
    discrimination: float
    skills: np.ndarray  # [T, k] (k = 0: no skill term)

    def offset(self, s: np.ndarray) -> np.ndarray:
        """[n, T] skill term s_i · u_t for query profiles s [n, k]."""
        if self.skills.shape[1] == 0:
            return np.zeros((len(s), len(self.theta)))
        return np.asarray(s @ self.skills.T)


def _unpack(vec: np.ndarray, n_tiers: int, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    theta = vec[:n_tiers]
    u = vec[n_tiers : n_tiers + n_tiers * k].reshape(n_tiers, k)
    return theta, u, float(vec[-1])


def fit_abilities(
    b: np.ndarray,
    y: np.ndarray,
    start: TierParameters,
    s: np.ndarray,
    *,
    fit_discrimination: bool,
    fit_skills: bool,
    max_iter: int = 100,
) -> TierParameters:
    """Maximum a-posteriori parameters by Fisher scoring with a backtracking line search.

    Abilities always move; the discrimination and the tier skill vectors only when asked (with
    Gaussian priors centred on ``start``). Without ``fit_skills`` the skill term is a fixed
    offset. ``s`` [n, k]: the queries' skill profiles.
    """
    n, n_tiers = y.shape
    k = start.skills.shape[1] if fit_skills else 0
    offset = np.zeros((n, n_tiers)) if fit_skills else start.offset(s)
    s_fit = s if fit_skills else np.zeros((n, 0))
    prior = np.concatenate(
        [
            start.theta,
            start.skills.reshape(-1) if fit_skills else [],
            [np.log(start.discrimination)],
        ]
    ).astype(np.float64)
    sd = np.concatenate(
        [
            np.full(n_tiers, PRIOR_SD_ABILITY),
            np.full(n_tiers * k, PRIOR_SD_SKILL),
            [PRIOR_SD_LOG_DISCRIMINATION],
        ]
    )
    free = np.ones(len(prior), dtype=bool)
    free[-1] = fit_discrimination

    def logits(vec: np.ndarray) -> np.ndarray:
        theta, u, log_a = _unpack(vec, n_tiers, k)
        return _logits(b, theta, float(np.exp(log_a)), success.skill_term(s_fit, u) + offset)

    def objective(vec: np.ndarray) -> float:
        nll = float(np.sum(success.log_loss(logits(vec), y)))
        return nll + float(np.sum(((vec - prior)[free] / sd[free]) ** 2)) / 2

    vec = prior.copy()
    current = objective(vec)
    lo, hi = np.log(DISCRIMINATION_RANGE[0]), np.log(DISCRIMINATION_RANGE[1])
    for _ in range(max_iter):
        theta, u, log_a = _unpack(vec, n_tiers, k)
        a = float(np.exp(log_a))
        p = success.p_success(logits(vec))
        r, w = (p - y).reshape(-1), (p * (1.0 - p)).reshape(-1)
        # Jacobian of z (flattened [n * T]) with respect to (θ, u, log a).
        jac = np.zeros((n * n_tiers, len(vec)))
        rows = np.arange(n * n_tiers)
        tier_of_row = np.tile(np.arange(n_tiers), n)
        jac[rows, tier_of_row] = a
        if k:
            for t in range(n_tiers):
                jac[rows[tier_of_row == t], n_tiers + t * k : n_tiers + (t + 1) * k] = s_fit
        jac[:, -1] = _logits(b, theta, a, None).reshape(-1)  # ∂z/∂log a = a (θ − b)
        precision = np.where(free, 1.0 / sd**2, 0.0)
        grad = jac.T @ r + (vec - prior) * precision
        hess = jac.T @ (jac * w[:, None]) + np.diag(precision)
        step = np.zeros_like(vec)
        step[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        scale = 1.0
        while scale > 1e-6:
            cand = vec - scale * step
            cand[-1] = float(np.clip(cand[-1], lo, hi))
            cand[n_tiers : n_tiers + n_tiers * k] = np.clip(
                cand[n_tiers : n_tiers + n_tiers * k], -SKILL_LIMIT, SKILL_LIMIT
            )
            value = objective(cand)
            if value <= current:
                break
            scale /= 2
        else:
            break
        converged = float(np.max(np.abs(scale * step))) < 1e-9
        vec, current = cand, value
        if converged:
            break
    theta, u, log_a = _unpack(vec, n_tiers, k)
    return TierParameters(
        theta=theta.copy(),
        discrimination=float(np.exp(log_a)),
        skills=u.copy() if fit_skills else start.skills,
    )


def fold_ids(n: int, rng: np.random.Generator, folds: int = CV_FOLDS) -> np.ndarray:
    return rng.permutation(np.arange(n) % folds)


@dataclass(frozen=True)
class AbilityFit:
    parameters: TierParameters
    joint: bool  # True when discrimination was re-fitted too
    skills_refitted: bool  # True when the tier skill vectors were re-fitted
    cv_log_loss: dict[str, float]  # k-fold CV log-loss of each variant tried

    @property
    def theta(self) -> np.ndarray:
        return self.parameters.theta

    @property
    def discrimination(self) -> float:
        return self.parameters.discrimination


def fit_policy_parameters(
    b: np.ndarray, y: np.ndarray, start: TierParameters, s: np.ndarray, rng: np.random.Generator
) -> AbilityFit:
    """Fit abilities alone, with the discrimination, with the tier skill vectors, and with
    both; keep the variant with the lowest k-fold cross-validated log-loss."""
    folds = fold_ids(len(b), rng)
    variants = [(False, False), (True, False)]
    if start.skills.shape[1]:
        variants += [(False, True), (True, True)]
    losses: dict[tuple[bool, bool], float] = {}
    for joint, skills in variants:
        total = 0.0
        for k in range(CV_FOLDS):
            train, test = folds != k, folds == k
            fitted = fit_abilities(
                b[train], y[train], start, s[train], fit_discrimination=joint, fit_skills=skills
            )
            total += log_loss(
                b[test], y[test], fitted.theta, fitted.discrimination, fitted.offset(s[test])
            ) * int(test.sum())
        losses[(joint, skills)] = total / len(b)
    joint, skills = min(losses, key=lambda v: losses[v])
    fitted = fit_abilities(b, y, start, s, fit_discrimination=joint, fit_skills=skills)
    names = {
        (False, False): "abilities",
        (True, False): "abilities+discrimination",
        (False, True): "abilities+skills",
        (True, True): "abilities+discrimination+skills",
    }
    return AbilityFit(fitted, joint, skills, {names[v]: loss for v, loss in losses.items()})


def query_difficulties(
    prior: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    a: float,
    offset: np.ndarray | None = None,
    iterations: int = 30,
) -> np.ndarray:
    """Per-query difficulty from its outcomes (abilities fixed), shrunk toward ``prior``:
    a query every tier solves gets a low but finite difficulty."""
    b = prior.astype(np.float64).copy()
    precision = 1.0 / PRIOR_SD_QUERY_DIFFICULTY**2
    for _ in range(iterations):
        p = success.p_success(_logits(b, theta, a, offset))
        grad = -a * np.sum(p - y, axis=1) + (b - prior) * precision
        hess = a * a * np.sum(p * (1.0 - p), axis=1) + precision
        step = np.clip(grad / hess, -2.0, 2.0)
        b -= step
        if float(np.max(np.abs(step))) < 1e-9:
            break
    return b


@dataclass(frozen=True)
class RidgeHead:
    weights: np.ndarray  # float64 [d]
    bias: float
    ridge_lambda: float
    cv_log_loss: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(x, dtype=np.float64) @ self.weights + self.bias)


class _Ridge:
    """Ridge with intercept for many penalties from one eigendecomposition."""

    def __init__(self, x: np.ndarray, target: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        self.x_mean = x.mean(axis=0)
        self.y_mean = float(target.mean())
        centred = x - self.x_mean
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(centred.T @ centred)
        self.projected = self.eigenvectors.T @ (centred.T @ (target - self.y_mean))
        self.n = len(target)

    def solve(self, lam: float) -> tuple[np.ndarray, float]:
        penalty = lam * self.n
        weights = self.eigenvectors @ (self.projected / (np.maximum(self.eigenvalues, 0) + penalty))
        return weights, self.y_mean - float(self.x_mean @ weights)


def fit_head(
    x: np.ndarray,
    targets: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    a: float,
    rng: np.random.Generator,
    offset: np.ndarray | None = None,
) -> RidgeHead:
    """Ridge from embeddings to per-query difficulty targets; λ by k-fold CV of the outcome
    log-loss under (θ, a)."""
    folds = fold_ids(len(targets), rng)
    totals = np.zeros(len(RIDGE_LAMBDAS))
    for k in range(CV_FOLDS):
        train, test = folds != k, folds == k
        ridge = _Ridge(x[train], targets[train])
        x_test = np.asarray(x[test], dtype=np.float64)
        for j, lam in enumerate(RIDGE_LAMBDAS):
            weights, bias = ridge.solve(lam)
            off = None if offset is None else offset[test]
            totals[j] += log_loss(x_test @ weights + bias, y[test], theta, a, off) * int(test.sum())
    best = int(np.argmin(totals))
    weights, bias = _Ridge(x, targets).solve(RIDGE_LAMBDAS[best])
    return RidgeHead(weights, bias, RIDGE_LAMBDAS[best], float(totals[best] / len(targets)))


def should_adopt_head(shipped_log_loss: float, refitted_log_loss: float) -> bool:
    """Adopt the re-fitted head only if it beats the shipped one on held-out queries."""
    return refitted_log_loss < shipped_log_loss - HEAD_MIN_GAIN_NATS


def bimodality_coefficient(values: np.ndarray) -> float:
    """Sarle's bimodality coefficient; above 5/9 (a uniform distribution) hints at two peaks."""
    n = len(values)
    if n < 4:
        return 0.0
    centred = values - values.mean()
    sd = float(np.sqrt(np.mean(centred**2)))
    if sd == 0:
        return 0.0
    skew = float(np.mean(centred**3)) / sd**3
    excess = float(np.mean(centred**4)) / sd**4 - 3.0
    return (skew**2 + 1.0) / (excess + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
