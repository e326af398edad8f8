"""Regression heads on the (L2-normalised) query embedding: small MLPs, trained with Adam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HeadConfig:
    hidden: int = 128
    dropout: float = 0.1
    epochs: int = 60
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-3


def make_head(dim: int, cfg: HeadConfig) -> Any:
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(dim, cfg.hidden),
        nn.GELU(),
        nn.Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, 1),
    )


def train_head(
    x: np.ndarray, y: np.ndarray, cfg: HeadConfig, seed: int, weights: np.ndarray | None = None
) -> Any:
    """Weighted MSE regression of y on x. Targets are standardised internally."""
    import torch
    import torch.nn as nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mu, sd = float(np.mean(y)), float(np.std(y) + 1e-6)
    head = make_head(x.shape[1], cfg)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(((y - mu) / sd).astype(np.float32))
    wt = torch.from_numpy(
        (np.ones_like(y) if weights is None else weights / weights.mean()).astype(np.float32)
    )
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(y)
    steps = max(1, cfg.epochs * ((n + cfg.batch_size - 1) // cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    head.train()
    for _ in range(cfg.epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for s in range(0, n, cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            pred = head(xt[idx]).squeeze(-1)
            loss = (wt[idx] * (pred - yt[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    head.eval()
    # Fold the de-standardisation into the last layer so the module outputs y directly.
    with torch.no_grad():
        last = head[-1]
        assert isinstance(last, nn.Linear)
        last.weight.mul_(sd)
        last.bias.mul_(sd).add_(mu)
    return head


def predict_head(head: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        out = head(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).squeeze(-1)
    return np.asarray(out.numpy(), dtype=np.float64)


def oof_predictions(
    x: np.ndarray, y: np.ndarray, cfg: HeadConfig, seed: int, folds: int = 5
) -> np.ndarray:
    """Out-of-fold predictions (for calibrating the IRT scale on unseen-query b-hat)."""
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, folds, size=len(y))
    out = np.zeros(len(y), dtype=np.float64)
    for k in range(folds):
        tr, te = fold != k, fold == k
        if te.sum() == 0 or tr.sum() == 0:
            continue
        head = train_head(x[tr], y[tr], cfg, seed + k + 1)
        out[te] = predict_head(head, x[te])
    return out


def train_irt_head(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    chance: np.ndarray,
    cfg: HeadConfig,
    seed: int,
    theta_init: np.ndarray | None = None,
) -> tuple[Any, np.ndarray]:
    """Amortised IRT: b-hat = MLP(x) trained directly on the outcome likelihood.

    P(m solves i) = c_i + (1 - c_i) sigmoid(theta_m - MLP(x_i)); theta is learned jointly.
    No noisy per-item b_i targets in between (an MMLU item has only two binary outcomes).
    """
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = make_head(x.shape[1], cfg)
    theta = torch.nn.Parameter(
        torch.zeros(y.shape[1])
        if theta_init is None
        else torch.from_numpy(theta_init.astype(np.float32))
    )
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt, mt = torch.from_numpy(y), torch.from_numpy(mask)
    ct = torch.from_numpy(chance)[:, None]
    opt = torch.optim.AdamW(
        [
            {"params": head.parameters(), "weight_decay": cfg.weight_decay},
            {"params": [theta], "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    n = len(x)
    steps = max(1, cfg.epochs * ((n + cfg.batch_size - 1) // cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    head.train()
    for _ in range(cfg.epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for s in range(0, n, cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            b = head(xt[idx])  # [B, 1]
            p = ct[idx] + (1 - ct[idx]) * torch.sigmoid(theta[None, :] - b)
            p = p.clamp(1e-6, 1 - 1e-6)
            yy, mm = yt[idx], mt[idx]
            nll = -(yy * torch.log(p) + (1 - yy) * torch.log1p(-p))
            loss = (nll * mm).sum() / mm.sum().clamp(min=1.0) + 1e-3 * (theta**2).mean()
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
    head.eval()
    return head, theta.detach().numpy().astype(np.float64)


def make_skill_head(dim: int, skills: int, cfg: HeadConfig) -> Any:
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(dim, cfg.hidden),
        nn.GELU(),
        nn.Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, skills),
    )


def no_skill_head() -> Any:
    """The ``skills`` output at width 0: the graph contract keeps the output, no skill term."""
    import torch
    import torch.nn as nn

    class NoSkills(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :0]

    return NoSkills().eval()


def train_skill_head(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    chance: np.ndarray,
    offset: np.ndarray,
    skills: int,
    cfg: HeadConfig,
    seed: int,
    profiles: np.ndarray | None = None,
) -> tuple[Any, np.ndarray]:
    """Low-rank skill term on top of the 1-D scale: logit[i, m] = offset[i, m] + s(x_i) · u_m.

    ``offset`` is the fixed 1-D part, a (theta_m - b-hat_i) with out-of-fold b-hat, so the skill
    head only learns what one difficulty number cannot say: which *kinds* of query a model is
    better or worse at than its overall ability predicts (e.g. a 7B code model that beats a 51B
    generalist on code). ``profiles`` (u, [n_models, skills]) fixed: train only s(x) against
    profiles learned elsewhere (the fast encoder reuses the transformer's, so one policy's
    tier skill vectors serve both encoders). Returns (head, u).
    """
    import torch

    if skills == 0:
        return no_skill_head(), np.zeros((y.shape[1], 0))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = make_skill_head(x.shape[1], skills, cfg)
    learn_u = profiles is None
    u = torch.nn.Parameter(
        torch.zeros(y.shape[1], skills)
        if profiles is None
        else torch.from_numpy(np.asarray(profiles, dtype=np.float32)),
        requires_grad=learn_u,
    )
    groups: list[dict[str, Any]] = [{"params": head.parameters(), "weight_decay": cfg.weight_decay}]
    if learn_u:
        groups.append({"params": [u], "weight_decay": cfg.weight_decay})
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt, mt = torch.from_numpy(y), torch.from_numpy(mask)
    ot = torch.from_numpy(np.ascontiguousarray(offset, dtype=np.float32))
    ct = torch.from_numpy(chance)[:, None]
    n = len(x)
    head.train()
    for _ in range(cfg.epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for s in range(0, n, cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            logit = ot[idx] + head(xt[idx]) @ u.T
            p = (ct[idx] + (1 - ct[idx]) * torch.sigmoid(logit)).clamp(1e-6, 1 - 1e-6)
            yy, mm = yt[idx], mt[idx]
            nll = -(yy * torch.log(p) + (1 - yy) * torch.log1p(-p))
            loss = (nll * mm).sum() / mm.sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
    head.eval()
    return head, u.detach().numpy().astype(np.float64)


def predict_skills(head: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        out = head(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
    return np.asarray(out.numpy(), dtype=np.float64)
