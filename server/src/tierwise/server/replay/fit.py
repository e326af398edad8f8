"""Re-fit the policy's IRT parameters (tier abilities, discrimination) and, optionally, a
linear difficulty head on the user's labelled queries.

P(tier t solves query i) = sigmoid(a · (θ_t − b_i)); graded outcomes are fractional targets
of the Bernoulli log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

# Weak Gaussian priors toward the current policy: a tier's ability moves freely with a few
# dozen labelled queries but cannot run off to ±infinity when a tier never (or always) fails.
PRIOR_SD_ABILITY: Final = 1.0
PRIOR_SD_LOG_DISCRIMINATION: Final = 0.5
# Per-query difficulty targets for the head shrink toward the current prediction.
PRIOR_SD_QUERY_DIFFICULTY: Final = 2.0
DISCRIMINATION_RANGE: Final = (0.01, 20.0)  # what a policy file accepts
CV_FOLDS: Final = 5
# Ridge penalty = λ · n; λ is picked by k-fold CV from this grid.
RIDGE_LAMBDAS: Final = tuple(float(x) for x in np.logspace(-5, 1, 13))
# A re-fitted head is adopted only if it lowers the validation log-loss by at least this much
# (nats per outcome): a head ties the policy to one encoder, so a tie keeps the shipped one.
HEAD_MIN_GAIN_NATS: Final = 1e-3


def log_loss(b: np.ndarray, y: np.ndarray, theta: np.ndarray, a: float) -> float:
    """Mean Bernoulli log-loss per outcome (fractional targets allowed)."""
    z = a * (theta[None, :] - b[:, None])
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)))


def brier(b: np.ndarray, y: np.ndarray, theta: np.ndarray, a: float) -> float:
    z = np.clip(a * (theta[None, :] - b[:, None]), -60, 60)
    p = 1.0 / (1.0 + np.exp(-z))
    return float(np.mean((p - y) ** 2))


def _objective(
    b: np.ndarray, y: np.ndarray, theta: np.ndarray, u: float, theta0: np.ndarray, u0: float
) -> float:
    z = np.exp(u) * (theta[None, :] - b[:, None])
    nll = float(np.sum(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)))
    prior = float(np.sum((theta - theta0) ** 2)) / (2 * PRIOR_SD_ABILITY**2)
    prior += (u - u0) ** 2 / (2 * PRIOR_SD_LOG_DISCRIMINATION**2)
    return nll + prior


def fit_abilities(
    b: np.ndarray,
    y: np.ndarray,
    theta0: np.ndarray,
    a0: float,
    *,
    fit_discrimination: bool,
    max_iter: int = 100,
) -> tuple[np.ndarray, float]:
    """Maximum a-posteriori (θ, a) by Fisher scoring with a backtracking line search."""
    n_tiers = len(theta0)
    u0 = float(np.log(a0))
    theta, u = theta0.astype(np.float64).copy(), u0
    current = _objective(b, y, theta, u, theta0, u0)
    lo, hi = np.log(DISCRIMINATION_RANGE[0]), np.log(DISCRIMINATION_RANGE[1])
    for _ in range(max_iter):
        a = float(np.exp(u))
        z = a * (theta[None, :] - b[:, None])
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
        r, w = p - y, p * (1.0 - p)
        grad = np.zeros(n_tiers + 1)
        hess = np.zeros((n_tiers + 1, n_tiers + 1))
        grad[:n_tiers] = a * r.sum(axis=0) + (theta - theta0) / PRIOR_SD_ABILITY**2
        hess[np.arange(n_tiers), np.arange(n_tiers)] = (
            a * a * w.sum(axis=0) + 1.0 / PRIOR_SD_ABILITY**2
        )
        if fit_discrimination:
            grad[n_tiers] = float(np.sum(r * z)) + (u - u0) / PRIOR_SD_LOG_DISCRIMINATION**2
            cross = a * np.sum(w * z, axis=0)
            hess[:n_tiers, n_tiers] = hess[n_tiers, :n_tiers] = cross
            hess[n_tiers, n_tiers] = float(np.sum(w * z * z)) + 1.0 / PRIOR_SD_LOG_DISCRIMINATION**2
            step = np.linalg.solve(hess, grad)
        else:
            step = np.zeros(n_tiers + 1)
            step[:n_tiers] = grad[:n_tiers] / np.diag(hess)[:n_tiers]
        scale = 1.0
        while scale > 1e-6:
            cand_theta = theta - scale * step[:n_tiers]
            cand_u = float(np.clip(u - scale * step[n_tiers], lo, hi))
            value = _objective(b, y, cand_theta, cand_u, theta0, u0)
            if value <= current:
                break
            scale /= 2
        else:
            break
        converged = float(np.max(np.abs(scale * step))) < 1e-9
        theta, u, current = cand_theta, cand_u, value
        if converged:
            break
    return theta, float(np.exp(u))


def fold_ids(n: int, rng: np.random.Generator, folds: int = CV_FOLDS) -> np.ndarray:
    return rng.permutation(np.arange(n) % folds)


@dataclass(frozen=True)
class AbilityFit:
    theta: np.ndarray  # [T]
    discrimination: float
    joint: bool  # True when discrimination was re-fitted too
    cv_log_loss_fixed: float  # k-fold CV log-loss with the current discrimination
    cv_log_loss_joint: float  # ... with discrimination re-fitted jointly


def fit_policy_parameters(
    b: np.ndarray, y: np.ndarray, theta0: np.ndarray, a0: float, rng: np.random.Generator
) -> AbilityFit:
    """Fit abilities alone and abilities + discrimination; keep the one with the lower k-fold
    cross-validated log-loss."""
    folds = fold_ids(len(b), rng)
    losses = {}
    for joint in (False, True):
        total = 0.0
        for k in range(CV_FOLDS):
            train, test = folds != k, folds == k
            theta, a = fit_abilities(b[train], y[train], theta0, a0, fit_discrimination=joint)
            total += log_loss(b[test], y[test], theta, a) * int(test.sum())
        losses[joint] = total / len(b)
    joint = losses[True] < losses[False]
    theta, a = fit_abilities(b, y, theta0, a0, fit_discrimination=joint)
    return AbilityFit(theta, a, joint, losses[False], losses[True])


def query_difficulties(
    prior: np.ndarray, y: np.ndarray, theta: np.ndarray, a: float, iterations: int = 30
) -> np.ndarray:
    """Per-query difficulty from its outcomes (abilities fixed), shrunk toward ``prior``:
    a query every tier solves gets a low but finite difficulty."""
    b = prior.astype(np.float64).copy()
    precision = 1.0 / PRIOR_SD_QUERY_DIFFICULTY**2
    for _ in range(iterations):
        z = a * (theta[None, :] - b[:, None])
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
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
            totals[j] += log_loss(x_test @ weights + bias, y[test], theta, a) * int(test.sum())
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
