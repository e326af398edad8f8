"""Monthly cost of a workload per tier, the routed mix, and API-vs-self-host break-even.

API tiers are priced per token: the expected cost of one call over the cross-product of the
input and output token distributions (exact, so per-request rules such as Sonnet's >200K
long-context rate and the cache minimum apply bucket by bucket), times calls per month.

The self-hosted tier is priced by capacity, because GPUs are rented by the hour whether busy
or not: instances = ceil(peak GPU load / GPUs per instance), at least one running all month,
plus a fixed operations cost. Its marginal $/M (the table price) is only reached at 100%
utilisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tierwise.cost_tables.errors import InvalidInputError, UnknownIdError
from tierwise.cost_tables.expected_cost import expected_api_cost
from tierwise.cost_tables.quote import check_tokens
from tierwise.cost_tables.tables import TierPricing, TierTable

HOURS_PER_MONTH = 730.0  # 8760 h / 12: the convention cloud providers bill monthly by
SECONDS_PER_HOUR = 3600.0
# An engineer's time is the cost people forget: ~10% of one ML-platform engineer (loaded
# cost ~$20k/month) for on-call, model/engine upgrades, monitoring and incident response,
# plus storage and egress. Pass the real figure for your organisation.
DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH = 2000.0
# Interactive traffic is diurnal: the busiest hour typically carries ~2x the mean hourly
# load, and capacity must be sized for the peak (batch traffic can fill the troughs).
DEFAULT_PEAK_TO_AVERAGE = 2.0
MAX_CALLS_PER_MONTH = 1e12  # break-even searches stop here ("never", practically)
MIX_TOLERANCE = 1e-6


def _check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(name, f"must be a number (got {value!r})")
    if not 0.0 <= value <= 1.0:
        raise InvalidInputError(name, f"must be between 0 and 1 (got {value!r})")
    return float(value)


@dataclass(frozen=True)
class TokenDistribution:
    """A discrete distribution of token counts: ((tokens, weight), ...); weights normalised."""

    buckets: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.buckets, tuple | list) or not self.buckets:
            raise InvalidInputError("buckets", "token distribution must have at least one bucket")
        total = 0.0
        for i, bucket in enumerate(self.buckets):
            if not isinstance(bucket, tuple | list) or len(bucket) != 2:
                raise InvalidInputError(
                    f"buckets[{i}]", f"must be (tokens, weight) (got {bucket!r})"
                )
            tokens, weight = bucket
            check_tokens(f"buckets[{i}].tokens", tokens)
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not math.isfinite(weight)
                or weight <= 0
            ):
                raise InvalidInputError(f"buckets[{i}].weight", f"must be > 0 (got {weight!r})")
            total += weight
        normalised = tuple((int(t), float(w) / total) for t, w in self.buckets)
        object.__setattr__(self, "buckets", normalised)

    @classmethod
    def from_mean(cls, tokens: float) -> TokenDistribution:
        """Every call has ``tokens`` tokens.

        A fractional mean (e.g. 812.5 from a wire ``double``) becomes the two neighbouring
        whole-token buckets weighted so that ``mean()`` is exactly ``tokens``.
        """
        if (
            isinstance(tokens, bool)
            or not isinstance(tokens, int | float)
            or not math.isfinite(tokens)
        ):
            raise InvalidInputError("mean", f"must be a number of tokens (got {tokens!r})")
        if tokens < 0:
            raise InvalidInputError("mean", f"must be >= 0 (got {tokens!r})")
        low = math.floor(tokens)
        frac = tokens - low
        if frac == 0:
            return cls(((int(low), 1.0),))
        return cls(((int(low), 1.0 - frac), (int(low) + 1, frac)))

    def mean(self) -> float:
        return sum(t * w for t, w in self.buckets)


@dataclass(frozen=True)
class Workload:
    calls_per_month: float
    input_tokens: TokenDistribution
    output_tokens: TokenDistribution
    cache_hit_rate: float = 0.0  # fraction of input tokens read from cache
    batch_share: float = 0.0  # fraction of calls sent through the batch API
    routed_mix: Mapping[str, float] | None = None  # tier -> share of calls, sums to 1
    self_hosted_fixed_usd_per_month: float = DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH
    peak_to_average: float = DEFAULT_PEAK_TO_AVERAGE

    def __post_init__(self) -> None:
        calls = self.calls_per_month
        if (
            isinstance(calls, bool)
            or not isinstance(calls, int | float)
            or not math.isfinite(calls)
        ):
            raise InvalidInputError("calls_per_month", f"must be a number (got {calls!r})")
        if calls <= 0:
            raise InvalidInputError(
                "calls_per_month", f"must be > 0: an empty workload has no cost (got {calls!r})"
            )
        if calls > MAX_CALLS_PER_MONTH:
            raise InvalidInputError(
                "calls_per_month", f"must be <= {MAX_CALLS_PER_MONTH:g} (got {calls!r})"
            )
        for name in ("input_tokens", "output_tokens"):
            if not isinstance(getattr(self, name), TokenDistribution):
                raise InvalidInputError(name, "must be a TokenDistribution")
        _check_fraction("cache_hit_rate", self.cache_hit_rate)
        _check_fraction("batch_share", self.batch_share)
        ops = self.self_hosted_fixed_usd_per_month
        if isinstance(ops, bool) or not isinstance(ops, int | float) or not 0 <= ops < 1e9:
            raise InvalidInputError(
                "self_hosted_fixed_usd_per_month", f"must be in [0, 1e9) (got {ops!r})"
            )
        peak = self.peak_to_average
        if isinstance(peak, bool) or not isinstance(peak, int | float) or not 1 <= peak <= 100:
            raise InvalidInputError("peak_to_average", f"must be in [1, 100] (got {peak!r})")
        if self.routed_mix is not None:
            if not self.routed_mix:
                raise InvalidInputError("routed_mix", "must name at least one tier")
            for tier_id, share in self.routed_mix.items():
                _check_fraction(f"routed_mix.{tier_id}", share)
            total = sum(self.routed_mix.values())
            if abs(total - 1.0) > MIX_TOLERANCE:
                raise InvalidInputError("routed_mix", f"shares must sum to 1 (got {total:.6g})")
            object.__setattr__(self, "routed_mix", MappingProxyType(dict(self.routed_mix)))


@dataclass(frozen=True)
class TierMonthlyCost:
    tier_id: str
    model: str
    monthly_usd: float
    usd_per_call: float
    input_usd: float
    output_usd: float
    cache_usd: float
    batch_discount_usd: float
    instances: int | None  # self-hosted only
    utilisation: float | None  # self-hosted only: mean GPU load / capacity paid for
    fixed_usd: float | None  # self-hosted only: operations cost included in monthly_usd


@dataclass(frozen=True)
class BreakEven:
    api_tier_id: str
    self_hosted_tier_id: str
    calls_per_month: float | None  # None = never cheaper within MAX_CALLS_PER_MONTH
    monthly_usd_at_break_even: float | None


@dataclass(frozen=True)
class WorkloadQuote:
    table_version: str
    tiers: tuple[TierMonthlyCost, ...]
    routed: TierMonthlyCost | None
    break_even: tuple[BreakEven, ...] = field(default_factory=tuple)

    def get(self, tier_id: str) -> TierMonthlyCost:
        for t in self.tiers:
            if t.tier_id == tier_id:
                return t
        raise UnknownIdError("tier", tier_id, [t.tier_id for t in self.tiers])


@dataclass(frozen=True)
class _PerCall:
    """Expected per-call parts for an API tier."""

    input_usd: float
    output_usd: float
    cache_usd: float
    batch_discount_usd: float

    @property
    def total(self) -> float:
        return self.input_usd + self.output_usd + self.cache_usd - self.batch_discount_usd


def _api_per_call(tier: TierPricing, w: Workload) -> _PerCall:
    cost = expected_api_cost(
        tier,
        w.input_tokens.buckets,
        w.output_tokens.buckets,
        cache_hit_rate=w.cache_hit_rate,
        batch_share=w.batch_share,
    )
    return _PerCall(cost.input_usd, cost.output_usd, cost.cache_usd, cost.batch_discount_usd)


def _api_cost(tier: TierPricing, w: Workload, calls: float) -> TierMonthlyCost:
    per = _api_per_call(tier, w)
    return TierMonthlyCost(
        tier_id=tier.tier_id,
        model=tier.model,
        monthly_usd=per.total * calls,
        usd_per_call=per.total,
        input_usd=per.input_usd * calls,
        output_usd=per.output_usd * calls,
        cache_usd=per.cache_usd * calls,
        batch_discount_usd=per.batch_discount_usd * calls,
        instances=None,
        utilisation=None,
        fixed_usd=None,
    )


@dataclass(frozen=True)
class _GpuSeconds:
    """Expected GPU-seconds per call on the self-hosted deployment, by phase."""

    prefill: float
    cache: float
    decode: float

    @property
    def total(self) -> float:
        return self.prefill + self.cache + self.decode


def _gpu_seconds_per_call(tier: TierPricing, w: Workload) -> _GpuSeconds:
    est = tier.derivation
    assert est is not None  # only called for self-hosted tiers
    prefill = cache = 0.0
    for tokens_in, w_in in w.input_tokens.buckets:
        read = round(tokens_in * w.cache_hit_rate)
        if read < tier.min_cacheable_tokens:
            read = 0
        prefill += w_in * (tokens_in - read) * est.prefill_gpu_s_per_token
        cache += w_in * read * tier.cache_read_multiplier * est.prefill_gpu_s_per_token
    decode = w.output_tokens.mean() * est.decode_gpu_s_per_token
    return _GpuSeconds(prefill, cache, decode)


def _instance_usd(tier: TierPricing) -> tuple[int, float]:
    est = tier.derivation
    assert est is not None
    return est.gpus, est.gpus * est.usd_per_gpu_hour * HOURS_PER_MONTH


def _instances(tier: TierPricing, w: Workload, calls: float) -> tuple[int, float]:
    """(instances needed, mean GPU load in GPUs) at ``calls`` per month."""
    gpus, _ = _instance_usd(tier)
    per_call = _gpu_seconds_per_call(tier, w).total
    mean_load = calls * per_call / (HOURS_PER_MONTH * SECONDS_PER_HOUR)
    # Interactive calls must be served at their peak; batch calls can wait for the troughs,
    # but the month's total work must still fit.
    interactive_peak = mean_load * (1.0 - w.batch_share) * w.peak_to_average
    needed = max(interactive_peak, mean_load) / gpus
    return max(1, math.ceil(needed - 1e-12)), mean_load


def _self_hosted_cost(tier: TierPricing, w: Workload, calls: float) -> TierMonthlyCost:
    gpus, usd_per_instance = _instance_usd(tier)
    instances, mean_load = _instances(tier, w, calls)
    gpu_usd = instances * usd_per_instance
    fixed = w.self_hosted_fixed_usd_per_month
    secs = _gpu_seconds_per_call(tier, w)
    total = secs.total or 1.0
    monthly = gpu_usd + fixed
    return TierMonthlyCost(
        tier_id=tier.tier_id,
        model=tier.model,
        monthly_usd=monthly,
        usd_per_call=monthly / calls,
        # The GPU bill (idle capacity included) split by where the busy GPU-seconds go.
        input_usd=gpu_usd * secs.prefill / total,
        output_usd=gpu_usd * secs.decode / total,
        cache_usd=gpu_usd * secs.cache / total,
        batch_discount_usd=0.0,
        instances=instances,
        utilisation=mean_load / (instances * gpus),
        fixed_usd=fixed,
    )


def tier_monthly_cost(tier: TierPricing, w: Workload, calls: float) -> TierMonthlyCost:
    if tier.kind == "self-hosted":
        return _self_hosted_cost(tier, w, calls)
    return _api_cost(tier, w, calls)


def _routed(table: TierTable, w: Workload) -> TierMonthlyCost | None:
    if w.routed_mix is None:
        return None
    for tier_id in w.routed_mix:
        table.get(tier_id)  # UnknownIdError("tier", ...) for a typo
    parts = [
        tier_monthly_cost(table.get(t), w, w.calls_per_month * share)
        for t, share in w.routed_mix.items()
        if share > 0
    ]
    self_hosted = [p for p in parts if p.instances is not None]
    monthly = sum(p.monthly_usd for p in parts)
    return TierMonthlyCost(
        tier_id="routed",
        model="mix",
        monthly_usd=monthly,
        usd_per_call=monthly / w.calls_per_month,
        input_usd=sum(p.input_usd for p in parts),
        output_usd=sum(p.output_usd for p in parts),
        cache_usd=sum(p.cache_usd for p in parts),
        batch_discount_usd=sum(p.batch_discount_usd for p in parts),
        instances=sum(p.instances or 0 for p in self_hosted) if self_hosted else None,
        utilisation=self_hosted[0].utilisation if len(self_hosted) == 1 else None,
        fixed_usd=sum(p.fixed_usd or 0.0 for p in self_hosted) if self_hosted else None,
    )


def break_even(api: TierPricing, self_hosted: TierPricing, w: Workload) -> BreakEven:
    """Smallest calls/month at which ``self_hosted`` costs less than ``api``.

    API cost is linear, a·c; self-hosted is a step function k(c)·I + F with
    k(c) = max(1, ceil(c·g)). On step k (c in ((k-1)/g, k/g]) it is constant, so the first
    crossing on that step is max((kI+F)/a, (k-1)/g) if that is <= k/g; the first such k is
    found in closed form, k·(a/g − I) >= F, then confirmed against the cost functions.
    """
    a = _api_per_call(api, w).total
    _, usd_instance = _instance_usd(self_hosted)
    gpus, _ = _instance_usd(self_hosted)
    fixed = w.self_hosted_fixed_usd_per_month
    probe = 1e6
    instances_probe, load_probe = _instances(self_hosted, w, probe)
    del instances_probe
    per_call_gpus = load_probe / probe  # mean GPUs per (call/month)
    g = max(per_call_gpus * (1 - w.batch_share) * w.peak_to_average, per_call_gpus) / gpus
    never = BreakEven(api.tier_id, self_hosted.tier_id, None, None)
    if a <= 0:
        return never
    if g <= 0:
        k = 1
    else:
        margin = a / g - usd_instance
        if margin <= 0:
            return never
        k = max(1, math.ceil(fixed / margin - 1e-12))
    for _ in range(3):  # guard against float edge effects at a step boundary
        start = (k - 1) / g if g > 0 else 0.0
        crossing = max((k * usd_instance + fixed) / a, start)
        # Strictly cheaper just past the crossing: nudge by a relative epsilon.
        calls = math.nextafter(crossing, math.inf) * (1 + 1e-12)
        if calls > MAX_CALLS_PER_MONTH:
            return never
        sh = _self_hosted_cost(self_hosted, w, calls).monthly_usd
        if sh < a * calls:
            return BreakEven(api.tier_id, self_hosted.tier_id, calls, a * calls)
        k += 1
    return never


def quote_workload(table: TierTable, workload: Workload) -> WorkloadQuote:
    calls = workload.calls_per_month
    tiers = tuple(tier_monthly_cost(t, workload, calls) for t in table.tiers)
    routed = _routed(table, workload)
    hosted = [t for t in table.tiers if t.kind == "self-hosted"]
    apis = [t for t in table.tiers if t.kind == "api"]
    evens = tuple(break_even(api, sh, workload) for sh in hosted for api in apis)
    return WorkloadQuote(table_version=table.version, tiers=tiers, routed=routed, break_even=evens)


__all__ = [
    "DEFAULT_PEAK_TO_AVERAGE",
    "DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH",
    "HOURS_PER_MONTH",
    "BreakEven",
    "TierMonthlyCost",
    "TokenDistribution",
    "Workload",
    "WorkloadQuote",
    "quote_workload",
]
