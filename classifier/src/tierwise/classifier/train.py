"""End-to-end training: data -> embed -> IRT -> heads -> fast encoder -> ONNX -> eval -> bundle."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier import evaluate as ev

log = logging.getLogger("tierwise.classifier.train")

# Everyday prompts with a hand-assigned label (0 = easy, 1 = hard); none is in ../shared/data.
SANITY_SET: tuple[tuple[str, int], ...] = (
    ("What is 2+2?", 0),
    ("What is the capital of France?", 0),
    ("Hi, how are you?", 0),
    ("Write a haiku about autumn", 0),
    ("What color is the sky?", 0),
    ("How many days are in a week?", 0),
    ("Translate 'thank you' into Spanish.", 0),
    ("What is 10 times 5?", 0),
    ("Who wrote Romeo and Juliet?", 0),
    ("Give me a synonym for happy.", 0),
    ("Prove there are infinitely many twin primes.", 1),
    (
        "Prove that every bounded sequence of real numbers has a convergent subsequence, and use "
        "it to show that a continuous function on a closed interval attains its maximum.",
        1,
    ),
    (
        "Let p be an odd prime. Find all pairs of positive integers (x, y) such that "
        "x^p - y^p = p^2 and prove your answer is complete.",
        1,
    ),
    (
        "Design a lock-free concurrent hash map in C++ with linearizable resize, and prove it is "
        "free of the ABA problem.",
        1,
    ),
    (
        "Derive the Black-Scholes PDE from first principles using Ito's lemma and solve it for a "
        "European call option.",
        1,
    ),
    ("Find all functions f: R -> R such that f(x + f(y)) = f(x) + y for all real x, y.", 1),
    (
        "Explain why the Riemann hypothesis implies a bound on the error term of the prime "
        "number theorem, with a proof sketch.",
        1,
    ),
    (
        "Implement a compiler pass that performs SSA construction with dominance frontiers and "
        "explain its complexity.",
        1,
    ),
    (
        "Compute the Galois group of x^5 - 4x + 2 over Q and prove that the polynomial is not "
        "solvable by radicals.",
        1,
    ),
    (
        "Show that the halting problem is undecidable and reduce it to the problem of deciding "
        "whether a Turing machine accepts the empty string.",
        1,
    ),
)

TIERS = ("self-hosted", "haiku", "sonnet", "opus")
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


@dataclass(frozen=True)
class TrainConfig:
    data_dir: Path | None = None  # default: <repo>/../shared/data
    output_dir: Path | None = None  # default: the shipped bundle directory
    max_rows_per_source: int | None = None  # cap rows per source (tests)
    seed: int = 20240611
    head_epochs: int = 60
    head_hidden: int = 128
    oof_folds: int = 5
    n_centroids: int = 64
    ood_percentile: float = 1.0  # threshold = this percentile of validation similarities
    fast_dims: int = 256
    fast_max_tokens: int = 512
    # Serving window of the transformer graph (training embeds with MiniLM's 256). 128
    # measured the same on validation (mean APGR 0.521 vs 0.521, Brier 0.1824 vs 0.1819) and
    # halves the in-process p99 on long prompts (≈20 → ≈10 ms).
    transformer_max_tokens: int = 128
    skip_fast: bool = False
    min_agreement_cosine: float = 0.97  # fail training if int8 ONNX drifts below this
    # "amortised": b-hat = MLP(x) fitted directly on the outcome likelihood (IRT loss);
    # "regress": MLP regression on the per-item b_i of the joint IRT fit.
    difficulty_method: str = "regress"
    embedding_cache_dir: Path | None = None  # reuse MiniLM embeddings keyed by weights+texts
    # difficulty = (1 - knn_weight) * MLP + knn_weight * kNN over training difficulties
    knn_weight: float = 0.5
    knn_k: int = 100
    knn_temperature: float = 0.1
    knn_prior_sim: float | None = None
    knn_int8: bool = True  # int8 bank in the graph (knn.append_to_onnx); fp16 when False
    # Low-rank skill term: logit += skills(query) . u_model (heads.train_skill_head). 8 dims,
    # 20 epochs measured best on validation Brier among 4/8/16 dims and 20/40 epochs.
    skill_dims: int = 8
    skill_epochs: int = 20
    cv_folds: int = 5  # cross-fitted APGR over every labelled query (report only)
    bootstrap: int = 1000  # resamples for the APGR confidence intervals


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    wall_time_s: float
    files: dict[str, int] = field(default_factory=dict)  # bundle file -> bytes


def _sha_files(root: Path, files: dict[str, int]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode())
        h.update(str(files[rel]).encode())
        h.update(hashlib.sha256((root / rel).read_bytes()).digest())
    return h.hexdigest()


def _json_safe(v: Any) -> Any:
    """NaN/inf -> None so manifest.json stays strict JSON."""
    if isinstance(v, float):
        return v if np.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    return v


def _dump(manifest: dict[str, Any]) -> str:
    return json.dumps(_json_safe(manifest), indent=2, allow_nan=False)


def _cached_embeddings(
    model: Any, texts: list[str], weights_sha: str, cache_dir: Path | None
) -> np.ndarray:
    """MiniLM embeddings, reusing a per-text cache (keyed by weights sha + text sha256)."""
    from tierwise.classifier import encoders

    if cache_dir is None:
        return encoders.embed(model, texts)
    root = Path(cache_dir)
    stem = root / f"minilm-{weights_sha[:12]}-bytext"
    keys_path, rows_path = stem.with_suffix(".keys"), stem.with_suffix(".npy")
    keys: list[str] = []
    rows = np.zeros((0, 384), dtype=np.float32)
    if keys_path.is_file() and rows_path.is_file():
        keys = keys_path.read_text(encoding="utf-8").split()
        rows = np.asarray(np.load(rows_path), dtype=np.float32)
        if rows.shape != (len(keys), 384):
            keys, rows = [], np.zeros((0, 384), dtype=np.float32)
    index = {k: i for i, k in enumerate(keys)}
    want = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    missing = sorted({k: i for i, k in enumerate(want) if k not in index}.values())
    if missing:
        new = encoders.embed(model, [texts[i] for i in missing])
        for j, i in enumerate(missing):
            index[want[i]] = len(keys) + j
        keys += [want[i] for i in missing]
        rows = np.concatenate([rows, np.asarray(new, dtype=np.float32)])
        root.mkdir(parents=True, exist_ok=True)
        np.save(rows_path, rows)
        keys_path.write_text("\n".join(keys), encoding="utf-8")
    else:
        log.info("train.embeddings_cached %s", rows_path)
    return np.asarray(rows[[index[k] for k in want]], dtype=np.float32)


def _set_seeds(seed: int) -> None:
    import random

    import torch

    # The heads and the IRT fit are tiny ops: one thread avoids OpenMP oversubscription stalls
    # on a busy 2-core box (the MiniLM embedding step raises it again).
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _kmeans(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]

    k = max(1, min(k, len(x)))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    c = km.cluster_centers_.astype(np.float32)
    return np.asarray(c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12))


def _calibrate_affine(
    b_hat: np.ndarray, obs: Any, theta: dict[str, float], scale: float
) -> tuple[float, float]:
    """alpha, beta so that c + (1-c) sigmoid(scale (theta - (alpha b + beta))) fits best."""
    import torch

    from tierwise.classifier.irt import _nll

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


def _difficulty_head(
    config: TrainConfig,
    x: np.ndarray,
    b_target: np.ndarray,
    obs: Any,
    hcfg: Any,
    theta_init: np.ndarray,
) -> tuple[np.ndarray, Any]:
    """(out-of-fold b-hat on the training items, final head trained on all of them)."""
    from tierwise.classifier import heads

    if config.difficulty_method == "regress":
        b_oof = heads.oof_predictions(x, b_target, hcfg, config.seed, folds=config.oof_folds)
        return b_oof, heads.train_head(x, b_target, hcfg, config.seed)
    if config.difficulty_method != "amortised":
        raise ValueError(f"unknown difficulty_method {config.difficulty_method!r}")
    y, mask, chance = heads.outcome_matrix(obs, len(x))
    rng = np.random.default_rng(config.seed)
    fold = rng.integers(0, config.oof_folds, size=len(x))
    b_oof = np.zeros(len(x), dtype=np.float64)
    for k in range(config.oof_folds):
        tr, te = fold != k, fold == k
        if te.sum() == 0 or tr.sum() == 0:
            continue
        h, _ = heads.train_irt_head(
            x[tr], y[tr], mask[tr], chance[tr], hcfg, config.seed + k + 1, theta_init
        )
        b_oof[te] = heads.predict_head(h, x[te])
    head, _ = heads.train_irt_head(x, y, mask, chance, hcfg, config.seed, theta_init)
    return b_oof, head


def _fold_affine(head: Any, alpha: float, beta: float) -> None:
    import torch

    with torch.no_grad():
        head[-1].weight.mul_(alpha)
        head[-1].bias.mul_(alpha).add_(beta)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))))


def _gain(logits: np.ndarray, chance: np.ndarray, weak: int, strong: int) -> np.ndarray:
    """Predicted P(strong ok) - P(weak ok): the router's score for one pair."""
    return np.asarray((1.0 - chance) * (_sigmoid(logits[:, strong]) - _sigmoid(logits[:, weak])))


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


def _outcome_rows(
    items: list[data_mod.Item], idx: np.ndarray, model_col: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense outcomes, mask and chance for the items ``idx`` (columns = IRT models)."""
    y = np.zeros((len(idx), len(model_col)), dtype=np.float32)
    mask = np.zeros_like(y)
    chance = np.array([items[i].chance for i in idx], dtype=np.float32)
    for row, i in enumerate(idx):
        for m, v in items[i].outcomes.items():
            if m in model_col:
                y[row, model_col[m]] = v
                mask[row, model_col[m]] = 1.0
    return y, mask, chance


def _apgr_with_ci(
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


def _crossfit_apgr(
    config: TrainConfig,
    items: list[data_mod.Item],
    tr_idx: np.ndarray,
    va_idx: np.ndarray,
    x: np.ndarray,
    logit_val: tuple[np.ndarray, np.ndarray],
    b_oof: np.ndarray,
    outcomes_tr: tuple[np.ndarray, np.ndarray, np.ndarray],
    irt_params: tuple[np.ndarray, float],
    profiles: np.ndarray | None,
    model_col: dict[str, int],
) -> dict[str, Any]:
    """APGR over every labelled query, each scored by a model that never saw its outcomes.

    The 15 % validation split leaves ~200 GSM8K queries per pair (95 % intervals ±0.1 or
    wider). Here the validation queries keep their shipped-graph logits and every training
    query gets cross-fitted ones: out-of-fold difficulty (MLP folds + leave-one-out kNN) and a
    skill head (and, for the transformer, skill profiles) trained without its fold.
    ``logit_val``: the validation queries' logits with and without the skill term; each
    pair's entry carries the 1-D router's APGR under ``one_d``.
    """
    from tierwise.classifier import heads

    y_tr, mask_tr, chance_tr = outcomes_tr
    theta_vec, scale = irt_params
    offset = scale * (theta_vec[None, :] - b_oof[:, None])
    rng = np.random.default_rng(config.seed + 300)
    fold = rng.permutation(np.arange(len(tr_idx)) % config.cv_folds)
    scfg = heads.HeadConfig(hidden=config.head_hidden, epochs=config.skill_epochs)
    logit_tr = np.zeros_like(offset)
    for k in range(config.cv_folds):
        fit_rows, held = fold != k, fold == k
        head, u = heads.train_skill_head(
            x[tr_idx][fit_rows],
            y_tr[fit_rows],
            mask_tr[fit_rows],
            chance_tr[fit_rows],
            offset[fit_rows],
            config.skill_dims,
            scfg,
            config.seed + 400 + k,
            profiles=profiles,
        )
        logit_tr[held] = offset[held] + heads.predict_skills(head, x[tr_idx][held]) @ u.T
    all_idx = np.concatenate([tr_idx, va_idx])
    logits = np.concatenate([logit_tr, logit_val[0]])
    logits_1d = np.concatenate([offset, logit_val[1]])
    y_all, _, chance_all = _outcome_rows(items, all_idx, model_col)
    out: dict[str, Any] = {}
    for label, weak, strong, src in PAIRS:
        sel = _pair_rows(items, all_idx, weak, strong, src)
        if len(sel) < 5:
            continue
        w, s_ = model_col[weak], model_col[strong]
        out[label] = _apgr_with_ci(
            _gain(logits[sel], chance_all[sel], w, s_),
            y_all[sel, w],
            y_all[sel, s_],
            config.bootstrap,
            config.seed,
        )
        out[label]["one_d"] = _apgr_with_ci(
            _gain(logits_1d[sel], chance_all[sel], w, s_),
            y_all[sel, w],
            y_all[sel, s_],
            config.bootstrap,
            config.seed,
        )
    return out


def train(config: TrainConfig) -> TrainResult:
    t0 = time.perf_counter()
    from tierwise.classifier import distill, encoders, export, heads, irt
    from tierwise.classifier.runtime import RouterModel

    encoders.offline()
    _set_seeds(config.seed)
    out_dir = Path(config.output_dir) if config.output_dir else Path(__file__).parent / "shipped"
    data_dir = Path(config.data_dir) if config.data_dir else data_mod.default_data_dir()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 1)
        log.info("train.step %s %.1fs", name, now - since)
        return now

    # 1. data
    ds = data_mod.load_dataset(data_dir, config.max_rows_per_source)
    train_items, val_items = ds.split()
    texts = [it.text for it in ds.items]
    is_val = np.array([it.is_validation for it in ds.items])
    t = lap("data", t0)

    # 2. MiniLM embeddings
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    st = encoders.load_sentence_transformer()
    sha = encoders.verify_weights(encoders.minilm_dir())
    sanity = encoders.sanity_cosines(st)
    x_tf = _cached_embeddings(st, texts, sha, config.embedding_cache_dir)
    torch.set_num_threads(1)
    t = lap("embed_minilm", t)

    # 3. IRT on training items with outcomes
    has_out = np.array([bool(it.outcomes) for it in ds.items])
    tr_idx = np.where(has_out & ~is_val)[0]
    va_idx = np.where(has_out & is_val)[0]
    obs_tr = irt.build_observations(
        [ds.items[i].outcomes for i in tr_idx], [ds.items[i].chance for i in tr_idx]
    )
    fit = irt.fit_irt(obs_tr, x_tf[tr_idx])
    b_target = fit.b
    t = lap("irt", t)

    # Output-length targets: MiniLM WordPiece tokens of responses / reference solutions.
    from tokenizers import Tokenizer

    wp = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    wp.no_truncation()
    wp.no_padding()

    def count(s: str) -> int:
        return len(wp.encode(s, add_special_tokens=False).ids)

    len_target = np.array(
        [
            v if (v := data_mod.output_log_tokens(it, count)) is not None else np.nan
            for it in ds.items
        ]
    )
    len_tr = np.where(~np.isnan(len_target) & ~is_val)[0]
    len_va = np.where(~np.isnan(len_target) & is_val)[0]
    t = lap("length_targets", t)

    hcfg = heads.HeadConfig(hidden=config.head_hidden, epochs=config.head_epochs)
    encoder_names = ["transformer"] + ([] if config.skip_fast else ["fast"])

    # 4. fast encoder: distilled static table
    fast_tok_json = ""
    table = np.zeros((0, 0), dtype=np.float16)
    if not config.skip_fast:
        hf_for_distil = encoders.load_hf_encoder()
        fast_tok_json = distill.fast_tokenizer_json(
            encoders.minilm_dir() / "tokenizer.json", config.fast_max_tokens
        )
        table = distill.distil_table(
            hf_for_distil,
            fast_tok_json,
            [ds.items[i].text for i in np.where(~is_val)[0]],
            dims=config.fast_dims,
            seed=config.seed,
        ).astype(np.float16)
        del hf_for_distil
        x_fast = distill.static_embed(table, fast_tok_json, texts)
        e = distill.static_embed(
            table, fast_tok_json, [p for a, b, _ in encoders.SANITY_PAIRS for p in (a, b)]
        )
        fast_sanity = [float(e[0] @ e[1]), float(e[2] @ e[3])]
        t = lap("distil_fast", t)

    # Head input = [embedding, standardised log of the tokens the serving graph sees].
    tok_tf = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    tok_tf.no_truncation()
    tok_tf.no_padding()
    windows = {"transformer": (tok_tf, config.transformer_max_tokens, True)}
    if not config.skip_fast:
        tok_fast = Tokenizer.from_str(fast_tok_json)
        tok_fast.no_truncation()
        tok_fast.no_padding()
        windows["fast"] = (tok_fast, config.fast_max_tokens, False)
    length_norm: dict[str, tuple[float, float]] = {}
    head_x: dict[str, np.ndarray] = {}
    for name, (tk, window, specials) in windows.items():
        counts = np.array(
            [len(e.ids) for e in tk.encode_batch(texts, add_special_tokens=specials)],
            dtype=np.float64,
        )
        log_n = np.log(np.clip(counts, 1, window))
        mu, sd = float(np.mean(log_n[~is_val])), float(np.std(log_n[~is_val]) + 1e-6)
        length_norm[name] = (mu, sd)
        x_enc = x_tf if name == "transformer" else x_fast
        head_x[name] = np.concatenate(
            [x_enc, ((log_n - mu) / sd)[:, None].astype(np.float32)], axis=1
        )

    # 5. heads per encoder (+ calibration of the IRT scale on out-of-fold b-hat)
    from tierwise.classifier import knn

    kcfg = knn.KnnConfig(config.knn_k, config.knn_temperature, config.knn_prior_sim)
    prior_b = float(np.mean(b_target))
    banks: dict[str, np.ndarray] = {}
    heads_by_enc: dict[str, tuple[Any, Any, np.ndarray, Any]] = {}
    y_tr, mask_tr, chance_tr = heads.outcome_matrix(obs_tr, len(tr_idx))
    scfg = heads.HeadConfig(hidden=config.head_hidden, epochs=config.skill_epochs)
    profiles: np.ndarray | None = None  # u [n_models, k], learned with the transformer
    b_oof_by_enc: dict[str, np.ndarray] = {}
    theta_cal: dict[str, float] = {}
    scale = 1.0
    calib: dict[str, dict[str, float]] = {}
    for name in encoder_names:
        x = x_tf if name == "transformer" else x_fast
        xh = head_x[name]
        b_oof, h_b = _difficulty_head(
            config,
            xh[tr_idx],
            b_target,
            obs_tr,
            hcfg,
            theta_init=np.array([fit.theta[m] for m in obs_tr.models]),
        )
        wk = config.knn_weight
        if wk > 0:
            bank = x[tr_idx].astype(np.float16)
            banks[name] = bank
            b_loo = knn.leave_one_out(bank.astype(np.float32), b_target, kcfg, prior_b)
            b_oof = (1.0 - wk) * b_oof + wk * b_loo
        if name == "transformer":
            theta_cal, scale = irt.refit_abilities(obs_tr, b_oof)
            alpha, beta = 1.0, 0.0
        else:
            alpha, beta = _calibrate_affine(b_oof, obs_tr, theta_cal, scale)
        calib[name] = {"alpha": alpha, "beta": beta, "knn_weight": wk}
        if wk <= 0:
            _fold_affine(h_b, alpha, beta)
        b_cal = alpha * b_oof + beta
        b_oof_by_enc[name] = b_cal
        offset = scale * (np.array([theta_cal[m] for m in obs_tr.models])[None, :] - b_cal[:, None])
        h_s, u = heads.train_skill_head(
            xh[tr_idx],
            y_tr,
            mask_tr,
            chance_tr,
            offset,
            config.skill_dims,
            scfg,
            config.seed + 200,
            profiles=profiles,
        )
        profiles = u
        h_len = heads.train_head(xh[len_tr], len_target[len_tr], hcfg, config.seed + 100)
        cents = _kmeans(x[~is_val], config.n_centroids, config.seed)
        heads_by_enc[name] = (h_b, h_len, cents, h_s)
        t = lap(f"heads_{name}", t)

    # 6. export
    tmp = Path(tempfile.mkdtemp(prefix="tierwise-train-"))
    stage = tmp / "bundle"
    stage.mkdir()
    hf = encoders.load_hf_encoder()
    h_b, h_len, cents, h_s = heads_by_enc["transformer"]
    tf_module = export.transformer_module(hf, h_b, h_len, h_s, cents, length_norm["transformer"])
    export.export_onnx(tf_module, tmp / "router_fp32.onnx")
    export.optimise_and_quantise(tmp / "router_fp32.onnx", stage / "router.onnx")

    def add_knn(name: str, path: Path) -> None:
        if config.knn_weight <= 0:
            return
        a, c = calib[name]["alpha"], calib[name]["beta"]
        knn.append_to_onnx(
            path,
            banks[name],
            b_target,
            kcfg,
            prior_b,
            w_mlp=a * (1.0 - config.knn_weight),
            w_knn=a * config.knn_weight,
            bias=c,
            quantise=config.knn_int8,
        )

    add_knn("transformer", stage / "router.onnx")
    tok = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    (stage / "tokenizer.json").write_text(tok.to_str(), encoding="utf-8")
    if not config.skip_fast:
        fb, fl, fc, fs = heads_by_enc["fast"]
        fast_module = export.fast_module(table, fb, fl, fs, fc, length_norm["fast"])
        export.export_onnx(fast_module, stage / "router_fast.onnx")
        add_knn("fast", stage / "router_fast.onnx")
        (stage / "tokenizer_fast.json").write_text(fast_tok_json, encoding="utf-8")
    t = lap("export", t)

    # 7. provisional manifest (thresholds filled after scoring validation with ONNX)
    theta_mixtral = theta_cal.get(data_mod.MIXTRAL, 0.0)
    theta_gpt4 = theta_cal.get(data_mod.GPT4, theta_mixtral + 1.0)
    gap = theta_gpt4 - theta_mixtral
    tier_abilities = {
        "self-hosted": theta_mixtral,
        "haiku": theta_mixtral + 0.5 * gap,
        "sonnet": theta_gpt4,
        "opus": theta_gpt4 + 0.5 * gap,
    }
    assert profiles is not None
    model_profiles = {m: profiles[k].tolist() for k, m in enumerate(obs_tr.models)}
    zero = [0.0] * config.skill_dims
    u_mixtral = np.array(model_profiles.get(data_mod.MIXTRAL, zero))
    u_gpt4 = np.array(model_profiles.get(data_mod.GPT4, zero))
    # Tiers inherit the skill profile of the model their ability is anchored on.
    tier_profiles = {
        "self-hosted": u_mixtral.tolist(),
        "haiku": (0.5 * (u_mixtral + u_gpt4)).tolist(),
        "sonnet": u_gpt4.tolist(),
        "opus": u_gpt4.tolist(),
    }
    config_blob = json.dumps(
        {k: str(v) for k, v in asdict(config).items() if k not in {"output_dir"}}, sort_keys=True
    )
    data_hash = _sha_files(data_dir, ds.files)
    short = hashlib.sha256((data_hash + config_blob).encode()).hexdigest()[:10]
    router_version = f"{dt.date.today().isoformat()}+{short}"
    enc_specs: dict[str, Any] = {
        "transformer": {
            "graph": "router.onnx",
            "tokenizer": "tokenizer.json",
            "max_tokens": config.transformer_max_tokens,
            "embedding_dim": 384,
            "kind": "all-MiniLM-L6-v2, mean pooling, L2, int8 dynamic per-channel (ORT-fused)",
            "ood": {"centroid_similarity_threshold": -1.0},
        }
    }
    if not config.skip_fast:
        enc_specs["fast"] = {
            "graph": "router_fast.onnx",
            "tokenizer": "tokenizer_fast.json",
            "max_tokens": config.fast_max_tokens,
            "embedding_dim": config.fast_dims,
            "kind": f"static table distilled from MiniLM, PCA {config.fast_dims}-d, SIF, fp16",
            "ood": {"centroid_similarity_threshold": -1.0},
        }
    lt = len_target[len_tr]
    manifest: dict[str, Any] = {
        "schema_version": 2,
        "router_version": router_version,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "encoders": enc_specs,
        "tier_abilities": tier_abilities,
        "irt": {
            "model": "P = c + (1 - c) * sigmoid(scale * (theta - difficulty))",
            "scale": scale,
            "discrimination": 1.0,
            "chance_default": 0.0,
            "model_abilities": theta_cal,
            "model_abilities_joint_fit": fit.theta,
            "difficulty_calibration": calib,
        },
        "skills": {
            "model": "logit += skills(query) . u (u per tier / model; skills = graph output)",
            "dims": config.skill_dims,
            "tier_profiles": tier_profiles,
            "model_profiles": model_profiles,
        },
        "output_length": {
            "target": "log(MiniLM WordPiece tokens of the response), mean over responses",
            "median_tokens": float(np.exp(np.median(lt))) if len(lt) else 200.0,
            "mean_log_tokens": float(np.mean(lt)) if len(lt) else 5.3,
            "std_log_tokens": float(np.std(lt)) if len(lt) else 1.0,
            "n_train": len(lt),
        },
        "training": {
            "seed": config.seed,
            "config": json.loads(config_blob),
            "data_dir_sha256": data_hash,
            "data_files": ds.files,
            "dropped_contaminated": ds.dropped_contaminated,
            "dropped_degenerate": ds.dropped_degenerate,
            "items": len(ds.items),
            "items_train": len(train_items),
            "items_validation": len(val_items),
            "validation": "sha256(normalised query) < 0.15",
            "minilm_sha256": sha,
            "minilm_sanity_cosines": sanity,
        },
    }
    (stage / "manifest.json").write_text(_dump(manifest), encoding="utf-8")

    # 8. score validation (and MATH) through the runtime, i.e. exactly what ships
    eval_idx = np.where(is_val | np.array([it.math_level is not None for it in ds.items]))[0]
    eval_texts = [texts[i] for i in eval_idx]
    onnx_out: dict[str, Any] = {}
    for name in encoder_names:
        model = RouterModel.load(stage, name, intra_op_threads=2)  # type: ignore[arg-type]
        parts = [model.predict(eval_texts[s : s + 64]) for s in range(0, len(eval_texts), 64)]
        onnx_out[name] = {
            f: np.concatenate([getattr(p, f) for p in parts])
            for f in (
                "difficulty",
                "log_output_tokens",
                "centroid_similarity",
                "embedding",
                "n_tokens",
                "skills",
            )
        }
    pos = {int(i): k for k, i in enumerate(eval_idx)}
    t = lap("score_validation", t)

    # agreement (transformer int8 ONNX vs torch; fast ONNX vs numpy reference)
    agreement: dict[str, Any] = {}
    import torch

    vpos = np.array([pos[int(i)] for i in np.where(is_val)[0]])
    vsel = np.where(is_val)[0]
    for name in encoder_names:
        # Compare like with like: torch embedded with MiniLM's 256-token window, the serving
        # graph may use a shorter one, so only queries that fit both windows are compared.
        window = config.transformer_max_tokens if name == "transformer" else config.fast_max_tokens
        fits = onnx_out[name]["n_tokens"][vpos] <= window
        apos, asel = vpos[fits], vsel[fits]
        x = x_tf if name == "transformer" else x_fast
        h_b, h_len, _, h_s = heads_by_enc[name]
        emb = onnx_out[name]["embedding"][apos]
        cos = np.sum(emb * x[asel], axis=1) / np.maximum(
            np.linalg.norm(emb, axis=1) * np.linalg.norm(x[asel], axis=1), 1e-12
        )
        with torch.inference_mode():
            d_ref = heads.predict_head(h_b, head_x[name][asel])
        if config.knn_weight > 0:
            kw, ka, kc = config.knn_weight, calib[name]["alpha"], calib[name]["beta"]
            d_knn = knn.predict(x[asel], banks[name].astype(np.float32), b_target, kcfg, prior_b)
            d_ref = ka * ((1.0 - kw) * d_ref + kw * d_knn) + kc
        d_diff = np.abs(onnx_out[name]["difficulty"][apos] - d_ref)
        s_diff = np.abs(
            onnx_out[name]["skills"][apos] - heads.predict_skills(h_s, head_x[name][asel])
        )
        agreement[name] = {
            "cosine_mean": float(np.mean(cos)) if len(cos) else float("nan"),
            "cosine_min": float(np.min(cos)) if len(cos) else float("nan"),
            "difficulty_max_abs_diff": float(np.max(d_diff)) if len(d_diff) else float("nan"),
            "difficulty_mean_abs_diff": float(np.mean(d_diff)) if len(d_diff) else float("nan"),
            "skills_max_abs_diff": float(np.max(s_diff)) if len(s_diff) else float("nan"),
            "n": len(cos),
        }
    if agreement["transformer"]["cosine_mean"] < config.min_agreement_cosine:
        raise RuntimeError(f"int8 ONNX disagrees with torch: {agreement['transformer']}")

    # 9. metrics
    model_col = {m: k for k, m in enumerate(obs_tr.models)}
    theta_vec = np.array([theta_cal[m] for m in obs_tr.models])
    u_final = np.asarray(profiles, dtype=np.float64)
    y_va, mask_va, chance_va = _outcome_rows(ds.items, va_idx, model_col)
    metrics: dict[str, Any] = {"agreement": agreement, "timings_s": timings}
    per_enc: dict[str, Any] = {}
    for name in encoder_names:
        o = onnx_out[name]
        d_val = np.array([o["difficulty"][pos[int(i)]] for i in va_idx])
        s_val = np.array([o["skills"][pos[int(i)]] for i in va_idx])
        logit_val = scale * (theta_vec[None, :] - d_val[:, None]) + s_val @ u_final.T
        logit_1d = scale * (theta_vec[None, :] - d_val[:, None])
        res: dict[str, Any] = {
            "apgr": {},
            "apgr_1d": {},
            "apgr_by_difficulty": {},
            "apgr_crossfit": {},
        }
        for label, weak, strong, src in PAIRS:
            sel = _pair_rows(ds.items, va_idx, weak, strong, src)
            if len(sel) < 5:
                continue
            yw, ys = y_va[sel, model_col[weak]], y_va[sel, model_col[strong]]
            c = chance_va[sel]
            res["apgr"][label] = _apgr_with_ci(
                _gain(logit_val[sel], c, model_col[weak], model_col[strong]),
                yw,
                ys,
                config.bootstrap,
                config.seed,
            )
            res["apgr_1d"][label] = {
                "apgr": ev.apgr(
                    _gain(logit_1d[sel], c, model_col[weak], model_col[strong]), yw, ys
                ),
                "n": len(sel),
            }
            res["apgr_by_difficulty"][label] = {"apgr": ev.apgr(d_val[sel], yw, ys), "n": len(sel)}
        res["apgr_crossfit"] = _crossfit_apgr(
            config,
            ds.items,
            tr_idx,
            va_idx,
            head_x[name],
            (logit_val, logit_1d),
            b_oof_by_enc[name],
            (y_tr, mask_tr, chance_tr),
            (theta_vec, scale),
            None if name == "transformer" else u_final,
            model_col,
        )
        # calibration on all validation (item, model) outcomes
        p_mat = chance_va[:, None] + (1.0 - chance_va[:, None]) * _sigmoid(logit_val)
        seen = mask_va > 0
        p_arr, y_arr = p_mat[seen], y_va[seen]
        rel = ev.reliability(p_arr, y_arr)
        res["brier"] = ev.brier(p_arr, y_arr) if len(p_arr) else float("nan")
        p1 = (chance_va[:, None] + (1.0 - chance_va[:, None]) * _sigmoid(logit_1d))[seen]
        res["brier_1d"] = ev.brier(p1, y_arr) if len(p1) else float("nan")
        res["brier_constant_baseline"] = (
            ev.brier(np.full_like(y_arr, y_arr.mean()), y_arr) if len(y_arr) else float("nan")
        )
        res["ece"] = rel.ece
        res["reliability"] = rel.rows
        res["n_outcomes"] = len(p_arr)
        # length
        lp = np.array([o["log_output_tokens"][pos[int(i)]] for i in len_va])
        res["length"] = ev.length_errors(lp, len_target[len_va]) if len(len_va) else {}
        res["length_baseline_median"] = (
            ev.length_errors(np.full(len(len_va), np.median(lt)), len_target[len_va])
            if len(len_va) and len(lt)
            else {}
        )
        # MATH level ordering (MATH never enters the difficulty fit)
        lvl_idx = [i for i in eval_idx if ds.items[i].math_level is not None]
        if lvl_idx:
            lv = np.array([ds.items[i].math_level for i in lvl_idx], dtype=np.float64)
            dd = np.array([o["difficulty"][pos[int(i)]] for i in lvl_idx])
            res["math_level_spearman"] = ev.spearman(dd, lv)
            res["math_level_mean_difficulty"] = {
                int(lvl): float(dd[lv == lvl].mean()) for lvl in sorted(set(lv.tolist()))
            }
        # everyday-prompt sanity set (hand labels easy=0 / hard=1)
        smodel = RouterModel.load(stage, name, intra_op_threads=1)  # type: ignore[arg-type]
        sd = smodel.predict([q for q, _ in SANITY_SET]).difficulty.astype(np.float64)
        slab = np.array([lab for _, lab in SANITY_SET], dtype=np.float64)
        res["sanity"] = {
            "spearman": ev.spearman(sd, slab),
            "mean_easy": float(sd[slab == 0].mean()),
            "mean_hard": float(sd[slab == 1].mean()),
            "difficulty": {q: float(v) for (q, _), v in zip(SANITY_SET, sd, strict=True)},
        }
        sims = o["centroid_similarity"][vpos]
        thr = float(np.percentile(sims, config.ood_percentile)) if len(sims) else 0.0
        res["ood"] = {
            "centroid_similarity_threshold": thr,
            "percentile": config.ood_percentile,
            "validation_similarity_percentiles": {
                str(q): float(np.percentile(sims, q)) for q in (1, 2, 5, 50)
            }
            if len(sims)
            else {},
            "n_centroids": len(heads_by_enc[name][2]),
        }
        manifest["encoders"][name]["ood"] = res["ood"]
        per_enc[name] = res
    metrics["encoders"] = per_enc
    # LLMRouter task families on which the "weak" model beats the "strong" one (all rows).
    fam: dict[str, Any] = {}
    for label, weak, strong, src in PAIRS:
        if src != "llmrouter":
            continue
        acc: dict[str, list[float]] = {}
        for it in ds.items:
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
    metrics["task_family_reversals"] = fam
    metrics["irt_joint_fit_nll"] = fit.loss
    metrics["tier_abilities_reference"] = {
        "theta_calibrated": theta_cal,
        "scale": scale,
    }
    manifest["metrics"] = {
        name: {
            "apgr": {k: round(v["apgr"], 4) for k, v in r["apgr"].items()},
            "apgr_crossfit": {k: round(v["apgr"], 4) for k, v in r["apgr_crossfit"].items()},
            "apgr_crossfit_1d": {
                k: round(v["one_d"]["apgr"], 4) for k, v in r["apgr_crossfit"].items()
            },
            "brier": r["brier"],
            "brier_1d": r["brier_1d"],
            "ece": r["ece"],
            "length": r["length"],
            "math_level_spearman": r.get("math_level_spearman"),
            "sanity_spearman": r["sanity"]["spearman"],
            "agreement": agreement[name],
        }
        for name, r in per_enc.items()
    }
    if not config.skip_fast:
        manifest["training"]["fast_sanity_cosines"] = fast_sanity
    timings["total"] = round(time.perf_counter() - t0, 1)
    manifest["training"]["timings_s"] = timings
    (stage / "manifest.json").write_text(_dump(manifest), encoding="utf-8")

    from tierwise.classifier import report

    (stage / "validation_report.md").write_text(
        report.validation_report(manifest, metrics), encoding="utf-8"
    )
    (stage / "MODEL_CARD.md").write_text(report.model_card(manifest, metrics), encoding="utf-8")

    # 10. install the bundle
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.iterdir():
        if old.is_file() and old.name != ".gitattributes":
            old.unlink()
    for f in stage.iterdir():
        shutil.copyfile(f, out_dir / f.name)
    shutil.rmtree(tmp, ignore_errors=True)
    files = {f.name: f.stat().st_size for f in sorted(out_dir.iterdir()) if f.is_file()}
    for name, size in files.items():
        if size > 50 * 1024 * 1024:
            raise RuntimeError(f"{name} is {size} bytes (> 50 MB)")
    os.sync()
    return TrainResult(
        output_dir=out_dir,
        manifest=manifest,
        metrics=metrics,
        wall_time_s=time.perf_counter() - t0,
        files=files,
    )
