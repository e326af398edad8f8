"""Validation metrics of a bundle: routing (APGR), calibration, length, difficulty ordering.

Scores come from the staged graphs through the runtime (what ships); the cross-fitted APGR
adds out-of-fold scores for every training query.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier import evaluate as ev
from tierwise.classifier import heads as mlp
from tierwise.classifier import irt
from tierwise.classifier.graph_io import OUTPUT_NAMES
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.heads import Abilities
from tierwise.classifier.pipeline.targets import Targets

_N51 = "llama-3.1-nemotron-51b-instruct"
_N49 = "llama-3.3-nemotron-super-49b-v1"
# (name, weak, strong, source filter)
PAIRS: tuple[tuple[str, str, str, str], ...] = (
    ("MMLU Mixtral→GPT-4", data_mod.MIXTRAL, data_mod.GPT4, "routellm-mmlu"),
    ("GSM8K Mixtral→GPT-4", data_mod.MIXTRAL, data_mod.GPT4, "routellm-gsm8k"),
    ("GSM8K GPT-3 6B→175B (finetuned)", "gpt3-6b-finetuned", "gpt3-175b-finetuned", "gsm8k-gpt3"),
    ("GSM8K GPT-3 6B→175B (verifier)", "gpt3-6b-verifier", "gpt3-175b-verifier", "gsm8k-gpt3"),
    # LLMRouter: 7-9B -> 49-51B pairs with a clear validation gap (>= 0.1). Llama-3.1-8B vs
    # Nemotron-Super-49B is left out: their validation means differ by 0.002 (APGR undefined).
    ("LLMRouter Mistral-7B→Nemotron-51B", "mistral-7b-instruct-v0.3", _N51, "llmrouter"),
    ("LLMRouter ChatQA-1.5-8B→Nemotron-51B", "llama3-chatqa-1.5-8b", _N51, "llmrouter"),
    ("LLMRouter CodeGemma-7B→Nemotron-Super-49B", "codegemma-7b", _N49, "llmrouter"),
    ("LLMRouter Qwen2.5-7B→Nemotron-51B", "qwen2.5-7b-instruct", _N51, "llmrouter"),
    ("LLMRouter CodeGemma-7B→Gemma-2-9B", "codegemma-7b", "gemma-2-9b-it", "llmrouter"),
)
# Per-item runtime outputs kept from scoring (the graph outputs plus the token count).
SCORED_FIELDS = (*OUTPUT_NAMES, "n_tokens")


@dataclass(frozen=True, eq=False)
class Scores:
    """Runtime outputs of the staged graphs for the items ``index`` (held out, and MATH)."""

    index: np.ndarray  # int64 item indices
    outputs: dict[str, dict[str, np.ndarray]]  # encoder -> SCORED_FIELDS -> rows of index

    def rows(self, items: np.ndarray | list[int]) -> np.ndarray:
        """Positions in ``index`` of the given item indices (each must have been scored)."""
        pos = {int(i): k for k, i in enumerate(self.index)}
        return np.array([pos[int(i)] for i in items], dtype=np.int64)

    def of(self, encoder: str, field: str, items: np.ndarray | list[int]) -> np.ndarray:
        return np.asarray(self.outputs[encoder][field][self.rows(items)])


def score_items(
    bundle_dir: Path, encoder_names: tuple[str, ...], texts: list[str], index: np.ndarray
) -> Scores:
    from tierwise.classifier.runtime import RouterModel

    chosen = [texts[i] for i in index]
    outputs: dict[str, dict[str, np.ndarray]] = {}
    for name in encoder_names:
        model = RouterModel.load(bundle_dir, name, intra_op_threads=2)
        parts = [model.predict(chosen[s : s + 64]) for s in range(0, len(chosen), 64)]
        outputs[name] = {f: np.concatenate([getattr(p, f) for p in parts]) for f in SCORED_FIELDS}
    return Scores(index=index, outputs=outputs)


def _gain(logits: np.ndarray, chance: np.ndarray, weak: int, strong: int) -> np.ndarray:
    """Predicted P(strong ok) - P(weak ok): the router's score for one pair."""
    return np.asarray(
        (1.0 - chance) * (irt.sigmoid(logits[:, strong]) - irt.sigmoid(logits[:, weak]))
    )


def _pair_rows(
    items: list[data_mod.Item], idx: np.ndarray, weak: str, strong: str, source: str
) -> np.ndarray:
    return np.array(
        [
            k
            for k, i in enumerate(idx)
            if source in items[i].sources
            and weak in items[i].outcomes
            and strong in items[i].outcomes
        ],
        dtype=np.int64,
    )


def _outcomes(
    config: TrainConfig, items: list[data_mod.Item], idx: np.ndarray, models: tuple[str, ...]
) -> Any:
    """Outcomes with the guessing floors the targets were fitted with (none by default)."""
    chances = [items[i].chance if config.guessing_floors else 0.0 for i in idx]
    return irt.outcome_matrix([items[i].outcomes for i in idx], chances, models)


def apgr_with_ci(
    score: np.ndarray, y_weak: np.ndarray, y_strong: np.ndarray, resamples: int, seed: int
) -> dict[str, float]:
    """APGR and its 95 % percentile-bootstrap interval (queries resampled with replacement)."""
    rng = np.random.default_rng(seed)
    n = len(score)
    boot = []
    for _ in range(resamples):
        j = rng.integers(0, n, n)
        boot.append(ev.apgr(score[j], y_weak[j], y_strong[j]))
    arr = np.array(boot, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    lo, hi = np.percentile(arr, [2.5, 97.5]) if len(arr) else (np.nan, np.nan)
    return {"apgr": ev.apgr(score, y_weak, y_strong), "lo": float(lo), "hi": float(hi), "n": n}


def routing_metrics(
    config: TrainConfig,
    data: TrainingData,
    abilities: Abilities,
    difficulty: np.ndarray,
    skills: np.ndarray,
) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
    """APGR per pair on the held-out items given their predicted difficulty and skills.

    Returns the metrics and the held-out logits (with, without the skill term).
    """
    theta = abilities.theta_vector()
    logit = irt.success_logit(abilities.scale, theta, difficulty, skills, abilities.profiles)
    logit_1d = irt.success_logit(abilities.scale, theta, difficulty)
    col = {m: k for k, m in enumerate(abilities.models)}
    held = _outcomes(config, data.items, data.held_out_idx, abilities.models)
    res: dict[str, Any] = {"apgr": {}, "apgr_1d": {}, "apgr_by_difficulty": {}}
    for label, weak, strong, src in PAIRS:
        sel = _pair_rows(data.items, data.held_out_idx, weak, strong, src)
        if len(sel) < 5:
            continue
        yw, ys = held.y[sel, col[weak]], held.y[sel, col[strong]]
        c = held.chance[sel]
        res["apgr"][label] = apgr_with_ci(
            _gain(logit[sel], c, col[weak], col[strong]), yw, ys, config.bootstrap, config.seed
        )
        res["apgr_1d"][label] = {
            "apgr": ev.apgr(_gain(logit_1d[sel], c, col[weak], col[strong]), yw, ys),
            "n": len(sel),
        }
        res["apgr_by_difficulty"][label] = {"apgr": ev.apgr(difficulty[sel], yw, ys), "n": len(sel)}
    return res, (logit, logit_1d)


def calibration_metrics(
    config: TrainConfig,
    data: TrainingData,
    abilities: Abilities,
    logit: np.ndarray,
    logit_1d: np.ndarray,
) -> dict[str, Any]:
    """Brier and reliability over every held-out (item, model) outcome."""
    held = _outcomes(config, data.items, data.held_out_idx, abilities.models)
    seen = held.mask > 0
    y = held.y[seen]
    p = irt.success_probability(logit, held.chance)[seen]
    p_1d = irt.success_probability(logit_1d, held.chance)[seen]
    rel = ev.reliability(p, y)
    return {
        "brier": ev.brier(p, y) if len(p) else float("nan"),
        "brier_1d": ev.brier(p_1d, y) if len(p_1d) else float("nan"),
        "brier_constant_baseline": (
            ev.brier(np.full_like(y, y.mean()), y) if len(y) else float("nan")
        ),
        "ece": rel.ece,
        "reliability": rel.rows,
        "n_outcomes": len(p),
    }


def crossfit_apgr(
    config: TrainConfig,
    data: TrainingData,
    targets: Targets,
    head_input: np.ndarray,
    held_out_logits: tuple[np.ndarray, np.ndarray],
    difficulty_oof: np.ndarray,
    abilities: Abilities,
    profiles: np.ndarray | None,
) -> dict[str, Any]:
    """APGR over every labelled query, each scored by a model that never saw its outcomes.

    The 15 % validation split leaves ~200 GSM8K queries per pair (95 % intervals ±0.1 or
    wider). Here the validation queries keep their shipped-graph logits and every training
    query gets cross-fitted ones: out-of-fold difficulty (MLP folds + leave-one-out kNN) and a
    skill head (and, for the transformer, skill profiles) trained without its fold.
    ``held_out_logits``: the validation queries' logits with and without the skill term; each
    pair's entry carries the 1-D router's APGR under ``one_d``. ``profiles`` fixed (the fast
    encoder) or None (learned per fold, the transformer).
    """
    tr_idx, va_idx = data.train_idx, data.held_out_idx
    outcomes = targets.outcomes
    theta, scale = abilities.theta_vector(), abilities.scale
    offset = irt.success_logit(scale, theta, difficulty_oof)
    rng = np.random.default_rng(config.seed + 300)
    fold = rng.permutation(np.arange(len(tr_idx)) % config.cv_folds)
    scfg = mlp.HeadConfig(hidden=config.head_hidden, epochs=config.skill_epochs)
    x = head_input[tr_idx]
    logit_tr = np.zeros_like(offset)
    for k in range(config.cv_folds):
        fit_rows, held = fold != k, fold == k
        head, u = mlp.train_skill_head(
            x[fit_rows],
            outcomes.y[fit_rows],
            outcomes.mask[fit_rows],
            outcomes.chance[fit_rows],
            offset[fit_rows],
            config.skill_dims,
            scfg,
            config.seed + 400 + k,
            profiles=profiles,
        )
        logit_tr[held] = irt.success_logit(
            scale, theta, difficulty_oof[held], mlp.predict_skills(head, x[held]), u
        )
    all_idx = np.concatenate([tr_idx, va_idx])
    logits = np.concatenate([logit_tr, held_out_logits[0]])
    logits_1d = np.concatenate([offset, held_out_logits[1]])
    every = _outcomes(config, data.items, all_idx, abilities.models)
    col = {m: k for k, m in enumerate(abilities.models)}
    out: dict[str, Any] = {}
    for label, weak, strong, src in PAIRS:
        sel = _pair_rows(data.items, all_idx, weak, strong, src)
        if len(sel) < 5:
            continue
        w, s_ = col[weak], col[strong]
        yw, ys, c = every.y[sel, w], every.y[sel, s_], every.chance[sel]
        out[label] = apgr_with_ci(
            _gain(logits[sel], c, w, s_), yw, ys, config.bootstrap, config.seed
        )
        out[label]["one_d"] = apgr_with_ci(
            _gain(logits_1d[sel], c, w, s_), yw, ys, config.bootstrap, config.seed
        )
    return out


def task_family_reversals(items: list[data_mod.Item]) -> dict[str, Any]:
    """LLMRouter task families on which the "weak" model beats the "strong" one (all rows)."""
    fam: dict[str, Any] = {}
    for label, weak, strong, src in PAIRS:
        if src != "llmrouter":
            continue
        acc: dict[str, list[float]] = {}
        for it in items:
            if src in it.sources and weak in it.outcomes and strong in it.outcomes:
                a3 = acc.setdefault(it.task, [0.0, 0.0, 0.0])
                a3[0] += 1
                a3[1] += it.outcomes[weak]
                a3[2] += it.outcomes[strong]
        n_all = sum(v[0] for v in acc.values())
        rev = {t: [int(v[0]), v[1] / v[0], v[2] / v[0]] for t, v in acc.items() if v[1] > v[2]}
        fam[label] = {
            "n": int(n_all),
            "gap": sum(v[2] - v[1] for v in acc.values()) / max(1.0, n_all),
            "weak_better_families": rev,
            "weak_better_share": sum(v[0] for v in rev.values()) / max(1.0, n_all),
        }
    return fam
