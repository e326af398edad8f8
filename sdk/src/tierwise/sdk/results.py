"""Typed, immutable results: what callers get back instead of protobuf messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# How self-hosted GPUs are bought.
Purchase = Literal["on-demand", "reserved", "spot"]


@dataclass(frozen=True)
class TierEstimate:
    """What the router expects of one tier for a query."""

    tier: str
    model: str
    p_success: float
    predicted_output_tokens: int
    quoted_usd: float
    allowed: bool
    meets_target: bool
    within_budget: bool
    # Predicted medians for this query's output length (0 when latency_source is "unknown…").
    ttft_ms: float = 0.0
    output_tokens_per_s: float = 0.0
    latency_ms: float = 0.0
    # Where the latency source gives a 90th percentile; None otherwise.
    ttft_ms_p90: float | None = None
    latency_ms_p90: float | None = None
    meets_latency: bool = True
    latency_source: str = ""


@dataclass(frozen=True)
class LatencyConstraints:
    """The SLOs a decision was made under (the request's, or the policy's defaults for its
    caller/feature); None means no limit."""

    max_ttft_ms: float | None = None
    max_latency_ms: float | None = None
    min_output_tokens_per_s: float | None = None


@dataclass(frozen=True)
class PlanStep:
    """One tier of a cascade plan: accept its answer when the score is at least the threshold
    (the last step accepts any answer)."""

    tier: str
    model: str
    accept_threshold: float
    p_reached: float
    quoted_usd: float
    latency_ms: float


@dataclass(frozen=True)
class Plan:
    """Tiers to try in order, with the plan's expected cost (failed attempts included),
    quality and latency."""

    strategy: str
    steps: tuple[PlanStep, ...]
    expected_cost_usd: float
    expected_quality: float
    expected_latency_ms: float


@dataclass(frozen=True)
class Decision:
    """A routing decision. `fail_open` is True when the service was unreachable and the
    caller's fail-open tier was used: such a decision carries no estimates."""

    tier: str
    model: str
    difficulty: float | None
    estimates: tuple[TierEstimate, ...]
    reason_code: str
    reason: str
    escalated: bool
    out_of_distribution: bool
    truncated: bool
    input_tokens: int
    quality_target: float | None
    router_version: str
    table_version: str
    policy_version: str
    encoder: str
    fail_open: bool = False
    # Quote it when reporting the outcome; empty for fail-open decisions.
    decision_id: str = ""
    strategy: str = "classifier"
    # Cascade and hybrid strategies only.
    plan: Plan | None = None
    latency_constraints: LatencyConstraints = LatencyConstraints()

    def estimate(self, tier: str) -> TierEstimate:
        """The estimate for one tier id (KeyError if the decision has none for it)."""
        for item in self.estimates:
            if item.tier == tier:
                return item
        raise KeyError(tier)


@dataclass(frozen=True)
class RequestQuote:
    """Cost breakdown of one request on one tier, in USD."""

    tier: str
    model: str
    input_usd: float
    cache_write_usd: float
    cache_read_usd: float
    output_usd: float
    subtotal_usd: float
    batch_discount_usd: float
    total_usd: float
    energy_wh: float | None
    long_context_pricing: bool
    notes: tuple[str, ...]


@dataclass(frozen=True)
class QuoteResult:
    """Quotes for one request on the requested tiers."""

    quotes: tuple[RequestQuote, ...]
    table_version: str

    def for_tier(self, tier: str) -> RequestQuote:
        """The quote for one tier id (KeyError if it was not quoted)."""
        for quote in self.quotes:
            if quote.tier == tier:
                return quote
        raise KeyError(tier)


@dataclass(frozen=True)
class MonthlyCost:
    """A workload's monthly cost on one tier, or on the routed mix (tier "routed")."""

    tier: str
    model: str
    monthly_usd: float
    usd_per_call: float
    input_usd: float
    output_usd: float
    cache_usd: float
    batch_discount_usd: float
    instances: int | None
    utilisation: float | None
    fixed_usd: float | None
    # Cascade/hybrid mix only: the part paid for rejected attempts, tier calls per call and
    # the share of calls reaching each tier.
    failed_attempts_usd: float | None = None
    attempts_per_call: float | None = None
    reached_share: Mapping[str, float] = field(default_factory=dict)
    # Self-hosted only: GPU bill paid for idle capacity, mean instances running, and how the
    # GPUs are bought.
    idle_usd: float | None = None
    mean_instances: float | None = None
    purchase: Purchase | None = None


@dataclass(frozen=True)
class PurchaseComparison:
    """One self-hosted tier under one purchase option (instances at the peak hour)."""

    tier: str
    purchase: Purchase
    usd_per_gpu_hour: float
    monthly_usd: float
    instances: int
    mean_instances: float
    utilisation: float
    idle_usd: float
    autoscaled: bool


@dataclass(frozen=True)
class BreakEven:
    """Calls per month from which the self-hosted tier is cheaper than an API tier."""

    api_tier: str
    self_hosted_tier: str
    calls_per_month: float | None
    monthly_usd_at_break_even: float | None


@dataclass(frozen=True)
class WorkloadQuote:
    """Monthly costs of a workload."""

    tiers: tuple[MonthlyCost, ...]
    routed: MonthlyCost | None
    break_even: tuple[BreakEven, ...]
    table_version: str
    cascade: MonthlyCost | None = None
    purchase: Purchase = "on-demand"  # how the self-hosted tiers in ``tiers`` are bought
    peak_factor: float = 0.0  # busiest hour / mean hour used for sizing
    purchase_options: tuple[PurchaseComparison, ...] = ()

    def purchase_option(self, tier: str, purchase: Purchase) -> PurchaseComparison:
        for row in self.purchase_options:
            if row.tier == tier and row.purchase == purchase:
                return row
        raise KeyError((tier, purchase))


@dataclass(frozen=True)
class Provenance:
    """Where a price comes from."""

    source: str
    as_of: str
    note: str


@dataclass(frozen=True)
class LongContextRule:
    """A whole request above the threshold is billed at these prices."""

    threshold_input_tokens: int
    usd_per_mtok_input: float
    usd_per_mtok_output: float


@dataclass(frozen=True)
class HardwareDerivation:
    """How a self-hosted tier's prices were derived from hardware."""

    model: str
    gpu: str
    gpus: int
    precision: str
    batch: int
    usd_per_gpu_hour: float
    output_tokens_per_s_per_gpu: float
    input_tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float
    wh_per_query: float
    explanation: tuple[str, ...]
    # The operating point: TTFT with chunked prefill and queueing at ``target_load``, the SLO
    # the batch was chosen for (None: no limit) and what bound the batch.
    ttft_ms: float = 0.0
    ttft_ms_p90: float = 0.0
    slo_min_tokens_per_s_per_user: float | None = None
    slo_max_ttft_ms: float | None = None
    target_load: float = 0.0
    binding: str = ""
    max_batch: int = 0


@dataclass(frozen=True)
class Tier:
    """One entry of the active tier table."""

    id: str
    model: str
    display_name: str
    kind: str
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    cache_write_5m_multiplier: float
    cache_write_1h_multiplier: float
    cache_read_multiplier: float
    batch_discount: float
    long_context: LongContextRule | None
    min_cacheable_tokens: int
    provenance: Provenance
    derivation: HardwareDerivation | None


@dataclass(frozen=True)
class TierTable:
    """The active tier table."""

    tiers: tuple[Tier, ...]
    table_version: str


@dataclass(frozen=True)
class LatencyInfo:
    """The latency figures a server now routes with, after a reload."""

    latency_version: str
    previous_latency_version: str


@dataclass(frozen=True)
class PolicyInfo:
    """The active routing policy."""

    policy_version: str
    policy_toml: str
    previous_policy_version: str = ""
