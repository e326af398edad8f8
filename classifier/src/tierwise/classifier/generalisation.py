"""How the router does on traffic it never trained on.

Two measurements, both of what users get rather than of what the training data rewards:

* **Leave-one-source-out (LOSO).** The labelled queries are grouped into source families
  (a benchmark, or a group of LLMRouter tasks of one kind). For each family the targets and
  heads are fitted without it, and its queries are scored by that model: APGR per weak →
  strong pair of the family, with a bootstrap interval.
* **The chat set.** ../shared/data/alpaca_eval: ~800 everyday chat prompts with per-prompt
  judge preferences for many models. Non-commercial licence: evaluation only, never trained
  on. Its models are not in the training data, so queries are ranked by predicted
  difficulty.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier import evaluate as ev
from tierwise.classifier import success

# LLMRouter task → family. Tasks of one kind are held out together: holding out MMLU while
# training on LLMRouter's MMLU rows would measure memorised task families, not transfer.
_LLMROUTER_FAMILIES: Final = {
    "mmlu": "MMLU",
    "gsm8k": "GSM8K",
    "math": "MATH",
    "commonsense_qa": "Commonsense MC (CSQA, OpenBookQA, ARC)",
    "openbook_qa": "Commonsense MC (CSQA, OpenBookQA, ARC)",
    "arc_challenge": "Commonsense MC (CSQA, OpenBookQA, ARC)",
    "gpqa": "GPQA",
    "natural_qa": "Open-domain QA (NQ, TriviaQA)",
    "trivia_qa": "Open-domain QA (NQ, TriviaQA)",
    "mbpp": "Code (MBPP, HumanEval)",
    "human_eval": "Code (MBPP, HumanEval)",
    "agentverse-mgsm": "Multilingual math (MGSM)",
    "agentverse-logicgrid": "Logic grid puzzles",
    "commongen": "Constrained generation (CommonGen)",
}
# A pair is scored on a family only where the strong model is clearly better there: APGR
# divides by the gap, so a gap near zero makes it noise.
MIN_PAIR_GAP: Final = 0.05
_N51: Final = "llama-3.1-nemotron-51b-instruct"
_N49: Final = "llama-3.3-nemotron-super-49b-v1"
# Candidate weak → strong pairs (each family keeps those with outcomes and a clear gap).
CANDIDATE_PAIRS: Final = (
    ("Mixtral→GPT-4", data_mod.MIXTRAL, data_mod.GPT4),
    ("GPT-3 6B→175B (finetuned)", "gpt3-6b-finetuned", "gpt3-175b-finetuned"),
    ("GPT-3 6B→175B (verifier)", "gpt3-6b-verifier", "gpt3-175b-verifier"),
    ("Mistral-7B→Nemotron-51B", "mistral-7b-instruct-v0.3", _N51),
    ("ChatQA-1.5-8B→Nemotron-51B", "llama3-chatqa-1.5-8b", _N51),
    ("CodeGemma-7B→Nemotron-Super-49B", "codegemma-7b", _N49),
    ("Qwen2.5-7B→Nemotron-51B", "qwen2.5-7b-instruct", _N51),
    ("Llama-3.1-8B→Llama-3.1-70B", "llama-3.1-8b-instruct", "llama-3.1-70b-instruct"),
)
# Chat-set pairs, fixed before looking at any router's scores: strength-spanning models of
# each judge set-up (file stem, weak, strong).
CHAT_PAIRS: Final = (
    ("alpaca_eval1_gpt4judge_vs_davinci003", "alpaca-7b", "gpt4"),
    ("alpaca_eval1_gpt4judge_vs_davinci003", "llama-2-7b-chat-hf", "gpt4_1106_preview"),
    ("alpaca_eval1_gpt4judge_vs_davinci003", "vicuna-13b", "claude-2"),
    ("alpaca_eval1_gpt4judge_vs_davinci003", "falcon-40b-instruct", "tulu-2-dpo-70b"),
    ("alpaca_eval1_gpt4judge_vs_davinci003", "text_davinci_001", "gpt-3.5-turbo-1106"),
    ("alpaca_eval1_gpt4judge_vs_davinci003", "phi-2", "Yi-34B-Chat"),
    (
        "alpaca_eval2_weighted_vs_gpt4turbo",
        "FuseChat-Llama-3.2-1B-Instruct",
        "FuseChat-Gemma-2-9B-Instruct",
    ),
    ("alpaca_eval2_weighted_vs_gpt4turbo", "gemma-2b-it", "claude-2"),
    ("alpaca_eval2_cotfn_vs_gpt4turbo", "alpaca-7b", "gpt4"),
    ("alpaca_eval2_cotfn_vs_gpt4turbo", "gpt-3.5-turbo-0301", "Mixtral-8x7B-Instruct-v0.1"),
)
CHAT_DIR: Final = "alpaca_eval"


def family_of(item: data_mod.Item) -> str | None:
    """The source family an item is held out with (None: no outcomes to score)."""
    if not item.outcomes:
        return None
    if "routellm-mmlu" in item.sources:
        return "MMLU"
    if item.sources & {"routellm-gsm8k", "gsm8k-gpt3"}:
        return "GSM8K"
    return _LLMROUTER_FAMILIES.get(item.task, f"LLMRouter {item.task}")


@dataclass(frozen=True)
class Interval:
    """A metric and its 95 % percentile-bootstrap interval."""

    value: float
    lo: float
    hi: float
    n: int


def apgr_interval(
    score: np.ndarray, y_weak: np.ndarray, y_strong: np.ndarray, resamples: int, seed: int
) -> Interval:
    """APGR with queries resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(score)
    boot = np.array(
        [
            ev.apgr(score[j], y_weak[j], y_strong[j])
            for j in (rng.integers(0, n, n) for _ in range(resamples))
        ]
    )
    boot = boot[np.isfinite(boot)]
    lo, hi = np.percentile(boot, [2.5, 97.5]) if len(boot) else (np.nan, np.nan)
    return Interval(ev.apgr(score, y_weak, y_strong), float(lo), float(hi), n)


def mean_apgr_interval(
    score: np.ndarray,
    pairs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    resamples: int,
    seed: int,
) -> Interval:
    """Mean APGR over pairs that share one query set (``(rows, y_weak, y_strong)`` each),
    with the queries resampled jointly, so the interval is that of the mean."""
    rng = np.random.default_rng(seed)
    n = len(score)

    def mean_at(take: np.ndarray) -> float:
        vals = []
        for rows, yw, ys in pairs:
            keep = np.isin(take, rows)
            sel = take[keep]
            pos = np.searchsorted(rows, sel)
            vals.append(ev.apgr(score[sel], yw[pos], ys[pos]))
        finite = [v for v in vals if np.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    boot = np.array([mean_at(rng.integers(0, n, n)) for _ in range(resamples)])
    boot = boot[np.isfinite(boot)]
    lo, hi = np.percentile(boot, [2.5, 97.5]) if len(boot) else (np.nan, np.nan)
    return Interval(mean_at(np.arange(n)), float(lo), float(hi), n)


@dataclass(frozen=True)
class PairResult:
    label: str
    weak: str
    strong: str
    gap: float
    apgr: Interval


@dataclass(frozen=True)
class FamilyResult:
    family: str
    n_queries: int
    pairs: tuple[PairResult, ...]

    @property
    def mean_apgr(self) -> float:
        vals = [p.apgr.value for p in self.pairs if np.isfinite(p.apgr.value)]
        return float(np.mean(vals)) if vals else float("nan")


# Scores of the held-out rows for one weak → strong pair: higher = send to the strong model
# first (predicted difficulty, or the predicted gain P(strong ok) − P(weak ok)).
PairScore = Callable[[str, str], np.ndarray]


def score_family(
    family: str,
    items: Sequence[data_mod.Item],
    rows: np.ndarray,
    pair_score: PairScore,
    resamples: int,
    seed: int,
) -> FamilyResult:
    """APGR of the pair scores on the family's pairs."""
    pairs = []
    for label, weak, strong in CANDIDATE_PAIRS:
        both = [k for k, i in enumerate(rows) if {weak, strong} <= items[i].outcomes.keys()]
        have = np.array(both, dtype=np.int64)
        if len(have) < 20:
            continue
        yw = np.array([items[rows[k]].outcomes[weak] for k in have])
        ys = np.array([items[rows[k]].outcomes[strong] for k in have])
        gap = float(ys.mean() - yw.mean())
        if gap < MIN_PAIR_GAP:
            continue
        interval = apgr_interval(pair_score(weak, strong)[have], yw, ys, resamples, seed)
        pairs.append(PairResult(label, weak, strong, gap, interval))
    return FamilyResult(family, len(rows), tuple(pairs))


# A fit-and-score function: (training rows, held-out rows) → the held-out rows' pair scores.
FitScore = Callable[[np.ndarray, np.ndarray], PairScore]


def family_splits(
    items: Sequence[data_mod.Item],
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(family, rows of every other labelled query, the family's rows), families sorted."""
    families = [family_of(it) for it in items]
    labelled = np.array([f is not None for f in families])
    splits = []
    for family in sorted({f for f in families if f is not None}):
        held = np.array([f == family for f in families])
        splits.append((family, np.where(labelled & ~held)[0], np.where(held)[0]))
    return splits


def leave_one_source_out(
    items: Sequence[data_mod.Item], fit_score: FitScore, resamples: int, seed: int
) -> list[FamilyResult]:
    """For each family: fit on every other labelled query, score the family's queries."""
    results = []
    for family, train_rows, test_rows in family_splits(items):
        pair_score = fit_score(train_rows, test_rows)
        result = score_family(family, items, test_rows, pair_score, resamples, seed)
        if result.pairs:
            results.append(result)
    return results


@dataclass(frozen=True)
class ChatSet:
    """The alpaca_eval prompts and, per fixed pair, each prompt's outcomes."""

    ids: tuple[str, ...]
    queries: tuple[str, ...]
    # label → (rows with both outcomes, y_weak, y_strong)
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def load_chat_set(data_dir: Path) -> ChatSet:
    folder = Path(data_dir) / CHAT_DIR
    by_file: dict[str, dict[str, dict[str, float]]] = {}
    ids: list[str] = []
    queries: dict[str, str] = {}
    for stem in sorted({stem for stem, _, _ in CHAT_PAIRS}):
        rows: dict[str, dict[str, float]] = {}
        with (folder / f"{stem}.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                rows[row["id"]] = {str(k): float(v) for k, v in row["outcomes"].items()}
                if row["id"] not in queries:
                    queries[row["id"]] = str(row["query"])
                    ids.append(row["id"])
        by_file[stem] = rows
    index = {pid: k for k, pid in enumerate(ids)}
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for stem, weak, strong in CHAT_PAIRS:
        have = sorted(index[pid] for pid, o in by_file[stem].items() if weak in o and strong in o)
        rows_arr = np.array(have, dtype=np.int64)
        yw = np.array([by_file[stem][ids[k]][weak] for k in have])
        ys = np.array([by_file[stem][ids[k]][strong] for k in have])
        judge = "AE1" if "alpaca_eval1" in stem else ("AE2-cot" if "cotfn" in stem else "AE2")
        pairs[f"{judge} {weak}→{strong}"] = (rows_arr, yw, ys)
    return ChatSet(tuple(ids), tuple(queries[i] for i in ids), pairs)


@dataclass(frozen=True)
class ChatResult:
    pairs: dict[str, Interval]
    mean: Interval


def score_chat(chat: ChatSet, score: np.ndarray, resamples: int, seed: int) -> ChatResult:
    per_pair = {
        label: apgr_interval(score[rows], yw, ys, resamples, seed)
        for label, (rows, yw, ys) in chat.pairs.items()
    }
    mean = mean_apgr_interval(score, list(chat.pairs.values()), resamples, seed)
    return ChatResult(per_pair, mean)


def mean_over_families(families: Sequence[FamilyResult]) -> float:
    vals = [f.mean_apgr for f in families if np.isfinite(f.mean_apgr)]
    return float(np.mean(vals)) if vals else float("nan")


def _ci(r: Interval) -> str:
    return f"{r.value:.3f} [{r.lo:.3f}, {r.hi:.3f}]"


def render_families(families: Sequence[FamilyResult]) -> list[str]:
    """Markdown: one row per held-out family, its pairs with intervals, and the mean."""
    rows = [
        "| held-out family | queries | weak → strong: APGR [95 % CI] (gap) | family mean |",
        "|---|---|---|---|",
    ]
    for f in families:
        pairs = "; ".join(f"{p.label} {_ci(p.apgr)} ({p.gap:.2f})" for p in f.pairs)
        rows.append(f"| {f.family} | {f.n_queries} | {pairs} | {f.mean_apgr:.3f} |")
    rows.append(f"| **mean over families** | | | **{mean_over_families(families):.3f}** |")
    return rows


def render_chat(result: ChatResult) -> list[str]:
    rows = ["| chat pair (judge: weak → strong) | APGR [95 % CI] |", "|---|---|"]
    rows += [f"| {label} | {_ci(r)} |" for label, r in result.pairs.items()]
    rows.append(f"| **mean over pairs** (prompts resampled jointly) | **{_ci(result.mean)}** |")
    return rows


@dataclass(frozen=True)
class RouterRecipe:
    """How the shipped router is fitted, so leave-one-source-out refits exactly that."""

    ridge_penalty: float
    guessing_floors: bool
    oof_folds: int
    seed: int


@dataclass(frozen=True)
class LosoResult:
    by_gain: tuple[FamilyResult, ...]  # pairs ranked by predicted P(strong) − P(weak)
    by_difficulty: tuple[FamilyResult, ...]  # pairs ranked by predicted difficulty


def loso_router(
    items: Sequence[data_mod.Item],
    prior_x: np.ndarray,
    head_x: Mapping[str, np.ndarray],
    recipe: RouterRecipe,
    resamples: int,
) -> dict[str, LosoResult]:
    """Leave-one-source-out of the shipped recipe, per encoder (``head_x``: encoder → head
    input of every item): joint IRT targets (``prior_x`` links the sources' scales; one fit
    per family, shared by the encoders), a ridge from the head input to difficulty, abilities
    and IRT scale re-fitted on out-of-fold difficulties. A pair whose models only the
    held-out family has (GPT-3 on GSM8K) is ranked with the Mixtral/GPT-4 abilities, as an
    unseen user tier would be."""
    from tierwise.classifier import irt, ridge

    by_gain: dict[str, list[FamilyResult]] = {name: [] for name in head_x}
    by_difficulty: dict[str, list[FamilyResult]] = {name: [] for name in head_x}
    for family, train_rows, test_rows in family_splits(items):
        chance = [items[i].chance if recipe.guessing_floors else 0.0 for i in train_rows]
        obs = irt.build_observations([items[i].outcomes for i in train_rows], chance)
        fit = irt.fit_irt(obs, prior_x[train_rows])
        for name, x in head_x.items():
            model = ridge.fit_ridge(x[train_rows], fit.b, recipe.ridge_penalty)
            oof = ridge.out_of_fold(
                x[train_rows], fit.b, recipe.ridge_penalty, recipe.oof_folds, recipe.seed
            )
            theta, scale = irt.refit_abilities(obs, oof)
            d = model.predict(x[test_rows])
            scorers: tuple[tuple[list[FamilyResult], PairScore], ...] = (
                (by_gain[name], _gain_scorer(d, theta, scale)),
                (by_difficulty[name], _difficulty_scorer(d)),
            )
            for out, score in scorers:
                result = score_family(family, items, test_rows, score, resamples, recipe.seed)
                if result.pairs:
                    out.append(result)
    return {name: LosoResult(tuple(by_gain[name]), tuple(by_difficulty[name])) for name in head_x}


def _difficulty_scorer(d: np.ndarray) -> PairScore:
    """Predicted difficulty, the same for every pair."""

    def difficulty(weak: str, strong: str) -> np.ndarray:
        return d

    return difficulty


def _gain_scorer(d: np.ndarray, theta: Mapping[str, float], scale: float) -> PairScore:
    """Predicted P(strong ok) − P(weak ok) of each query (no guessing floor)."""

    def gain(weak: str, strong: str) -> np.ndarray:
        if weak not in theta or strong not in theta:
            weak, strong = data_mod.MIXTRAL, data_mod.GPT4
        p_strong = success.p_success(success.success_logit(theta[strong], d, scale))
        p_weak = success.p_success(success.success_logit(theta[weak], d, scale))
        return np.asarray(p_strong - p_weak)

    return gain
