"""Replay for cascades: verifier scores (given per line, or simulated at a stated AUC),
thresholds tuned on the tuning part, the three strategies measured side by side on the
validation part with bootstrap intervals, and the thresholds written into the policy.

A strategy is evaluated per query exactly as the SDK runs it: try the plan's tiers in order,
accept the first answer whose score reaches its tier's threshold (the last tier accepts any
answer), pay for every attempt. Cascade starts at the cheapest tier of its tuned tier set;
hybrid starts at the tier the replayed classifier policy picks and escalates from there.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np

from tierwise.server.replay import sweep
from tierwise.server.replay.sweep import Interval
from tierwise.server.routing.cascade_policy import CascadeSettings, Strategy
from tierwise.server.routing.verifier_model import separation

THRESHOLD_GRID: Final = np.round(np.linspace(0.0, 1.0, 21), 6)
# Hybrid tunes its start (a P(success) target) and thresholds together: a coarser grid keeps
# that search near a second.
HYBRID_THRESHOLD_GRID: Final = np.round(np.linspace(0.0, 1.0, 11), 6)
HYBRID_START_TARGETS: Final = np.round(np.linspace(0.0, 1.0, 21), 6)
STRATEGY_CHOICES: Final = ("classifier", "cascade", "hybrid", "all")
BIMODAL_ABOVE: Final = 5.0 / 9.0


@dataclass(frozen=True)
class StrategyResult:
    strategy: Strategy
    tiers: tuple[str, ...]  # the plan's tier set, cheapest first (classifier: every tier)
    thresholds: Mapping[str, float]
    tune_quality: float
    tune_cost_usd: float
    quality: Interval  # validation, mean outcome of the accepted answer
    cost_usd: Interval  # validation, mean cost per query with failed attempts
    quality_ratio: Interval  # vs the best single tier on the same queries
    cost_ratio: Interval
    escalation_rate: float  # validation: share of queries escalated past their first tier
    first_try_share: float
    attempts_per_query: float
    feasible: bool  # met the quality target on the tuning part
    hybrid_quality_target: float | None = None  # hybrid: where plans start


@dataclass(frozen=True)
class CascadeComparison:
    verifier_source: str  # "input" or "simulated (AUC a, seed s)"
    verifier_auc: Mapping[str, float]  # per tier, measured on the tuning part
    best_single_tier: str
    results: tuple[StrategyResult, ...]
    recommended: Strategy
    bimodality: float
    why: str
    confidence: float


def read_verifier_scores(
    path: Path, lines: np.ndarray, tiers: Sequence[str], mapping: Mapping[str, str]
) -> np.ndarray | None:
    """[n, T] scores from the lines' optional `verifier: {tier: 0..1}`; None when no line has
    one; ValueError (file:line) for a bad score or a line missing a replayed tier."""
    wanted = {int(line): row for row, line in enumerate(lines)}
    scores = np.full((len(lines), len(tiers)), np.nan)
    seen = False
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            row = wanted.get(number)
            if row is None:
                continue
            record = json.loads(raw.decode("utf-8"))
            given = record.get("verifier") if isinstance(record, dict) else None
            if given is None:
                continue
            if not isinstance(given, dict):
                raise ValueError(f"{path}:{number}: `verifier` must be an object {{tier: 0..1}}")
            seen = True
            for raw_tier, value in given.items():
                tier = mapping.get(str(raw_tier), str(raw_tier))
                if tier not in tiers:
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{path}:{number}: verifier.{raw_tier} must be a number")
                if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                    raise ValueError(f"{path}:{number}: verifier.{raw_tier} must be in [0, 1]")
                scores[row, list(tiers).index(tier)] = float(value)
    if not seen:
        return None
    missing = np.isnan(scores).any(axis=1)
    if missing.any():
        line = int(lines[int(np.argmax(missing))])
        raise ValueError(
            f"{path}:{line}: `verifier` needs a score for every replayed tier "
            f"({', '.join(tiers)}) once any line has one"
        )
    return scores


def simulate_verifier(outcomes: np.ndarray, auc: float, seed: int) -> np.ndarray:
    """Scores of a binormal verifier of this AUC: logit ~ N(d·(y − ½), 1), seeded."""
    d = separation(auc)
    noise = np.random.default_rng(seed).standard_normal(outcomes.shape)
    return np.asarray(1.0 / (1.0 + np.exp(-(d * (outcomes - 0.5) + noise))))


def measured_auc(scores: np.ndarray, outcomes: np.ndarray) -> float:
    """AUC of scores for telling solved (≥ 0.5) from failed answers (ties count half)."""
    good = outcomes >= sweep.SUCCESS_AT
    positive, negative = scores[good], scores[~good]
    if len(positive) == 0 or len(negative) == 0:
        return math.nan
    order = np.argsort(np.concatenate([positive, negative]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([positive, negative])[order]
    # Average ranks over ties.
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    ranks_sorted = np.repeat(first + (counts + 1) / 2.0, counts)
    ranks[order] = ranks_sorted
    u = ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2
    return float(u / (len(positive) * len(negative)))


def run_plans(
    outcomes: np.ndarray,
    costs: np.ndarray,
    scores: np.ndarray,
    start: np.ndarray,
    in_plan: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per query (tiers in ability order): (quality, cost, attempts) of the plan that starts
    at ``start`` and tries the tiers marked ``in_plan`` above it, accepting at ``thresholds``
    (the most capable tier in the plan accepts anything)."""
    n, width = outcomes.shape
    index = np.arange(width)
    steps = (index[None, :] >= start[:, None]) & (
        in_plan[None, :] | (index[None, :] == start[:, None])
    )
    last = width - 1 - np.argmax(steps[:, ::-1], axis=1)
    accept = (scores >= thresholds[None, :]) | (index[None, :] == last[:, None])
    stop = np.argmax(steps & accept, axis=1)
    rows = np.arange(n)
    tried = steps & (index[None, :] <= stop[:, None])
    return outcomes[rows, stop], (costs * tried).sum(axis=1), tried.sum(axis=1)


def _select(quality: np.ndarray, cost: np.ndarray, floor: float) -> tuple[int, bool]:
    """Cheapest candidate meeting the floor on average; else the highest quality."""
    feasible = np.flatnonzero(quality >= floor - 1e-12)
    if len(feasible):
        return int(feasible[np.lexsort((-quality[feasible], cost[feasible]))[0]]), True
    return int(np.argmax(quality)), False


@dataclass(frozen=True)
class _Candidate:
    in_plan: np.ndarray  # bool [T]
    thresholds: np.ndarray  # [T]


def _candidates(width: int, hybrid: bool) -> list[_Candidate]:
    """Tier sets (always with the most capable tier) × thresholds on the grid."""
    out: list[_Candidate] = []
    lower = list(range(width - 1))
    subsets = (
        [tuple(lower)]
        if hybrid
        else [s for k in range(len(lower) + 1) for s in itertools.combinations(lower, k)]
    )
    for subset in subsets:
        in_plan = np.zeros(width, dtype=bool)
        in_plan[list(subset)] = True
        in_plan[-1] = True
        free = list(subset) if not hybrid else lower
        grid = HYBRID_THRESHOLD_GRID if hybrid else THRESHOLD_GRID
        for values in itertools.product(grid, repeat=len(free)):
            thresholds = np.zeros(width)
            thresholds[free] = values
            out.append(_Candidate(in_plan, thresholds))
    return out


def compare(
    *,
    tiers: Sequence[str],
    ability_order: Sequence[int],
    outcomes: np.ndarray,
    costs: np.ndarray,
    scores: np.ndarray,
    classifier_choice: np.ndarray,
    p_success: np.ndarray,
    tune: np.ndarray,
    validation: np.ndarray,
    strategies: Sequence[Strategy],
    quality_target: float,
    verifier_source: str,
    bimodality: float,
    resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[CascadeComparison, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Tune each strategy on ``tune``, measure on ``validation``. Also returns, per
    strategy, the per-query start and stop indices (ability order) and the plan's tier mask,
    for every query (decisions.jsonl)."""
    order = np.asarray(ability_order)
    names = [tiers[i] for i in order]
    y, c, s = outcomes[:, order], costs[:, order], scores[:, order]
    p = p_success[:, order]
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    chosen = position[classifier_choice]
    width = len(order)
    singles_tune = y[tune].mean(axis=0)
    best = int(np.argmax(singles_tune))
    floor = quality_target * float(singles_tune[best])
    auc = MappingProxyType({names[k]: measured_auc(s[tune, k], y[tune, k]) for k in range(width)})
    results: list[StrategyResult] = []
    paths: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for strategy in strategies:
        hybrid_target: float | None = None
        if strategy == "classifier":
            start = chosen
            candidate = _Candidate(np.zeros(width, dtype=bool), np.zeros(width))
            feasible = bool(y[tune, :][np.arange(len(tune)), chosen[tune]].mean() >= floor)
        elif strategy == "cascade":
            candidates = _candidates(width, hybrid=False)
            q, k = np.empty(len(candidates)), np.empty(len(candidates))
            for index, cand in enumerate(candidates):
                first = np.full(len(tune), int(np.argmax(cand.in_plan)))
                quality, cost, _ = run_plans(
                    y[tune], c[tune], s[tune], first, cand.in_plan, cand.thresholds
                )
                q[index], k[index] = quality.mean(), cost.mean()
            pick, feasible = _select(q, k, floor)
            candidate = candidates[pick]
            start = np.full(len(y), int(np.argmax(candidate.in_plan)))
        else:
            candidates = _candidates(width, hybrid=True)
            starts = [hybrid_starts(p[tune], t) for t in HYBRID_START_TARGETS]
            q = np.empty((len(starts), len(candidates)))
            k = np.empty_like(q)
            for row, begin in enumerate(starts):
                for index, cand in enumerate(candidates):
                    quality, cost, _ = run_plans(
                        y[tune], c[tune], s[tune], begin, cand.in_plan, cand.thresholds
                    )
                    q[row, index], k[row, index] = quality.mean(), cost.mean()
            pick, feasible = _select(q.ravel(), k.ravel(), floor)
            row, column = divmod(pick, len(candidates))
            candidate = candidates[column]
            hybrid_target = float(HYBRID_START_TARGETS[row])
            start = hybrid_starts(p, hybrid_target)
        quality, cost, attempts = run_plans(y, c, s, start, candidate.in_plan, candidate.thresholds)
        stop_index = _stop_index(start, candidate, s)
        paths[strategy] = (start, stop_index, candidate.in_plan)
        columns = np.column_stack(
            [quality[validation], cost[validation], y[validation, best], c[validation, best]]
        )
        means = sweep.bootstrap_means(columns, resamples, rng)
        q_val, c_val = float(quality[validation].mean()), float(cost[validation].mean())
        ref_q, ref_c = float(y[validation, best].mean()), float(c[validation, best].mean())
        with np.errstate(divide="ignore", invalid="ignore"):
            q_ratio = np.nan_to_num(means[:, 0] / means[:, 2])
            c_ratio = np.nan_to_num(means[:, 1] / means[:, 3])
        plan_tiers = (
            tuple(names)
            if strategy != "cascade"
            else tuple(n for n, keep in zip(names, candidate.in_plan, strict=True) if keep)
        )
        thresholds = (
            {}
            if strategy == "classifier"
            else {
                names[i]: float(candidate.thresholds[i])
                for i in range(width - 1)
                if strategy == "hybrid" or candidate.in_plan[i]
            }
        )
        results.append(
            StrategyResult(
                strategy=strategy,
                tiers=plan_tiers,
                thresholds=MappingProxyType(thresholds),
                tune_quality=float(quality[tune].mean()),
                tune_cost_usd=float(cost[tune].mean()),
                quality=sweep.interval(means[:, 0], q_val, confidence),
                cost_usd=sweep.interval(means[:, 1], c_val, confidence),
                quality_ratio=sweep.interval(q_ratio, q_val / ref_q if ref_q else 0.0, confidence),
                cost_ratio=sweep.interval(c_ratio, c_val / ref_c if ref_c else 0.0, confidence),
                escalation_rate=float((attempts[validation] > 1).mean()),
                first_try_share=float((attempts[validation] == 1).mean()),
                attempts_per_query=float(attempts[validation].mean()),
                feasible=feasible,
                hybrid_quality_target=hybrid_target,
            )
        )
    recommended, why = _recommend(results, bimodality)
    return (
        CascadeComparison(
            verifier_source=verifier_source,
            verifier_auc=auc,
            best_single_tier=names[best],
            results=tuple(results),
            recommended=recommended,
            bimodality=bimodality,
            why=why,
            confidence=confidence,
        ),
        paths,
    )


def hybrid_starts(p_success: np.ndarray, target: float) -> np.ndarray:
    """Per query (tiers in ability order): the least capable tier whose P(success) reaches
    ``target``, else the most capable (routing/plan.py applies the same rule)."""
    reaching = p_success >= target
    return np.asarray(
        np.where(reaching.any(axis=1), np.argmax(reaching, axis=1), p_success.shape[1] - 1)
    )


def _stop_index(start: np.ndarray, candidate: _Candidate, scores: np.ndarray) -> np.ndarray:
    width = scores.shape[1]
    index = np.arange(width)
    steps = (index[None, :] >= start[:, None]) & (
        candidate.in_plan[None, :] | (index[None, :] == start[:, None])
    )
    last = width - 1 - np.argmax(steps[:, ::-1], axis=1)
    accept = (scores >= candidate.thresholds[None, :]) | (index[None, :] == last[:, None])
    return np.asarray(np.argmax(steps & accept, axis=1))


def _recommend(results: Sequence[StrategyResult], bimodality: float) -> tuple[Strategy, str]:
    """The cheapest strategy that met the quality target on the tuning part (chosen on the
    tuning part, so the validation numbers stay an honest measurement)."""
    feasible = [r for r in results if r.feasible] or list(results)
    best = min(feasible, key=lambda r: (r.tune_cost_usd, -r.tune_quality))
    shape = (
        f"router difficulty is dual-peaked (bimodality {bimodality:.2f} > 0.555): clearly easy "
        "vs clearly hard queries, which suits up-front routing"
        if bimodality > BIMODAL_ABOVE
        else f"router difficulty is smooth (bimodality {bimodality:.2f} ≤ 0.555), which suits "
        "a cascade (the answer itself tells easy from hard)"
    )
    return best.strategy, (
        f"{best.strategy} is the cheapest strategy meeting the quality target on the tuning "
        f"part; {shape}"
    )


def settings_for(comparison: CascadeComparison, auc: float) -> CascadeSettings:
    """The policy's [cascade] table: the recommended strategy, and the tuned cascade (or,
    when only hybrid was tuned, hybrid) thresholds."""
    by_name = {r.strategy: r for r in comparison.results}
    # One thresholds table serves both plan strategies: the recommended one's, so the server
    # runs exactly what was measured (classifier recommended: the cascade's, if tuned).
    preferred = comparison.recommended if comparison.recommended != "classifier" else "cascade"
    source = by_name.get(preferred) or by_name.get("cascade") or by_name.get("hybrid")
    if source is None:
        return CascadeSettings(default_strategy="classifier")
    thresholds = dict(source.thresholds)
    hybrid = by_name.get("hybrid")
    return CascadeSettings(
        default_strategy=comparison.recommended,
        tiers=source.tiers if source.strategy == "cascade" else (),
        thresholds=MappingProxyType(thresholds),
        verifier_auc=min(0.999, max(0.501, auc)),
        note=f"tuned by tierwise replay; verifier {comparison.verifier_source}",
        hybrid_quality_target=None if hybrid is None else hybrid.hybrid_quality_target,
        # (the tier set applies to cascade plans; hybrid plans climb every tier above start)
    )


def annotate_decisions(
    path: Path,
    names_in_order: Sequence[str],
    tier_index: Mapping[str, int],
    costs: np.ndarray,
    paths: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> None:
    """Add `tiers_tried` and `attempt_cost_usd` (the classifier policy's, one attempt) and,
    per replayed plan strategy, the same for the plan, to each line of decisions.jsonl."""
    rows = path.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(rows):
        record = json.loads(line)
        record["tiers_tried"] = [record["tier"]]
        record["attempt_cost_usd"] = [record["cost_usd"]]
        for strategy, (start, stop, in_plan) in paths.items():
            if strategy == "classifier":
                continue
            first = int(start[i])
            tried = [
                names_in_order[k]
                for k in range(first, int(stop[i]) + 1)
                if in_plan[k] or k == first
            ]
            record[strategy] = {
                "tiers_tried": tried,
                "attempt_cost_usd": [float(costs[i, tier_index[t]]) for t in tried],
                "tier": tried[-1],
            }
        out.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _ci(interval: Interval, scale: float = 1.0, fmt: str = "{:.3f}") -> str:
    return (
        f"{fmt.format(interval.estimate * scale)} "
        f"[{fmt.format(interval.low * scale)}, {fmt.format(interval.high * scale)}]"
    )


def markdown(comparison: CascadeComparison) -> list[str]:
    """The report's strategy comparison section."""
    best = comparison.best_single_tier
    lines = [
        "## Strategies side by side (validation part)",
        "",
        f"Verifier: {comparison.verifier_source}. Measured AUC on the tuning part: "
        + ", ".join(f"{t} {a:.3f}" for t, a in comparison.verifier_auc.items())
        + ". Thresholds were tuned on the tuning part (cheapest plan keeping the quality "
        "target), every attempt is paid for, and the intervals are percentile bootstraps "
        f"({comparison.confidence:.0%}) on the validation part.",
        "",
        f"| strategy | tiers (thresholds) | quality | cost / 1k queries | quality vs always "
        f"{best} | cost vs always {best} | escalated | attempts / query |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in comparison.results:
        plan = ", ".join(f"{t} ≥{r.thresholds[t]:.2f}" if t in r.thresholds else t for t in r.tiers)
        if r.strategy == "classifier":
            plan = "one tier chosen up front"
        lines.append(
            f"| {r.strategy}{'' if r.feasible else ' (target not met)'} | {plan} | "
            f"{_ci(r.quality)} | {_ci(r.cost_usd, 1000.0, '${:.4f}')} | "
            f"{_ci(r.quality_ratio, 100.0, '{:.1f}%')} | {_ci(r.cost_ratio, 100.0, '{:.1f}%')} | "
            f"{r.escalation_rate:.1%} | {r.attempts_per_query:.2f} |"
        )
    lines += [
        "",
        f"**Recommended: {comparison.recommended}** — {comparison.why}. The policy's "
        "`[cascade]` table carries the tuned thresholds and this default strategy; a request "
        "can still ask for any strategy. Escalation above ~70% in production "
        "(TierwiseCascadeEscalationHigh) means the thresholds or the cheap tier are stale.",
        "",
    ]
    return lines
