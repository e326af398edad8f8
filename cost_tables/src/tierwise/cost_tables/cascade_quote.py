"""Monthly cost of a cascade (or hybrid) mix: each tier's calls are the calls that reach it,
and the attempts whose answer was rejected are paid for like any other.

A call reaches step k when it starts there (hybrid) or escalates from step k−1:
reach_k = start_k + reach_{k−1} · escalation_{k−1}. Each tier is priced as in
`tier_monthly_cost` at its own volume (capacity pricing for a self-hosted tier included).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.tables import TierTable
from tierwise.cost_tables.workload import (
    MIX_TOLERANCE,
    TierMonthlyCost,
    Workload,
    tier_monthly_cost,
)


@dataclass(frozen=True)
class CascadeStep:
    tier_id: str
    escalation_rate: float  # share of the calls answered here that escalate (last: ignored)


@dataclass(frozen=True)
class CascadeMix:
    steps: tuple[CascadeStep, ...]
    # Share of calls starting at each tier (hybrid); None: every call starts at steps[0].
    start_mix: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise InvalidInputError("cascade.steps", "must name at least one tier")
        tiers = [s.tier_id for s in self.steps]
        if len(set(tiers)) != len(tiers):
            raise InvalidInputError("cascade.steps", "names a tier twice")
        for index, step in enumerate(self.steps):
            rate = step.escalation_rate
            if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
                raise InvalidInputError(
                    f"cascade.steps[{index}].escalation_rate", f"must be in [0, 1] (got {rate})"
                )
        if self.start_mix is not None:
            for tier, share in self.start_mix.items():
                if tier not in tiers:
                    raise InvalidInputError(f"cascade.start_mix.{tier}", "is not a cascade step")
                if not (math.isfinite(share) and 0.0 <= share <= 1.0):
                    raise InvalidInputError(f"cascade.start_mix.{tier}", "must be in [0, 1]")
            total = sum(self.start_mix.values())
            if abs(total - 1.0) > MIX_TOLERANCE:
                raise InvalidInputError(
                    "cascade.start_mix", f"shares must sum to 1 (got {total:.6g})"
                )
            object.__setattr__(self, "start_mix", MappingProxyType(dict(self.start_mix)))

    @property
    def kind(self) -> str:
        return "cascade" if self.start_mix is None else "hybrid"

    def reached(self) -> list[float]:
        """Share of calls that reach each step."""
        out: list[float] = []
        carried = 0.0
        for index, step in enumerate(self.steps):
            if self.start_mix is None:
                start = 1.0 if index == 0 else 0.0
            else:
                start = self.start_mix.get(step.tier_id, 0.0)
            share = start + carried
            out.append(share)
            carried = share * step.escalation_rate
        return out


@dataclass(frozen=True)
class CascadeMonthlyCost:
    cost: TierMonthlyCost
    failed_attempts_usd: float
    attempts_per_call: float
    reached_share: Mapping[str, float]


def quote_cascade(table: TierTable, workload: Workload, mix: CascadeMix) -> CascadeMonthlyCost:
    for step in mix.steps:
        table.get(step.tier_id)  # UnknownIdError for a typo
    reached = mix.reached()
    last = len(mix.steps) - 1
    parts: list[TierMonthlyCost] = []
    failed = 0.0
    for index, (step, share) in enumerate(zip(mix.steps, reached, strict=True)):
        if share <= 0:
            continue
        part = tier_monthly_cost(
            table.get(step.tier_id), workload, workload.calls_per_month * share
        )
        parts.append(part)
        if index < last:
            failed += part.monthly_usd * step.escalation_rate
    monthly = sum(p.monthly_usd for p in parts)
    self_hosted = [p for p in parts if p.instances is not None]
    cost = TierMonthlyCost(
        tier_id=mix.kind,
        model="mix",
        monthly_usd=monthly,
        usd_per_call=monthly / workload.calls_per_month,
        input_usd=sum(p.input_usd for p in parts),
        output_usd=sum(p.output_usd for p in parts),
        cache_usd=sum(p.cache_usd for p in parts),
        batch_discount_usd=sum(p.batch_discount_usd for p in parts),
        instances=sum(p.instances or 0 for p in self_hosted) if self_hosted else None,
        utilisation=self_hosted[0].utilisation if len(self_hosted) == 1 else None,
        fixed_usd=sum(p.fixed_usd or 0.0 for p in self_hosted) if self_hosted else None,
    )
    return CascadeMonthlyCost(
        cost=cost,
        failed_attempts_usd=failed,
        attempts_per_call=sum(reached),
        reached_share=MappingProxyType(
            {s.tier_id: r for s, r in zip(mix.steps, reached, strict=True)}
        ),
    )


def cascade_mix(
    steps: Sequence[tuple[str, float]], start_mix: Mapping[str, float] | None
) -> CascadeMix:
    return CascadeMix(tuple(CascadeStep(t, float(r)) for t, r in steps), start_mix or None)
