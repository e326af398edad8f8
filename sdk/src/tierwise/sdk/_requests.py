"""Build request messages from plain Python arguments (one place, shared by both clients)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tierwise.sdk._purchase import PURCHASE_TO_WIRE
from tierwise.sdk.errors import InvalidArgumentError
from tierwise.sdk.results import Purchase
from tierwise.v1 import admin_pb2, pricing_pb2, router_pb2


@dataclass(frozen=True)
class RouteOptions:
    """Per-call routing options."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    quality_target: float | None = None
    allowed_tiers: Sequence[str] = ()
    max_cost_usd: float | None = None
    cache_read_tokens: int = 0
    batch: bool = False
    caller: str = ""
    feature: str = ""
    # "classifier", "cascade" or "hybrid"; empty: the server policy's default.
    strategy: str = ""
    # Latency SLOs; None: the policy's default for the caller/feature (or no limit).
    max_ttft_ms: float | None = None
    max_latency_ms: float | None = None
    min_output_tokens_per_s: float | None = None


Query = str | Sequence[Mapping[str, str]]
"""A query text, or chat messages as [{"role": "user", "content": "..."}, ...]."""


def route(query: Query, options: RouteOptions) -> router_pb2.RouteRequest:
    try:
        request = router_pb2.RouteRequest(
            allowed_tiers=list(options.allowed_tiers),
            cache_read_tokens=options.cache_read_tokens,
            batch=options.batch,
            caller=options.caller,
            feature=options.feature,
        )
        if isinstance(query, str):
            request.query = query
        else:
            request.chat.SetInParent()
            for index, message in enumerate(query):
                if "content" not in message:
                    raise InvalidArgumentError(f"messages[{index}]: missing 'content'")
                request.chat.messages.add(
                    role=message.get("role", "user"), content=message["content"]
                )
        if options.strategy:
            request.strategy = _STRATEGIES[options.strategy]
        if options.input_tokens is not None:
            request.input_tokens = options.input_tokens
        if options.output_tokens is not None:
            request.output_tokens = options.output_tokens
        if options.quality_target is not None:
            request.quality_target = options.quality_target
        if options.max_cost_usd is not None:
            request.max_cost_usd = options.max_cost_usd
        if options.max_ttft_ms is not None:
            request.max_ttft_ms = options.max_ttft_ms
        if options.max_latency_ms is not None:
            request.max_latency_ms = options.max_latency_ms
        if options.min_output_tokens_per_s is not None:
            request.min_output_tokens_per_s = options.min_output_tokens_per_s
    except KeyError as error:
        raise InvalidArgumentError(
            f"strategy: must be one of {', '.join(_STRATEGIES)} (got {options.strategy!r})"
        ) from error
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"route request: {error}") from error
    return request


_STRATEGIES = {
    "classifier": router_pb2.ROUTING_STRATEGY_CLASSIFIER,
    "cascade": router_pb2.ROUTING_STRATEGY_CASCADE,
    "hybrid": router_pb2.ROUTING_STRATEGY_HYBRID,
}


# Requests per RouteBatch call: keeps each message far below the size limit.
ROUTE_BATCH_CHUNK = 128


def route_batches(
    queries: Iterable[Query], options: RouteOptions
) -> list[router_pb2.RouteBatchRequest]:
    requests = [route(q, options) for q in queries]
    return [
        router_pb2.RouteBatchRequest(requests=requests[start : start + ROUTE_BATCH_CHUNK])
        for start in range(0, len(requests), ROUTE_BATCH_CHUNK)
    ]


def quote(
    tier: str | None,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_5m_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    batch: bool = False,
) -> pricing_pb2.QuoteRequest:
    try:
        usage = pricing_pb2.TokenUsage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_5m_tokens=cache_write_5m_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            batch=batch,
        )
        return pricing_pb2.QuoteRequest(tier=tier or "", usage=usage)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"quote request: {error}") from error


TokenSpec = float | Mapping[int, float]
"""A mean token count, or a histogram {tokens: weight}."""


def _distribution(name: str, spec: TokenSpec) -> pricing_pb2.TokenDistribution:
    if isinstance(spec, Mapping):
        buckets = [pricing_pb2.TokenBucket(tokens=t, weight=w) for t, w in spec.items()]
        return pricing_pb2.TokenDistribution(histogram=pricing_pb2.TokenHistogram(buckets=buckets))
    if isinstance(spec, bool) or not isinstance(spec, int | float):
        raise InvalidArgumentError(f"{name}: expected a number or a {{tokens: weight}} mapping")
    return pricing_pb2.TokenDistribution(mean=float(spec))


def workload(
    *,
    calls_per_month: float,
    input_tokens: TokenSpec,
    output_tokens: TokenSpec,
    cache_hit_rate: float = 0.0,
    batch_share: float = 0.0,
    routed_mix: Mapping[str, float] | None = None,
    self_hosted_fixed_usd_per_month: float | None = None,
    cascade: Sequence[tuple[str, float]] | None = None,
    cascade_start_mix: Mapping[str, float] | None = None,
    peak_to_average: float | None = None,
    hourly_profile: Sequence[float] | None = None,
    autoscale: bool = False,
    purchase: Purchase = "on-demand",
) -> pricing_pb2.QuoteWorkloadRequest:
    if purchase not in PURCHASE_TO_WIRE:
        raise InvalidArgumentError(
            f"purchase: must be one of {', '.join(PURCHASE_TO_WIRE)} (got {purchase!r})"
        )
    try:
        message = pricing_pb2.Workload(
            calls_per_month=calls_per_month,
            input_tokens=_distribution("input_tokens", input_tokens),
            output_tokens=_distribution("output_tokens", output_tokens),
            cache_hit_rate=cache_hit_rate,
            batch_share=batch_share,
            routed_mix=dict(routed_mix or {}),
        )
        if self_hosted_fixed_usd_per_month is not None:
            message.self_hosted_fixed_usd_per_month = self_hosted_fixed_usd_per_month
        if peak_to_average is not None:
            message.peak_to_average = peak_to_average
        message.hourly_profile.extend(hourly_profile or ())
        message.autoscale = autoscale
        message.purchase = PURCHASE_TO_WIRE[purchase]
        if cascade is not None:
            # (tier, escalation rate) in the order tried; start mix: hybrid's starting tiers.
            message.cascade.SetInParent()
            for tier, rate in cascade:
                message.cascade.steps.add(tier=tier, escalation_rate=rate)
            message.cascade.start_mix.update(dict(cascade_start_mix or {}))
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"workload: {error}") from error
    return pricing_pb2.QuoteWorkloadRequest(workload=message)


def reload_policy(policy_toml: str) -> admin_pb2.ReloadPolicyRequest:
    return admin_pb2.ReloadPolicyRequest(policy_toml=policy_toml)


def reload_latency(latency_toml: str) -> admin_pb2.ReloadLatencyRequest:
    return admin_pb2.ReloadLatencyRequest(latency_toml=latency_toml)
