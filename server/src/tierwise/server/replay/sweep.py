"""The cost–quality frontier: the server's decision rule swept over the quality target, the
baselines (single tiers, random mix, oracle) and bootstrap confidence intervals."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from tierwise.server.cli.common import Progress
from tierwise.server.replay.scoring import ScoredSet
from tierwise.server.routing.policy import Policy
from tierwise.server.routing.router import Router

# Quality targets swept: 0 to 1 in steps of 0.005.
TARGET_GRID: Final = np.round(np.linspace(0.0, 1.0, 201), 6)
SUCCESS_AT: Final = 0.5  # an outcome at least this good counts as solved (oracle)
# Resamples per bootstrap chunk are limited so that chunk × n stays below this.
_BOOTSTRAP_CELLS: Final = 4_000_000


@dataclass(frozen=True)
class DecisionTable:
    """For every query, the tier decide() picks for each range of quality targets.

    decide()'s choice only changes when the target crosses one of the query's P(success)
    values, so T+1 calls per query give its decision for every target."""

    breakpoints: np.ndarray  # float64 [n, T], the query's P(success) values, ascending
    chosen: np.ndarray  # int64 [n, T+1], tier index when k breakpoints are below the target
    escalated: np.ndarray  # bool [n, T+1]
    p_success: np.ndarray  # float64 [n, T], in tier order
    difficulty: np.ndarray  # float64 [n], what the policy's decisions used

    def choose(self, target: float, rows: np.ndarray | None = None) -> np.ndarray:
        """Tier index per query (rows: a subset) at ``target``."""
        breakpoints = self.breakpoints if rows is None else self.breakpoints[rows]
        chosen = self.chosen if rows is None else self.chosen[rows]
        k = np.sum(breakpoints < target, axis=1)
        return np.asarray(chosen[np.arange(len(k)), k])

    def escalation(self, target: float, rows: np.ndarray) -> np.ndarray:
        k = np.sum(self.breakpoints[rows] < target, axis=1)
        return np.asarray(self.escalated[rows][np.arange(len(k)), k])


def decision_table(
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    progress: Progress | None = None,
) -> DecisionTable:
    """Router.decide for each query at one target per range of targets.

    ``difficulty`` is what the policy's head (or the model's) gives each query; the policy
    passed to decide() carries no head, which is exactly what decide() does with one."""
    headless = dataclasses.replace(policy, head=None)
    index_of = {t: i for i, t in enumerate(scored.tiers)}
    n, width = scored.size, len(scored.tiers)
    breakpoints = np.zeros((n, width))
    chosen = np.zeros((n, width + 1), dtype=np.int64)
    escalated = np.zeros((n, width + 1), dtype=bool)
    p_success = np.zeros((n, width))
    for i in range(n):
        item = scored.route_input(i, allowed)
        prediction = scored.prediction(i, float(difficulty[i]))
        p = np.array(
            [headless.p_success(t, float(difficulty[i]), prediction.skills) for t in scored.tiers]
        )
        p_success[i] = p
        ordered = np.sort(p)
        breakpoints[i] = ordered
        # A target equal to the k-th smallest P(success) is met by exactly the tiers above the
        # (k-1)-th; above the largest, by none.
        targets = [*ordered.tolist(), float(np.nextafter(ordered[-1], np.inf))]
        for k, target in enumerate(targets):
            decision = router.decide(
                item, prediction, dataclasses.replace(headless, quality_target=target)
            )
            chosen[i, k] = index_of[decision.tier]
            escalated[i, k] = decision.escalated
        if progress is not None:
            progress.advance()
    return DecisionTable(breakpoints, chosen, escalated, p_success, difficulty)


@dataclass(frozen=True)
class Point:
    """Mean quality (outcome of the chosen tier) and mean cost per query."""

    quality: float
    cost_usd: float


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Sweep:
    """Per query and target: outcome and cost of the chosen tier (rows of one part)."""

    targets: np.ndarray  # [G]
    quality: np.ndarray  # float32 [m, G]
    cost: np.ndarray  # float32 [m, G]
    choice: np.ndarray  # int8 [m, G]

    def points(self) -> list[Point]:
        q, c = self.quality.mean(axis=0, dtype=np.float64), self.cost.mean(axis=0, dtype=np.float64)
        return [Point(float(a), float(b)) for a, b in zip(q, c, strict=True)]


def sweep(table: DecisionTable, scored: ScoredSet, rows: np.ndarray) -> Sweep:
    outcomes, costs = scored.outcomes[rows], scored.cost_usd[rows]
    m = len(rows)
    quality = np.zeros((m, len(TARGET_GRID)), dtype=np.float32)
    cost = np.zeros_like(quality)
    choice = np.zeros((m, len(TARGET_GRID)), dtype=np.int8)
    every = np.arange(m)
    for j, target in enumerate(TARGET_GRID):
        picked = table.choose(float(target), rows)
        quality[:, j] = outcomes[every, picked]
        cost[:, j] = costs[every, picked]
        choice[:, j] = picked
    return Sweep(TARGET_GRID, quality, cost, choice)


def frontier(points: Sequence[Point]) -> list[int]:
    """Indices of the Pareto-optimal points, cheapest first: along it cost never decreases
    and quality strictly increases."""
    order = sorted(range(len(points)), key=lambda i: (points[i].cost_usd, -points[i].quality))
    kept: list[int] = []
    best = -np.inf
    for i in order:
        if points[i].quality > best + 1e-12:
            kept.append(i)
            best = points[i].quality
    return kept


def single_tiers(scored: ScoredSet, rows: np.ndarray) -> list[Point]:
    return [
        Point(float(scored.outcomes[rows, t].mean()), float(scored.cost_usd[rows, t].mean()))
        for t in range(len(scored.tiers))
    ]


def oracle_choice(scored: ScoredSet, rows: np.ndarray, ability_order: Sequence[int]) -> np.ndarray:
    """Per query the cheapest tier that succeeds (outcome ≥ 0.5); if none does, the cheapest.
    Equal costs: the less capable tier first (as decide() breaks ties)."""
    rank = np.empty(len(ability_order), dtype=np.int64)
    rank[list(ability_order)] = np.arange(len(ability_order))
    costs = scored.cost_usd[rows]
    order = np.lexsort((np.broadcast_to(rank, costs.shape), costs), axis=1)
    ok = scored.outcomes[rows] >= SUCCESS_AT
    ok_sorted = np.take_along_axis(ok, order, axis=1)
    first = np.where(ok_sorted.any(axis=1), ok_sorted.argmax(axis=1), 0)
    return np.asarray(order[np.arange(len(rows)), first])


def point_of(scored: ScoredSet, rows: np.ndarray, choice: np.ndarray) -> Point:
    every = np.arange(len(rows))
    return Point(
        float(scored.outcomes[rows][every, choice].mean()),
        float(scored.cost_usd[rows][every, choice].mean()),
    )


def random_quality(singles: Sequence[Point], cost_usd: float) -> float:
    """Quality of routing at random between the cheapest and the most expensive tier, mixed
    so that the mean cost is ``cost_usd`` (clipped to their range)."""
    lo = min(singles, key=lambda p: p.cost_usd)
    hi = max(singles, key=lambda p: p.cost_usd)
    if hi.cost_usd <= lo.cost_usd:
        return lo.quality
    share = min(1.0, max(0.0, (cost_usd - lo.cost_usd) / (hi.cost_usd - lo.cost_usd)))
    return lo.quality + share * (hi.quality - lo.quality)


def best_single(singles: Sequence[Point]) -> int:
    """The single tier with the highest quality (cheaper on ties)."""
    return min(range(len(singles)), key=lambda t: (-singles[t].quality, singles[t].cost_usd))


def select(
    quality: np.ndarray, cost: np.ndarray, single_quality: np.ndarray, quality_target: float
) -> tuple[int, bool]:
    """The cheapest target whose quality ≥ quality_target × best single tier's quality.

    Ties (same cost and quality) → the middle one of the tied targets. Returns (grid index,
    feasible); when nothing is feasible, the highest-quality point."""
    required = quality_target * float(np.max(single_quality))
    feasible = np.flatnonzero(quality >= required - 1e-12)
    if len(feasible) == 0:
        best = np.flatnonzero(quality >= quality.max() - 1e-12)
        tied = best[cost[best] <= cost[best].min() + 1e-15]
        return int(tied[len(tied) // 2]), False
    cheapest = feasible[cost[feasible] <= cost[feasible].min() + 1e-15]
    tied = cheapest[quality[cheapest] >= quality[cheapest].max() - 1e-12]
    return int(tied[len(tied) // 2]), True


def bootstrap_means(columns: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of the columns of ``columns`` [m, k] over ``resamples`` bootstrap resamples of
    its rows → [resamples, k] (resampled in chunks: memory stays bounded for large m)."""
    m = len(columns)
    chunk = max(1, _BOOTSTRAP_CELLS // max(1, m))
    values = np.asarray(columns, dtype=np.float64)
    out: list[np.ndarray] = []
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        picks = rng.integers(0, m, size=(size, m))
        offsets = (np.arange(size) * m)[:, None]
        counts = np.bincount((picks + offsets).ravel(), minlength=size * m).reshape(size, m)
        means = counts @ values / m
        out.append(means)
        done += size
    return np.concatenate(out)


def interval(samples: np.ndarray, estimate: float, level: float) -> Interval:
    """Percentile bootstrap interval around ``estimate``."""
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high))
