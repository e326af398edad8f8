"""Cascade and hybrid plans: the tiers to try in order, each with its acceptance threshold,
and what the plan is expected to cost and achieve (failed attempts paid for).

Expected values treat each tier's answer as good with its P(success) and the caller's
scorer as a binormal verifier of the policy's assumed AUC (routing/verifier_model.py),
independently per tier: a plan estimate, not a promise; replay measures the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tierwise.server.routing.cascade_policy import Strategy
from tierwise.server.routing.policy import Policy
from tierwise.server.routing.router import RouteDecision, TierEstimate
from tierwise.server.routing.verifier_model import accept_rates


@dataclass(frozen=True)
class PlanStep:
    tier: str
    model: str
    accept_threshold: float
    p_reached: float
    quoted_usd: float
    latency_ms: float


@dataclass(frozen=True)
class Plan:
    strategy: Strategy
    steps: tuple[PlanStep, ...]
    expected_cost_usd: float
    expected_quality: float
    expected_latency_ms: float


def _latency_ms(estimate: TierEstimate) -> float:
    # One attempt waits for the whole answer before it can be scored.
    return estimate.latency_ms


def plan_tiers(
    decision: RouteDecision, policy: Policy, strategy: Strategy, max_cost_usd: float | None
) -> list[TierEstimate]:
    """The estimates of the tiers to try, in order."""
    by_tier = {e.tier: e for e in decision.estimates}
    order = list(policy.cascade.tiers) or policy.by_ability(by_tier)
    usable = [by_tier[t] for t in order if t in by_tier and by_tier[t].allowed]
    if strategy == "hybrid":
        start = by_tier[decision.tier]
        target = policy.cascade.hybrid_quality_target
        if target is not None:
            # Same rule replay tunes: the least capable allowed tier reaching the target.
            capable = policy.by_ability(e.tier for e in decision.estimates if e.allowed)
            reaching = [t for t in capable if by_tier[t].p_success >= target]
            start = by_tier[reaching[0] if reaching else capable[-1]]
        ability = policy.tiers[start.tier].ability
        usable = [start] + [
            e for e in usable if e.tier != start.tier and policy.tiers[e.tier].ability > ability
        ]
    if not usable:
        usable = [by_tier[decision.tier]]
    if max_cost_usd is None:
        return usable
    # Every attempt is paid for: keep the steps whose worst case (all of them) fits.
    kept, spent = [usable[0]], usable[0].quoted_usd
    for estimate in usable[1:]:
        if spent + estimate.quoted_usd > max_cost_usd:
            break
        kept.append(estimate)
        spent += estimate.quoted_usd
    return kept


def build_plan(
    decision: RouteDecision, policy: Policy, strategy: Strategy, max_cost_usd: float | None
) -> Plan:
    estimates: Sequence[TierEstimate] = plan_tiers(decision, policy, strategy, max_cost_usd)
    settings = policy.cascade
    steps: list[PlanStep] = []
    reached = 1.0
    cost = quality = latency = 0.0
    for index, estimate in enumerate(estimates):
        last = index == len(estimates) - 1
        threshold = 0.0 if last else settings.threshold(estimate.tier)
        steps.append(
            PlanStep(
                tier=estimate.tier,
                model=estimate.model,
                accept_threshold=threshold,
                p_reached=reached,
                quoted_usd=estimate.quoted_usd,
                latency_ms=_latency_ms(estimate),
            )
        )
        cost += reached * estimate.quoted_usd
        latency += reached * _latency_ms(estimate)
        good_accepted, bad_accepted = accept_rates(settings.verifier_auc, threshold)
        p = estimate.p_success
        quality += reached * p * good_accepted
        reached *= 1.0 - (p * good_accepted + (1.0 - p) * bad_accepted)
    return Plan(
        strategy=strategy,
        steps=tuple(steps),
        expected_cost_usd=cost,
        expected_quality=quality,
        expected_latency_ms=latency,
    )
