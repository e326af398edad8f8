"""Protobuf messages → the SDK's frozen results (one place, shared by both clients)."""

from __future__ import annotations

from tierwise.sdk import results
from tierwise.sdk._purchase import PURCHASE_FROM_WIRE
from tierwise.sdk.errors import FAIL_OPEN_CODES, TierwiseError
from tierwise.v1 import admin_pb2, pricing_pb2, router_pb2


def decision(message: router_pb2.RouteResponse) -> results.Decision:
    return results.Decision(
        tier=message.tier,
        model=message.model,
        difficulty=message.difficulty,
        estimates=tuple(
            results.TierEstimate(
                tier=e.tier,
                model=e.model,
                p_success=e.p_success,
                predicted_output_tokens=e.predicted_output_tokens,
                quoted_usd=e.quoted_usd,
                allowed=e.allowed,
                meets_target=e.meets_target,
                within_budget=e.within_budget,
                ttft_ms=e.ttft_ms,
                output_tokens_per_s=e.output_tokens_per_s,
                latency_ms=e.latency_ms,
                ttft_ms_p90=e.ttft_ms_p90 if e.HasField("ttft_ms_p90") else None,
                latency_ms_p90=e.latency_ms_p90 if e.HasField("latency_ms_p90") else None,
                meets_latency=e.meets_latency,
                latency_source=e.latency_source,
            )
            for e in message.estimates
        ),
        reason_code=router_pb2.ReasonCode.Name(message.reason_code).removeprefix("REASON_CODE_"),
        reason=message.reason,
        escalated=message.escalated,
        out_of_distribution=message.out_of_distribution,
        truncated=message.truncated,
        input_tokens=message.input_tokens,
        quality_target=message.quality_target,
        router_version=message.router_version,
        table_version=message.table_version,
        policy_version=message.policy_version,
        encoder=message.encoder,
        decision_id=message.decision_id,
        strategy=_strategy_name(message.strategy),
        plan=plan(message.plan) if message.HasField("plan") else None,
        latency_constraints=latency_constraints(message.latency_constraints),
    )


def latency_constraints(message: router_pb2.LatencyConstraints) -> results.LatencyConstraints:
    m = message
    return results.LatencyConstraints(
        max_ttft_ms=m.max_ttft_ms if m.HasField("max_ttft_ms") else None,
        max_latency_ms=m.max_latency_ms if m.HasField("max_latency_ms") else None,
        min_output_tokens_per_s=(
            m.min_output_tokens_per_s if m.HasField("min_output_tokens_per_s") else None
        ),
    )


def latency_info(message: admin_pb2.ReloadLatencyResponse) -> results.LatencyInfo:
    return results.LatencyInfo(
        latency_version=message.latency_version,
        previous_latency_version=message.previous_latency_version,
    )


def _strategy_name(value: int) -> str:
    if value == router_pb2.ROUTING_STRATEGY_UNSPECIFIED:
        return "classifier"
    return router_pb2.RoutingStrategy.Name(value).removeprefix("ROUTING_STRATEGY_").lower()


def plan(message: router_pb2.RoutePlan) -> results.Plan:
    return results.Plan(
        strategy=_strategy_name(message.strategy),
        steps=tuple(
            results.PlanStep(
                tier=s.tier,
                model=s.model,
                accept_threshold=s.accept_threshold,
                p_reached=s.p_reached,
                quoted_usd=s.quoted_usd,
                latency_ms=s.latency_ms,
            )
            for s in message.steps
        ),
        expected_cost_usd=message.expected_cost_usd,
        expected_quality=message.expected_quality,
        expected_latency_ms=message.expected_latency_ms,
    )


def fail_open_decision(tier: str, why: str) -> results.Decision:
    """The decision a caller gets when the service could not answer: flagged, no estimates."""
    return results.Decision(
        tier=tier,
        model="",
        difficulty=None,
        estimates=(),
        reason_code="FAIL_OPEN",
        reason=f"fail-open: Tierwise was unreachable ({why}); using the caller's tier {tier!r}",
        escalated=False,
        out_of_distribution=False,
        truncated=False,
        input_tokens=0,
        quality_target=None,
        router_version="",
        table_version="",
        policy_version="",
        encoder="",
        fail_open=True,
    )


def fail_open_or_raise(error: TierwiseError, fallback: str | None) -> results.Decision:
    """The fail-open decision when the service could not decide and the caller named a tier;
    otherwise the error itself."""
    if fallback is not None and error.code in FAIL_OPEN_CODES:
        return fail_open_decision(fallback, error.message)
    raise error


def request_quote(message: pricing_pb2.RequestQuote) -> results.RequestQuote:
    return results.RequestQuote(
        tier=message.tier,
        model=message.model,
        input_usd=message.input_usd,
        cache_write_usd=message.cache_write_usd,
        cache_read_usd=message.cache_read_usd,
        output_usd=message.output_usd,
        subtotal_usd=message.subtotal_usd,
        batch_discount_usd=message.batch_discount_usd,
        total_usd=message.total_usd,
        energy_wh=message.energy_wh if message.HasField("energy_wh") else None,
        long_context_pricing=message.long_context_pricing,
        notes=tuple(message.notes),
    )


def quote_result(message: pricing_pb2.QuoteResponse) -> results.QuoteResult:
    return results.QuoteResult(
        quotes=tuple(request_quote(q) for q in message.quotes),
        table_version=message.table_version,
    )


def monthly_cost(message: pricing_pb2.MonthlyCost) -> results.MonthlyCost:
    return results.MonthlyCost(
        tier=message.tier,
        model=message.model,
        monthly_usd=message.monthly_usd,
        usd_per_call=message.usd_per_call,
        input_usd=message.input_usd,
        output_usd=message.output_usd,
        cache_usd=message.cache_usd,
        batch_discount_usd=message.batch_discount_usd,
        instances=message.instances if message.HasField("instances") else None,
        utilisation=message.utilisation if message.HasField("utilisation") else None,
        fixed_usd=message.fixed_usd if message.HasField("fixed_usd") else None,
        failed_attempts_usd=(
            message.failed_attempts_usd if message.HasField("failed_attempts_usd") else None
        ),
        attempts_per_call=(
            message.attempts_per_call if message.HasField("attempts_per_call") else None
        ),
        reached_share=dict(message.reached_share),
        idle_usd=message.idle_usd if message.HasField("idle_usd") else None,
        mean_instances=message.mean_instances if message.HasField("mean_instances") else None,
        purchase=PURCHASE_FROM_WIRE.get(message.purchase),
    )


def workload_quote(message: pricing_pb2.QuoteWorkloadResponse) -> results.WorkloadQuote:
    return results.WorkloadQuote(
        tiers=tuple(monthly_cost(m) for m in message.tiers),
        routed=monthly_cost(message.routed) if message.HasField("routed") else None,
        cascade=monthly_cost(message.cascade) if message.HasField("cascade") else None,
        break_even=tuple(
            results.BreakEven(
                api_tier=b.api_tier,
                self_hosted_tier=b.self_hosted_tier,
                calls_per_month=b.calls_per_month if b.HasField("calls_per_month") else None,
                monthly_usd_at_break_even=(
                    b.monthly_usd_at_break_even if b.HasField("monthly_usd_at_break_even") else None
                ),
            )
            for b in message.break_even
        ),
        table_version=message.table_version,
        purchase=PURCHASE_FROM_WIRE.get(message.purchase, "on-demand"),
        peak_factor=message.peak_factor,
        purchase_options=tuple(
            results.PurchaseComparison(
                tier=o.tier,
                purchase=PURCHASE_FROM_WIRE[o.purchase],
                usd_per_gpu_hour=o.usd_per_gpu_hour,
                monthly_usd=o.monthly_usd,
                instances=o.instances,
                mean_instances=o.mean_instances,
                utilisation=o.utilisation,
                idle_usd=o.idle_usd,
                autoscaled=o.autoscaled,
            )
            for o in message.purchase_options
            if o.purchase in PURCHASE_FROM_WIRE
        ),
    )


def _derivation(message: pricing_pb2.HardwareDerivation) -> results.HardwareDerivation:
    return results.HardwareDerivation(
        model=message.model,
        gpu=message.gpu,
        gpus=message.gpus,
        precision=message.precision,
        batch=message.batch,
        usd_per_gpu_hour=message.usd_per_gpu_hour,
        output_tokens_per_s_per_gpu=message.output_tokens_per_s_per_gpu,
        input_tokens_per_s_per_gpu=message.input_tokens_per_s_per_gpu,
        tokens_per_s_per_user=message.tokens_per_s_per_user,
        wh_per_query=message.wh_per_query,
        explanation=tuple(message.explanation),
        ttft_ms=message.ttft_ms,
        ttft_ms_p90=message.ttft_ms_p90,
        slo_min_tokens_per_s_per_user=(
            message.slo_min_tokens_per_s_per_user
            if message.HasField("slo_min_tokens_per_s_per_user")
            else None
        ),
        slo_max_ttft_ms=message.slo_max_ttft_ms if message.HasField("slo_max_ttft_ms") else None,
        target_load=message.target_load,
        binding=message.binding,
        max_batch=message.max_batch,
    )


def tier_table(message: pricing_pb2.ListTiersResponse) -> results.TierTable:
    tiers = []
    for t in message.tiers:
        long_context = None
        if t.HasField("long_context"):
            long_context = results.LongContextRule(
                threshold_input_tokens=t.long_context.threshold_input_tokens,
                usd_per_mtok_input=t.long_context.usd_per_mtok_input,
                usd_per_mtok_output=t.long_context.usd_per_mtok_output,
            )
        tiers.append(
            results.Tier(
                id=t.id,
                model=t.model,
                display_name=t.display_name,
                kind=pricing_pb2.TierKind.Name(t.kind).removeprefix("TIER_KIND_").lower(),
                usd_per_mtok_input=t.usd_per_mtok_input,
                usd_per_mtok_output=t.usd_per_mtok_output,
                cache_write_5m_multiplier=t.cache_write_5m_multiplier,
                cache_write_1h_multiplier=t.cache_write_1h_multiplier,
                cache_read_multiplier=t.cache_read_multiplier,
                batch_discount=t.batch_discount,
                long_context=long_context,
                min_cacheable_tokens=t.min_cacheable_tokens,
                provenance=results.Provenance(
                    source=t.provenance.source, as_of=t.provenance.as_of, note=t.provenance.note
                ),
                derivation=_derivation(t.derivation) if t.HasField("derivation") else None,
            )
        )
    return results.TierTable(tiers=tuple(tiers), table_version=message.table_version)


def policy_info(
    message: admin_pb2.GetPolicyResponse | admin_pb2.ReloadPolicyResponse,
) -> results.PolicyInfo:
    if isinstance(message, admin_pb2.ReloadPolicyResponse):
        return results.PolicyInfo(
            policy_version=message.policy_version,
            policy_toml="",
            previous_policy_version=message.previous_policy_version,
        )
    return results.PolicyInfo(
        policy_version=message.policy_version, policy_toml=message.policy_toml
    )
