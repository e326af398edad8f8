"""Stage 5, heads: per encoder, the difficulty (MLP + kNN), skill and length heads, OOD
centroids, and the IRT scale the server uses (abilities refit on out-of-fold difficulty).

The transformer is fitted first: its out-of-fold difficulty sets the abilities, scale and
skill profiles; the fast encoder is calibrated onto that scale and reuses the profiles, so
one policy's tier parameters serve both graphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tierwise.classifier import heads as mlp
from tierwise.classifier import irt, knn, ridge
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.features import Features
from tierwise.classifier.pipeline.targets import Targets


@dataclass(frozen=True, eq=False)
class Abilities:
    """P(model m solves i) = c_i + (1 - c_i) sigmoid(scale (theta_m - b_i) + s_i . u_m)."""

    models: tuple[str, ...]  # targets.models
    theta: dict[str, float]  # abilities refit on the transformer's out-of-fold difficulty
    scale: float
    profiles: np.ndarray  # u, float64 [n_models, skill_dims]

    def theta_vector(self) -> np.ndarray:
        return np.array([self.theta[m] for m in self.models])


@dataclass(frozen=True, eq=False)
class EncoderHeads:
    difficulty: Any  # torch head (ridge or MLP) on the head input (affine folded in without kNN)
    length: Any  # torch MLP: log output tokens
    skills: Any  # torch MLP: skill profile [skill_dims]
    centroids: np.ndarray  # float32 [n_centroids, d], unit k-means centres of the embeddings
    knn_bank: np.ndarray | None  # float16 [n_train, d] training embeddings; None: no kNN term
    # difficulty = alpha * ((1 - knn_weight) * MLP + knn_weight * kNN) + beta
    alpha: float
    beta: float
    difficulty_oof: np.ndarray  # float64 [n_train], calibrated out-of-fold difficulty


@dataclass(frozen=True, eq=False)
class Heads:
    encoders: dict[str, EncoderHeads]  # in config.encoder_names order
    abilities: Abilities
    knn: knn.KnnConfig
    knn_weight: float
    knn_prior: float  # mean training difficulty: the kNN's pseudo-neighbour value


def knn_config(config: TrainConfig) -> knn.KnnConfig:
    return knn.KnnConfig(config.knn_k, config.knn_temperature, config.knn_prior_sim)


def fit_heads(
    config: TrainConfig,
    data: TrainingData,
    targets: Targets,
    features: Features,
    clock: Clock | None = None,
) -> Heads:
    kcfg = knn_config(config)
    prior_b = float(np.mean(targets.difficulty))
    hcfg = mlp.HeadConfig(hidden=config.head_hidden, epochs=config.head_epochs)
    scfg = mlp.HeadConfig(hidden=config.head_hidden, epochs=config.skill_epochs)
    obs, outcomes, tr_idx = targets.observations, targets.outcomes, data.train_idx
    abilities: Abilities | None = None
    fitted: dict[str, EncoderHeads] = {}
    for name in config.encoder_names:
        x = features.encoders[name].embedding
        xh = features.encoders[name].head_input
        b_oof, difficulty_head = _difficulty_head(
            config,
            xh[tr_idx],
            targets,
            hcfg,
            theta_init=np.array([targets.irt_fit.theta[m] for m in obs.models]),
        )
        wk = config.knn_weight
        bank: np.ndarray | None = None
        if wk > 0:
            bank = x[tr_idx].astype(np.float16)
            b_loo = knn.leave_one_out(bank.astype(np.float32), targets.difficulty, kcfg, prior_b)
            b_oof = (1.0 - wk) * b_oof + wk * b_loo
        if abilities is None:
            theta, scale = irt.refit_abilities(obs, b_oof)
            abilities = Abilities(obs.models, theta, scale, np.zeros((len(obs.models), 0)))
            alpha, beta = 1.0, 0.0
        else:
            alpha, beta = irt.calibrate_affine(b_oof, obs, abilities.theta, abilities.scale)
        if wk <= 0:
            _fold_affine(difficulty_head, alpha, beta)
        b_cal = alpha * b_oof + beta
        skill_head, u = mlp.train_skill_head(
            xh[tr_idx],
            outcomes.y,
            outcomes.mask,
            outcomes.chance,
            irt.success_logit(abilities.scale, abilities.theta_vector(), b_cal),
            config.skill_dims,
            scfg,
            config.seed + 200,
            profiles=abilities.profiles if fitted else None,
        )
        abilities = Abilities(abilities.models, abilities.theta, abilities.scale, u)
        length_idx = targets.length_train_idx
        length_head = mlp.train_head(
            xh[length_idx], targets.log_output_tokens[length_idx], hcfg, config.seed + 100
        )
        fitted[name] = EncoderHeads(
            difficulty=difficulty_head,
            length=length_head,
            skills=skill_head,
            centroids=_kmeans(x[~data.held_out], config.n_centroids, config.seed),
            knn_bank=bank,
            alpha=alpha,
            beta=beta,
            difficulty_oof=b_cal,
        )
        if clock:
            clock.lap(f"heads_{name}")
    if abilities is None:
        raise ValueError("no encoders to fit heads for")
    return Heads(
        encoders=fitted,
        abilities=abilities,
        knn=kcfg,
        knn_weight=config.knn_weight,
        knn_prior=prior_b,
    )


def _difficulty_head(
    config: TrainConfig,
    x: np.ndarray,
    targets: Targets,
    hcfg: mlp.HeadConfig,
    theta_init: np.ndarray,
) -> tuple[np.ndarray, Any]:
    """(out-of-fold b-hat on the training items, final head trained on all of them)."""
    if config.difficulty_method == "ridge":
        b = targets.difficulty
        penalty = config.ridge_penalty
        b_oof = ridge.out_of_fold(x, b, penalty, config.oof_folds, config.seed)
        return b_oof, ridge.torch_head(ridge.fit_ridge(x, b, penalty))
    if config.difficulty_method == "regress":
        b = targets.difficulty
        b_oof = mlp.oof_predictions(x, b, hcfg, config.seed, folds=config.oof_folds)
        return b_oof, mlp.train_head(x, b, hcfg, config.seed)
    if config.difficulty_method != "amortised":
        raise ValueError(f"unknown difficulty_method {config.difficulty_method!r}")
    y, mask, chance = targets.outcomes.y, targets.outcomes.mask, targets.outcomes.chance
    rng = np.random.default_rng(config.seed)
    fold = rng.integers(0, config.oof_folds, size=len(x))
    b_oof = np.zeros(len(x), dtype=np.float64)
    for k in range(config.oof_folds):
        tr, te = fold != k, fold == k
        if te.sum() == 0 or tr.sum() == 0:
            continue
        h, _ = mlp.train_irt_head(
            x[tr], y[tr], mask[tr], chance[tr], hcfg, config.seed + k + 1, theta_init
        )
        b_oof[te] = mlp.predict_head(h, x[te])
    head, _ = mlp.train_irt_head(x, y, mask, chance, hcfg, config.seed, theta_init)
    return b_oof, head


def _fold_affine(head: Any, alpha: float, beta: float) -> None:
    import torch

    with torch.no_grad():
        head[-1].weight.mul_(alpha)
        head[-1].bias.mul_(alpha).add_(beta)


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    k = max(1, min(k, len(x)))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    c = km.cluster_centers_.astype(np.float32)
    return np.asarray(c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12))
