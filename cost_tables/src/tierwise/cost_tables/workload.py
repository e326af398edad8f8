"""Monthly cost of a workload per tier, the routed mix, and API-vs-self-host break-even.

API tiers are priced per token: the expected cost of one call over the cross-product of the
input and output token distributions (exact, so per-request rules such as Sonnet's >200K
long-context rate and the cache minimum apply bucket by bucket), times calls per month.

The self-hosted tier is priced by capacity, because GPUs are rented by the hour whether busy
or not: instances = ceil(peak-hour GPU load / GPUs per instance), at least one running all
month, plus a fixed operations cost. The GPU load per call comes from the tier's derivation
(its operating point, so the capacity is capacity at that point's latency). Its marginal $/M
(the table price) is only reached at 100% utilisation; the rest of the GPU bill is idle
capacity, reported as ``idle_usd``.

Traffic shape: a peak-to-average factor, or a 24-hour profile (peak factor = max/mean). With
a profile and ``autoscale`` the fleet follows the hours (each hour pays for the instances it
needs, at least one); otherwise the peak fleet runs all month. Purchase options (on-demand,
reserved, spot) are in ``purchase``; each self-hosted tier is also priced under all three.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tierwise.cost_tables.catalog import load_catalog
from tierwise.cost_tables.errors import InvalidInputError, UnknownIdError
from tierwise.cost_tables.expected_cost import expected_api_cost
from tierwise.cost_tables.purchase import (
    DEFAULT_PURCHASE,
    PURCHASE_OPTIONS,
    PurchaseOption,
    can_autoscale,
    capacity_factor,
    check_purchase,
    usd_per_gpu_hour,
)
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
MAX_PEAK_TO_AVERAGE = 100.0
HOURS_PER_DAY = 24
# Autoscaling re-checks this many times per break-even search before giving up ("never").
MAX_BREAK_EVEN_STEPS = 100_000
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
    # Traffic shape: at most one of the two; neither means DEFAULT_PEAK_TO_AVERAGE.
    peak_to_average: float | None = None
    hourly_profile: tuple[float, ...] | None = None  # 24 relative loads, hour 0..23
    autoscale: bool = False  # needs hourly_profile; the fleet follows the hours
    purchase: PurchaseOption = DEFAULT_PURCHASE

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
        self._check_shape()
        object.__setattr__(self, "purchase", check_purchase(self.purchase))
        if self.autoscale and not can_autoscale(self.purchase):
            raise InvalidInputError(
                "autoscale",
                "reserved GPUs are committed for every hour of the month and cannot autoscale; "
                "use on-demand or spot, or turn autoscale off",
            )
        if self.routed_mix is not None:
            if not self.routed_mix:
                raise InvalidInputError("routed_mix", "must name at least one tier")
            for tier_id, share in self.routed_mix.items():
                _check_fraction(f"routed_mix.{tier_id}", share)
            total = sum(self.routed_mix.values())
            if abs(total - 1.0) > MIX_TOLERANCE:
                raise InvalidInputError("routed_mix", f"shares must sum to 1 (got {total:.6g})")
            object.__setattr__(self, "routed_mix", MappingProxyType(dict(self.routed_mix)))

    def _check_shape(self) -> None:
        peak, profile = self.peak_to_average, self.hourly_profile
        if peak is not None and profile is not None:
            raise InvalidInputError(
                "hourly_profile",
                "give peak_to_average or hourly_profile, not both (a profile sets the peak "
                "factor to its max/mean)",
            )
        if peak is not None and (
            isinstance(peak, bool)
            or not isinstance(peak, int | float)
            or not 1 <= peak <= MAX_PEAK_TO_AVERAGE
        ):
            raise InvalidInputError(
                "peak_to_average", f"must be in [1, {MAX_PEAK_TO_AVERAGE:g}] (got {peak!r})"
            )
        if profile is not None:
            if not isinstance(profile, tuple | list) or len(profile) != HOURS_PER_DAY:
                got = len(profile) if isinstance(profile, tuple | list) else repr(profile)
                raise InvalidInputError(
                    "hourly_profile", f"must have {HOURS_PER_DAY} hourly loads (got {got})"
                )
            for hour, load in enumerate(profile):
                if (
                    isinstance(load, bool)
                    or not isinstance(load, int | float)
                    or not math.isfinite(load)
                    or load < 0
                ):
                    raise InvalidInputError(
                        f"hourly_profile[{hour}]", f"must be a load >= 0 (got {load!r})"
                    )
            if not any(profile):
                raise InvalidInputError("hourly_profile", "must not be all zero")
            object.__setattr__(self, "hourly_profile", tuple(float(x) for x in profile))
            if max(profile) / (sum(profile) / HOURS_PER_DAY) > MAX_PEAK_TO_AVERAGE:
                raise InvalidInputError(
                    "hourly_profile", f"peak/mean must be <= {MAX_PEAK_TO_AVERAGE:g}"
                )
        if not isinstance(self.autoscale, bool):
            raise InvalidInputError("autoscale", f"must be true or false (got {self.autoscale!r})")
        if self.autoscale and profile is None:
            raise InvalidInputError(
                "autoscale", "needs hourly_profile: a peak factor alone does not say which hours"
            )

    @property
    def hourly_loads(self) -> tuple[float, ...] | None:
        """Each hour's load relative to the mean hour (mean 1), or None without a profile."""
        if self.hourly_profile is None:
            return None
        mean = sum(self.hourly_profile) / HOURS_PER_DAY
        return tuple(x / mean for x in self.hourly_profile)

    @property
    def peak_factor(self) -> float:
        """Busiest hour's load / mean hour's load."""
        loads = self.hourly_loads
        if loads is not None:
            return max(loads)
        return DEFAULT_PEAK_TO_AVERAGE if self.peak_to_average is None else self.peak_to_average


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
    # Self-hosted only: the part of the GPU bill paid for idle capacity, gpu × (1 − util).
    idle_usd: float | None = None
    # Self-hosted only: instances running on average (< instances when autoscaling).
    mean_instances: float | None = None
    purchase: PurchaseOption | None = None  # self-hosted only: how the GPUs are bought


@dataclass(frozen=True)
class PurchaseComparison:
    """One self-hosted tier under one purchase option, for side-by-side comparison."""

    tier_id: str
    purchase: PurchaseOption
    usd_per_gpu_hour: float
    monthly_usd: float
    instances: int  # at the peak hour
    mean_instances: float
    utilisation: float
    idle_usd: float
    autoscaled: bool  # reserved never is


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
    purchase: PurchaseOption = DEFAULT_PURCHASE  # the option self-hosted tiers are priced at
    peak_factor: float = DEFAULT_PEAK_TO_AVERAGE  # busiest hour / mean hour
    # Every self-hosted tier under every purchase option its GPU has a price for.
    purchase_options: tuple[PurchaseComparison, ...] = field(default_factory=tuple)

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


@dataclass(frozen=True)
class _Fleet:
    """The instances a self-hosted tier runs over a month, and the load they carry."""

    gpus_per_instance: int
    usd_per_gpu_hour: float
    peak_instances: int
    instance_hours: float  # paid for per month
    mean_load_gpus: float  # busy GPUs, averaged over the month
    autoscaled: bool

    @property
    def gpu_usd(self) -> float:
        return self.instance_hours * self.gpus_per_instance * self.usd_per_gpu_hour

    @property
    def mean_instances(self) -> float:
        return self.instance_hours / HOURS_PER_MONTH

    @property
    def utilisation(self) -> float:
        return self.mean_load_gpus / (self.mean_instances * self.gpus_per_instance)

    @property
    def idle_usd(self) -> float:
        return self.gpu_usd * (1.0 - self.utilisation)


def _whole_instances(gpus_needed: float, gpus_per_instance: int) -> int:
    return max(1, math.ceil(gpus_needed / gpus_per_instance - 1e-12))


def _option_price(tier: TierPricing, option: PurchaseOption) -> float | None:
    est = tier.derivation
    assert est is not None  # only called for self-hosted tiers
    return usd_per_gpu_hour(est.gpu_id, est.usd_per_gpu_hour, option)


def _fleet(tier: TierPricing, w: Workload, calls: float, option: PurchaseOption) -> _Fleet:
    est = tier.derivation
    assert est is not None
    price = _option_price(tier, option)
    if price is None:
        raise UnknownIdError("gpu", est.gpu_id, sorted(_known_gpus()))
    per_call = _gpu_seconds_per_call(tier, w).total
    mean_load = calls * per_call / (HOURS_PER_MONTH * SECONDS_PER_HOUR)
    interactive = mean_load * (1.0 - w.batch_share)
    batch = mean_load * w.batch_share
    headroom = capacity_factor(option)
    loads = w.hourly_loads
    if w.autoscale and can_autoscale(option) and loads is not None:
        # Each hour of the day recurs HOURS_PER_MONTH / 24 times a month. Batch work is spread
        # evenly: an autoscaled fleet has no troughs worth filling.
        counts = [_whole_instances((interactive * f + batch) * headroom, est.gpus) for f in loads]
        return _Fleet(
            gpus_per_instance=est.gpus,
            usd_per_gpu_hour=price,
            peak_instances=max(counts),
            instance_hours=sum(counts) * HOURS_PER_MONTH / HOURS_PER_DAY,
            mean_load_gpus=mean_load,
            autoscaled=True,
        )
    # A fixed fleet serves interactive calls at their peak; batch calls wait for the troughs,
    # but the month's total work must still fit.
    peak = _whole_instances(max(interactive * w.peak_factor, mean_load) * headroom, est.gpus)
    return _Fleet(
        gpus_per_instance=est.gpus,
        usd_per_gpu_hour=price,
        peak_instances=peak,
        instance_hours=peak * HOURS_PER_MONTH,
        mean_load_gpus=mean_load,
        autoscaled=False,
    )


def _known_gpus() -> tuple[str, ...]:
    return tuple(load_catalog().gpus)


def _self_hosted_cost(
    tier: TierPricing, w: Workload, calls: float, option: PurchaseOption | None = None
) -> TierMonthlyCost:
    option = w.purchase if option is None else option
    fleet = _fleet(tier, w, calls, option)
    gpu_usd = fleet.gpu_usd
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
        instances=fleet.peak_instances,
        utilisation=fleet.utilisation,
        fixed_usd=fixed,
        idle_usd=fleet.idle_usd,
        mean_instances=fleet.mean_instances,
        purchase=option,
    )


def _purchase_options(tier: TierPricing, w: Workload) -> tuple[PurchaseComparison, ...]:
    rows = []
    for option in PURCHASE_OPTIONS:
        if _option_price(tier, option) is None:
            continue  # a GPU outside the catalog has only its on-demand price
        fleet = _fleet(tier, w, w.calls_per_month, option)
        rows.append(
            PurchaseComparison(
                tier_id=tier.tier_id,
                purchase=option,
                usd_per_gpu_hour=fleet.usd_per_gpu_hour,
                monthly_usd=fleet.gpu_usd + w.self_hosted_fixed_usd_per_month,
                instances=fleet.peak_instances,
                mean_instances=fleet.mean_instances,
                utilisation=fleet.utilisation,
                idle_usd=fleet.idle_usd,
                autoscaled=fleet.autoscaled,
            )
        )
    return tuple(rows)


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
        idle_usd=sum(p.idle_usd or 0.0 for p in self_hosted) if self_hosted else None,
        mean_instances=(sum(p.mean_instances or 0.0 for p in self_hosted) if self_hosted else None),
        purchase=w.purchase if self_hosted else None,
    )


def break_even(api: TierPricing, self_hosted: TierPricing, w: Workload) -> BreakEven:
    """Smallest calls/month at which ``self_hosted`` (under ``w.purchase`` and ``w``'s traffic
    shape) costs less than ``api``."""
    a = _api_per_call(api, w).total
    never = BreakEven(api.tier_id, self_hosted.tier_id, None, None)
    if a <= 0:
        return never
    if w.autoscale:  # validation guarantees a profile and an option that can autoscale
        return _break_even_autoscaled(api, self_hosted, w, a)
    return _break_even_fixed_fleet(api, self_hosted, w, a)


def _break_even_fixed_fleet(
    api: TierPricing, self_hosted: TierPricing, w: Workload, a: float
) -> BreakEven:
    """API cost is linear, a·c; a fixed fleet costs k(c)·I + F with k(c) = max(1, ceil(c·g)).

    On step k (c in ((k-1)/g, k/g]) it is constant, so the first crossing on that step is
    max((kI+F)/a, (k-1)/g) if that is <= k/g; the first such k is found in closed form,
    k·(a/g − I) >= F, then confirmed against the cost functions.
    """
    fixed = w.self_hosted_fixed_usd_per_month
    probe_calls = 1e6
    probe = _fleet(self_hosted, w, probe_calls, w.purchase)
    gpus = probe.gpus_per_instance
    usd_instance = gpus * probe.usd_per_gpu_hour * HOURS_PER_MONTH
    per_call_gpus = probe.mean_load_gpus / probe_calls  # mean GPUs per (call/month)
    peak_gpus = max(per_call_gpus * (1 - w.batch_share) * w.peak_factor, per_call_gpus)
    g = peak_gpus * capacity_factor(w.purchase) / gpus
    never = BreakEven(api.tier_id, self_hosted.tier_id, None, None)
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
        calls = _just_past(crossing)
        if calls > MAX_CALLS_PER_MONTH:
            return never
        sh = _self_hosted_cost(self_hosted, w, calls).monthly_usd
        if sh < a * calls:
            return BreakEven(api.tier_id, self_hosted.tier_id, calls, a * calls)
        k += 1
    return never


def _just_past(calls: float) -> float:
    """Strictly cheaper just past a crossing: nudge by a relative epsilon."""
    return math.nextafter(calls, math.inf) * (1 + 1e-12)


def _break_even_autoscaled(
    api: TierPricing, self_hosted: TierPricing, w: Workload, a: float
) -> BreakEven:
    """An autoscaled fleet's cost S(c) is a nondecreasing sum of 24 step functions.

    Iterate c ← S(c)/a from c = F/a: every volume below the current c costs more on the
    fleet than on the API (S(c') >= S(c_prev) = a·c > a·c'), so the first c where the fleet
    is cheaper is the break-even. Each step passes at least one instance step, and the slope
    of S (its cost at 100% of the hours' needs) says up front when it never crosses.
    """
    never = BreakEven(api.tier_id, self_hosted.tier_id, None, None)
    probe_calls = 1e6
    probe = _fleet(self_hosted, w, probe_calls, w.purchase)
    usd_per_gpu_month = probe.usd_per_gpu_hour * HOURS_PER_MONTH
    slope = probe.mean_load_gpus / probe_calls * capacity_factor(w.purchase) * usd_per_gpu_month
    if slope >= a:
        return never
    calls = max(w.self_hosted_fixed_usd_per_month / a, 1.0)
    for _ in range(MAX_BREAK_EVEN_STEPS):
        candidate = _just_past(calls)
        if candidate > MAX_CALLS_PER_MONTH:
            return never
        sh = _self_hosted_cost(self_hosted, w, candidate).monthly_usd
        if sh < a * candidate:
            return BreakEven(api.tier_id, self_hosted.tier_id, candidate, a * candidate)
        calls = max(sh / a, candidate)
    return never


def quote_workload(table: TierTable, workload: Workload) -> WorkloadQuote:
    calls = workload.calls_per_month
    tiers = tuple(tier_monthly_cost(t, workload, calls) for t in table.tiers)
    routed = _routed(table, workload)
    hosted = [t for t in table.tiers if t.kind == "self-hosted"]
    apis = [t for t in table.tiers if t.kind == "api"]
    evens = tuple(break_even(api, sh, workload) for sh in hosted for api in apis)
    return WorkloadQuote(
        table_version=table.version,
        tiers=tiers,
        routed=routed,
        break_even=evens,
        purchase=workload.purchase,
        peak_factor=workload.peak_factor,
        purchase_options=tuple(row for sh in hosted for row in _purchase_options(sh, workload)),
    )


__all__ = [
    "DEFAULT_PEAK_TO_AVERAGE",
    "DEFAULT_SELF_HOSTED_OPS_USD_PER_MONTH",
    "HOURS_PER_DAY",
    "HOURS_PER_MONTH",
    "MAX_PEAK_TO_AVERAGE",
    "BreakEven",
    "PurchaseComparison",
    "TierMonthlyCost",
    "TokenDistribution",
    "Workload",
    "WorkloadQuote",
    "quote_workload",
]
