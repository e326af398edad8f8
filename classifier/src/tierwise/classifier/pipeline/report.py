"""Stage 8, report: score the staged bundle through the runtime (exactly what ships), check
ONNX against the torch/numpy reference, compute the validation metrics, and write the final
manifest.json, validation_report.md and MODEL_CARD.md into the bundle.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from tierwise.classifier import evaluate as ev
from tierwise.classifier import heads as mlp
from tierwise.classifier import knn
from tierwise.classifier import report as markdown
from tierwise.classifier.pipeline import manifest as manifest_mod
from tierwise.classifier.pipeline import metrics as met
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.features import Features
from tierwise.classifier.pipeline.generalisation import evaluate_generalisation
from tierwise.classifier.pipeline.heads import Heads
from tierwise.classifier.pipeline.manifest import Bundle
from tierwise.classifier.pipeline.targets import Targets

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


@dataclass(frozen=True)
class Report:
    manifest: dict[str, Any]  # final: OOD thresholds, metrics summary, timings
    metrics: dict[str, Any]  # everything validation_report.md shows


def report_bundle(
    config: TrainConfig,
    data: TrainingData,
    targets: Targets,
    features: Features,
    heads: Heads,
    bundle: Bundle,
    clock: Clock,
) -> Report:
    names = config.encoder_names
    is_math = np.array([it.math_level is not None for it in data.items], dtype=bool)
    eval_idx = np.where(data.held_out | is_math)[0]
    scores = met.score_items(bundle.directory, names, data.texts, eval_idx)
    clock.lap("score_validation")
    agreement = _agreement(config, data, targets, features, heads, scores)
    manifest = copy.deepcopy(bundle.manifest)
    metrics: dict[str, Any] = {"agreement": agreement, "timings_s": clock.timings}
    per_enc: dict[str, Any] = {}
    for name in names:
        res = _encoder_metrics(config, data, targets, features, heads, bundle, scores, name)
        manifest["encoders"][name]["ood"] = res["ood"]
        per_enc[name] = res
    metrics["encoders"] = per_enc
    metrics["task_family_reversals"] = met.task_family_reversals(data.items)
    metrics["irt_joint_fit_nll"] = targets.irt_fit.loss
    metrics["tier_abilities_reference"] = {
        "theta_calibrated": heads.abilities.theta,
        "scale": heads.abilities.scale,
    }
    manifest["metrics"] = {name: _summary(r, agreement[name]) for name, r in per_enc.items()}
    if config.generalisation_report:
        unseen = evaluate_generalisation(config, data, features, bundle.directory, clock)
        manifest["generalisation"] = unseen.summary()
        metrics["generalisation_markdown"] = unseen.markdown()
    if features.fast is not None:
        manifest["training"]["fast_sanity_cosines"] = features.fast.sanity_cosines
    clock.timings["total"] = round(clock.elapsed_s(), 1)
    manifest["training"]["timings_s"] = clock.timings
    manifest_mod.save(bundle.directory, manifest)
    (bundle.directory / "validation_report.md").write_text(
        markdown.validation_report(manifest, metrics), encoding="utf-8"
    )
    (bundle.directory / "MODEL_CARD.md").write_text(
        markdown.model_card(manifest, metrics), encoding="utf-8"
    )
    return Report(manifest=manifest, metrics=metrics)


def _summary(r: dict[str, Any], agreement: dict[str, Any]) -> dict[str, Any]:
    return {
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
        "agreement": agreement,
    }


def _agreement(
    config: TrainConfig,
    data: TrainingData,
    targets: Targets,
    features: Features,
    heads: Heads,
    scores: met.Scores,
) -> dict[str, Any]:
    """Transformer int8 ONNX vs torch, fast ONNX vs the numpy reference, on held-out items."""
    import torch

    held = np.where(data.held_out)[0]
    pos = scores.rows(held)
    out: dict[str, Any] = {}
    for name in config.encoder_names:
        # Compare like with like: torch embedded with MiniLM's 256-token window, the serving
        # graph may use a shorter one, so only queries that fit both windows are compared.
        window = config.transformer_max_tokens if name == "transformer" else config.fast_max_tokens
        fits = scores.outputs[name]["n_tokens"][pos] <= window
        apos, asel = pos[fits], held[fits]
        x = features.encoders[name].embedding
        xh = features.encoders[name].head_input
        enc = heads.encoders[name]
        emb = scores.outputs[name]["embedding"][apos]
        cos = np.sum(emb * x[asel], axis=1) / np.maximum(
            np.linalg.norm(emb, axis=1) * np.linalg.norm(x[asel], axis=1), 1e-12
        )
        with torch.inference_mode():
            d_ref = mlp.predict_head(enc.difficulty, xh[asel])
        if enc.knn_bank is not None:
            kw = heads.knn_weight
            d_knn = knn.predict(
                x[asel],
                enc.knn_bank.astype(np.float32),
                targets.difficulty,
                heads.knn,
                heads.knn_prior,
            )
            d_ref = enc.alpha * ((1.0 - kw) * d_ref + kw * d_knn) + enc.beta
        d_diff = np.abs(scores.outputs[name]["difficulty"][apos] - d_ref)
        s_ref = mlp.predict_skills(enc.skills, xh[asel])
        s_diff = np.abs(scores.outputs[name]["skills"][apos] - s_ref)
        out[name] = {
            "cosine_mean": float(np.mean(cos)) if len(cos) else float("nan"),
            "cosine_min": float(np.min(cos)) if len(cos) else float("nan"),
            "difficulty_max_abs_diff": float(np.max(d_diff)) if len(d_diff) else float("nan"),
            "difficulty_mean_abs_diff": float(np.mean(d_diff)) if len(d_diff) else float("nan"),
            # No skill term (0 columns): nothing can disagree.
            "skills_max_abs_diff": float(np.max(s_diff)) if s_diff.size else 0.0,
            "n": len(cos),
        }
    if out["transformer"]["cosine_mean"] < config.min_agreement_cosine:
        raise RuntimeError(f"int8 ONNX disagrees with torch: {out['transformer']}")
    return out


def _encoder_metrics(
    config: TrainConfig,
    data: TrainingData,
    targets: Targets,
    features: Features,
    heads: Heads,
    bundle: Bundle,
    scores: met.Scores,
    name: str,
) -> dict[str, Any]:
    from tierwise.classifier.runtime import RouterModel

    abilities = heads.abilities
    va_idx = data.held_out_idx
    difficulty = scores.of(name, "difficulty", va_idx)
    routing, (logit, logit_1d) = met.routing_metrics(
        config, data, abilities, difficulty, scores.of(name, "skills", va_idx)
    )
    res: dict[str, Any] = dict(routing)
    res["apgr_crossfit"] = met.crossfit_apgr(
        config,
        data,
        targets,
        features.encoders[name].head_input,
        (logit, logit_1d),
        heads.encoders[name].difficulty_oof,
        abilities,
        None if name == "transformer" else abilities.profiles,
    )
    res.update(met.calibration_metrics(config, data, abilities, logit, logit_1d))
    res.update(_length_metrics(targets, scores, name))
    # MATH level ordering (MATH never enters the difficulty fit)
    lvl_idx = [int(i) for i in scores.index if data.items[i].math_level is not None]
    if lvl_idx:
        lv = np.array([data.items[i].math_level for i in lvl_idx], dtype=np.float64)
        dd = scores.of(name, "difficulty", lvl_idx)
        res["math_level_spearman"] = ev.spearman(dd, lv)
        res["math_level_mean_difficulty"] = {
            int(lvl): float(dd[lv == lvl].mean()) for lvl in sorted(set(lv.tolist()))
        }
    # everyday-prompt sanity set (hand labels easy=0 / hard=1)
    model = RouterModel.load(bundle.directory, name, intra_op_threads=1)
    sanity_b = model.predict([q for q, _ in SANITY_SET]).difficulty.astype(np.float64)
    label = np.array([lab for _, lab in SANITY_SET], dtype=np.float64)
    res["sanity"] = {
        "spearman": ev.spearman(sanity_b, label),
        "mean_easy": float(sanity_b[label == 0].mean()),
        "mean_hard": float(sanity_b[label == 1].mean()),
        "difficulty": {q: float(v) for (q, _), v in zip(SANITY_SET, sanity_b, strict=True)},
    }
    res["ood"] = _ood_threshold(config, data, scores, name, len(heads.encoders[name].centroids))
    return res


def _length_metrics(targets: Targets, scores: met.Scores, name: str) -> dict[str, Any]:
    held, train = targets.length_held_out_idx, targets.length_train_idx
    truth = targets.log_output_tokens[held]
    lt = targets.log_output_tokens[train]
    pred = scores.of(name, "log_output_tokens", held)
    return {
        "length": ev.length_errors(pred, truth) if len(held) else {},
        "length_baseline_median": (
            ev.length_errors(np.full(len(held), np.median(lt)), truth)
            if len(held) and len(lt)
            else {}
        ),
    }


def _ood_threshold(
    config: TrainConfig, data: TrainingData, scores: met.Scores, name: str, n_centroids: int
) -> dict[str, Any]:
    """OOD threshold: a low percentile of the held-out items' centroid similarity."""
    sims = scores.of(name, "centroid_similarity", np.where(data.held_out)[0])
    thr = float(np.percentile(sims, config.ood_percentile)) if len(sims) else 0.0
    return {
        "centroid_similarity_threshold": thr,
        "percentile": config.ood_percentile,
        "validation_similarity_percentiles": {
            str(q): float(np.percentile(sims, q)) for q in (1, 2, 5, 50)
        }
        if len(sims)
        else {},
        "n_centroids": n_centroids,
    }
