"""Item-response theory fit: P(m solves i) = c_i + (1 - c_i) * sigmoid(a * (theta_m - b_i)).

Joint fit of item difficulties b_i and model abilities theta_m over all sources (graded scores
are fractional targets). Sources share no models (LLMRouter's 9 open models never meet
Mixtral/GPT-4), so the scales are linked through the query text: b_i = w.x_i + w0 + delta_i
(x_i = the query embedding, delta_i L2-penalised). Similar questions therefore get similar
difficulty whichever benchmark they came from. Full-batch L-BFGS in torch (seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np


@dataclass(frozen=True)
class Observations:
    item: np.ndarray  # int64 [n_obs]
    model: np.ndarray  # int64 [n_obs]
    y: np.ndarray  # float32 [n_obs] in [0,1]
    chance: np.ndarray  # float32 [n_obs] (c of the item)
    models: tuple[str, ...]


def build_observations(
    outcomes: Sequence[dict[str, float]], chances: Sequence[float]
) -> Observations:
    models = tuple(sorted({m for o in outcomes for m in o}))
    index = {m: k for k, m in enumerate(models)}
    it, mo, y, c = [], [], [], []
    for i, (o, ch) in enumerate(zip(outcomes, chances, strict=True)):
        for m, v in o.items():
            it.append(i)
            mo.append(index[m])
            y.append(v)
            c.append(ch)
    return Observations(
        item=np.asarray(it, dtype=np.int64),
        model=np.asarray(mo, dtype=np.int64),
        y=np.asarray(y, dtype=np.float32),
        chance=np.asarray(c, dtype=np.float32),
        models=models,
    )


@dataclass(frozen=True, eq=False)
class OutcomeMatrix:
    """Dense outcomes of items (rows) by models (columns)."""

    y: np.ndarray  # float32 [n_items, n_models], 0 where unobserved
    mask: np.ndarray  # float32 [n_items, n_models], 1 where observed
    chance: np.ndarray  # float32 [n_items]


def outcome_matrix(
    outcomes: Sequence[Mapping[str, float]], chances: Sequence[float], models: Sequence[str]
) -> OutcomeMatrix:
    """Rows = items, columns = ``models``; outcomes of other models are left out."""
    column = {m: k for k, m in enumerate(models)}
    y = np.zeros((len(outcomes), len(column)), dtype=np.float32)
    mask = np.zeros_like(y)
    for row, o in enumerate(outcomes):
        for m, v in o.items():
            if m in column:
                y[row, column[m]] = v
                mask[row, column[m]] = 1.0
    return OutcomeMatrix(y=y, mask=mask, chance=np.asarray(chances, dtype=np.float32))


@dataclass(frozen=True)
class IRTFit:
    theta: dict[str, float]
    b: np.ndarray  # [n_items]
    loss: float


def _nll(logits: object, y: object, c: object) -> object:
    import torch

    assert isinstance(logits, torch.Tensor) and isinstance(y, torch.Tensor)
    assert isinstance(c, torch.Tensor)
    p = c + (1.0 - c) * torch.sigmoid(logits)
    p = p.clamp(1e-6, 1 - 1e-6)
    return -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).mean()


def fit_irt(
    obs: Observations,
    x: np.ndarray,
    l2_theta: float = 1e-3,
    l2_delta: float = 3e-2,
    l2_w: float = 1e-3,
    max_iter: int = 300,
) -> IRTFit:
    """Fit theta_m, b_i (with embedding prior x [n_items, d]); discrimination fixed at 1."""
    import torch

    torch.manual_seed(0)
    n_items, d = x.shape
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    theta = torch.zeros(len(obs.models), requires_grad=True)
    w = torch.zeros(d, requires_grad=True)
    w0 = torch.zeros(1, requires_grad=True)
    delta = torch.zeros(n_items, requires_grad=True)
    it = torch.from_numpy(obs.item)
    mo = torch.from_numpy(obs.model)
    y = torch.from_numpy(obs.y)
    c = torch.from_numpy(obs.chance)
    opt = torch.optim.LBFGS(
        [theta, w, w0, delta], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe"
    )
    n_per_item = max(1.0, len(obs.y) / max(1, n_items))

    def closure() -> torch.Tensor:
        opt.zero_grad()
        b = xt @ w + w0 + delta
        loss = _nll(theta[mo] - b[it], y, c)
        assert isinstance(loss, torch.Tensor)
        reg = (
            l2_theta * (theta**2).mean()
            + l2_delta * (delta**2).mean() / n_per_item * 10
            + l2_w * (w**2).sum()
        )
        total = loss + reg
        total.backward()
        return cast(torch.Tensor, total)

    opt.step(closure)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        b = (xt @ w + w0 + delta).numpy().astype(np.float64)
        final = float(_nll(theta[mo] - torch.from_numpy(b).float()[it], y, c))  # type: ignore[arg-type]
    return IRTFit(
        theta={m: float(t) for m, t in zip(obs.models, theta.detach().numpy(), strict=True)},
        b=b,
        loss=final,
    )


def refit_abilities(
    obs: Observations, b_hat: np.ndarray, l2_theta: float = 1e-3
) -> tuple[dict[str, float], float]:
    """Given predicted difficulties b-hat (out-of-fold), refit theta_m and a shared scale a.

    These are the quantities the server uses: P = c + (1-c) sigmoid(a (theta - b-hat)); a < 1
    absorbs the uncertainty of b-hat, which keeps probabilities calibrated.
    """
    import torch

    bh = torch.from_numpy(np.asarray(b_hat, dtype=np.float32))
    theta = torch.zeros(len(obs.models), requires_grad=True)
    log_a = torch.zeros(1, requires_grad=True)
    it = torch.from_numpy(obs.item)
    mo = torch.from_numpy(obs.model)
    y = torch.from_numpy(obs.y)
    c = torch.from_numpy(obs.chance)
    opt = torch.optim.LBFGS([theta, log_a], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = _nll(torch.exp(log_a) * (theta[mo] - bh[it]), y, c)
        assert isinstance(loss, torch.Tensor)
        total = loss + l2_theta * (theta**2).mean()
        total.backward()  # type: ignore[no-untyped-call]
        return total

    opt.step(closure)  # type: ignore[no-untyped-call]
    return (
        {m: float(t) for m, t in zip(obs.models, theta.detach().numpy(), strict=True)},
        float(torch.exp(log_a).item()),
    )


def calibrate_affine(
    b_hat: np.ndarray, obs: Observations, theta: dict[str, float], scale: float
) -> tuple[float, float]:
    """alpha, beta so that c + (1-c) sigmoid(scale (theta - (alpha b + beta))) fits best."""
    import torch

    th = torch.tensor([theta[m] for m in obs.models], dtype=torch.float32)
    bh = torch.from_numpy(b_hat.astype(np.float32))
    it, mo = torch.from_numpy(obs.item), torch.from_numpy(obs.model)
    y, c = torch.from_numpy(obs.y), torch.from_numpy(obs.chance)
    params = torch.tensor([1.0, 0.0], requires_grad=True)
    opt = torch.optim.LBFGS([params], lr=1.0, max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = _nll(scale * (th[mo] - (params[0] * bh[it] + params[1])), y, c)
        assert isinstance(loss, torch.Tensor)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    a, b = params.detach().numpy().tolist()
    return float(a), float(b)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))


def success_logit(
    scale: float,
    theta: np.ndarray,
    difficulty: np.ndarray,
    skills: np.ndarray | None = None,
    profiles: np.ndarray | None = None,
) -> np.ndarray:
    """[n_queries, n_models] logit scale (theta_m - b_i) (+ skills_i . u_m).

    The training side's one copy of the success formula (numpy); the torch losses above and in
    heads.py are its differentiable twins. ``profiles`` u: [n_models, k], ``skills``: [n, k].
    """
    logit = scale * (theta[None, :] - difficulty[:, None])
    if skills is None:
        return np.asarray(logit)
    if profiles is None:
        raise ValueError("skills given without profiles")
    return np.asarray(logit + skills @ profiles.T)


def success_probability(logit: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """P(success) = c_i + (1 - c_i) sigmoid(logit[i, m]) for [n_items, n_models] logits."""
    return np.asarray(chance[:, None] + (1.0 - chance[:, None]) * sigmoid(logit))
