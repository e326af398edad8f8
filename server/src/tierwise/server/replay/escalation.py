"""Does each escalation rule earn its extra cost?

An escalation rule (out-of-distribution, long input) sends a query one tier up whatever its
predicted P(success). It pays only if the quality it buys per extra dollar is at least what
the policy itself buys at the margin: otherwise raising the quality target would buy the same
quality for less. Replay measures each rule on the validation part, with the rule on and
off and everything else equal, and compares the policy with the best mix of two adjacent
tiers at the same cost (what a user gets without any router).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from tierwise.server.replay.scoring import ScoredSet
from tierwise.server.replay.sweep import Point
from tierwise.server.routing.policy import Policy
from tierwise.server.routing.router import Router

# Rule name → the policy field that switches it.
RULES: Final = {
    "out_of_distribution": "escalate_out_of_distribution",
    "long_input": "escalate_truncated",
}


@dataclass(frozen=True)
class RuleEffect:
    """One rule on the validation part at the policy's quality target."""

    rule: str
    enabled: bool  # in the replayed policy
    escalated_share: float  # queries the rule sends one tier up when on
    quality_gain: float  # mean quality with the rule minus without
    extra_cost_usd: float  # mean cost per query with the rule minus without
    quality_per_usd: float | None  # None when the rule changes no cost
    marginal_quality_per_usd: float | None  # the policy's own rate at its operating point
    pays: bool


def with_rule(policy: Policy, rule: str, enabled: bool) -> Policy:
    """``policy`` with one escalation rule switched on or off."""
    if rule == "out_of_distribution":
        return dataclasses.replace(policy, escalate_out_of_distribution=enabled)
    if rule == "long_input":
        return dataclasses.replace(policy, escalate_truncated=enabled)
    raise ValueError(f"unknown escalation rule {rule!r}; known: {', '.join(RULES)}")


def outcome_at(
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    rows: np.ndarray,
) -> tuple[float, float, float]:
    """(mean quality, mean cost, escalated share) of ``policy``'s decisions on ``rows``."""
    index_of = {t: i for i, t in enumerate(scored.tiers)}
    quality = cost = escalated = 0.0
    for i in rows:
        decision = router.decide(
            scored.route_input(int(i), allowed),
            scored.prediction(int(i), float(difficulty[i])),
            policy,
        )
        t = index_of[decision.tier]
        quality += float(scored.outcomes[i, t])
        cost += float(scored.cost_usd[i, t])
        escalated += decision.escalated
    n = max(1, len(rows))
    return quality / n, cost / n, escalated / n


def marginal_rate(points: Sequence[Point], frontier: Sequence[int], chosen: Point) -> float | None:
    """Quality per dollar of the frontier segment the chosen point sits on (the next more
    expensive frontier point; the last one looks back)."""
    hull = sorted((points[i] for i in frontier), key=lambda p: p.cost_usd)
    pricier = [p for p in hull if p.cost_usd > chosen.cost_usd + 1e-15]
    cheaper = [p for p in hull if p.cost_usd < chosen.cost_usd - 1e-15]
    if pricier:
        nxt = pricier[0]
        dq, dc = nxt.quality - chosen.quality, nxt.cost_usd - chosen.cost_usd
    elif cheaper:
        prv = cheaper[-1]
        dq, dc = chosen.quality - prv.quality, chosen.cost_usd - prv.cost_usd
    else:
        return None
    return dq / dc if dc > 0 else None


def rule_effects(
    router: Router,
    scored: ScoredSet,
    policy: Policy,
    difficulty: np.ndarray,
    allowed: tuple[str, ...],
    rows: np.ndarray,
    marginal: float | None,
) -> list[RuleEffect]:
    """Each rule on and off on ``rows`` (the other rules as the policy has them)."""
    effects = []
    headless = dataclasses.replace(policy, head=None)
    for rule, field in RULES.items():
        q_on, c_on, share = outcome_at(
            router, scored, with_rule(headless, rule, True), difficulty, allowed, rows
        )
        q_off, c_off, _ = outcome_at(
            router, scored, with_rule(headless, rule, False), difficulty, allowed, rows
        )
        gain, extra = q_on - q_off, c_on - c_off
        rate = gain / extra if abs(extra) > 1e-15 else None
        # A rule that buys quality at no extra cost always pays.
        pays = gain > 0 and (rate is None or marginal is None or rate >= marginal)
        effects.append(
            RuleEffect(
                rule=rule,
                enabled=bool(getattr(policy, field)),
                escalated_share=share,
                quality_gain=gain,
                extra_cost_usd=extra,
                quality_per_usd=rate,
                marginal_quality_per_usd=marginal,
                pays=pays,
            )
        )
    return effects


def adjacent_mix_quality(singles: Sequence[Point], cost_usd: float) -> float:
    """Quality of the best random mix of two tiers adjacent in cost (on the upper hull of the
    single tiers) whose mean cost is ``cost_usd`` (clipped to the tiers' range)."""
    order = sorted(singles, key=lambda p: (p.cost_usd, -p.quality))
    hull: list[Point] = []
    for p in order:
        if hull and p.quality <= hull[-1].quality:
            continue
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # b is under the chord a → p: mixing a and p beats b at its cost.
            if (b.quality - a.quality) * (p.cost_usd - a.cost_usd) <= (p.quality - a.quality) * (
                b.cost_usd - a.cost_usd
            ):
                hull.pop()
            else:
                break
        hull.append(p)
    if cost_usd <= hull[0].cost_usd:
        return hull[0].quality
    for a, b in itertools.pairwise(hull):
        if cost_usd <= b.cost_usd:
            share = (cost_usd - a.cost_usd) / (b.cost_usd - a.cost_usd)
            return a.quality + share * (b.quality - a.quality)
    return hull[-1].quality
