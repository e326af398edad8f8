"""Conversions between pricing messages and the cost_tables domain (both directions)."""

from __future__ import annotations

from tierwise.cost_tables.operating_point import OperatingPoint
from tierwise.cost_tables.purchase import DEFAULT_PURCHASE, PurchaseOption
from tierwise.cost_tables.quote import RequestQuote, RequestUsage
from tierwise.cost_tables.tables import TierPricing, TierTable
from tierwise.cost_tables.workload import (
    BreakEven,
    PurchaseComparison,
    TierMonthlyCost,
    TokenDistribution,
    Workload,
    WorkloadQuote,
)
from tierwise.server.errors import InvalidRequestError
from tierwise.v1 import pricing_pb2

_PURCHASE: dict[PurchaseOption, pricing_pb2.PurchaseOption] = {
    "on-demand": pricing_pb2.PURCHASE_OPTION_ON_DEMAND,
    "reserved": pricing_pb2.PURCHASE_OPTION_RESERVED,
    "spot": pricing_pb2.PURCHASE_OPTION_SPOT,
}
_PURCHASE_FROM_WIRE: dict[int, PurchaseOption] = {int(w): o for o, w in _PURCHASE.items()}

_KIND = {
    "api": pricing_pb2.TIER_KIND_API,
    "self-hosted": pricing_pb2.TIER_KIND_SELF_HOSTED,
}


def usage_from_message(message: pricing_pb2.TokenUsage) -> RequestUsage:
    return RequestUsage(
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        cache_read_tokens=message.cache_read_tokens,
        cache_write_5m_tokens=message.cache_write_5m_tokens,
        cache_write_1h_tokens=message.cache_write_1h_tokens,
        batch=message.batch,
    )


def request_quote_message(quote: RequestQuote) -> pricing_pb2.RequestQuote:
    message = pricing_pb2.RequestQuote(
        tier=quote.tier_id,
        model=quote.model,
        input_usd=quote.input_usd,
        cache_write_usd=quote.cache_write_usd,
        cache_read_usd=quote.cache_read_usd,
        output_usd=quote.output_usd,
        subtotal_usd=quote.subtotal_usd,
        batch_discount_usd=quote.batch_discount_usd,
        total_usd=quote.total_usd,
        long_context_pricing=quote.long_context_pricing,
        notes=list(quote.notes),
    )
    if quote.energy_wh is not None:
        message.energy_wh = quote.energy_wh
    return message


def _distribution(field: str, message: pricing_pb2.TokenDistribution) -> TokenDistribution:
    shape = message.WhichOneof("shape")
    if shape == "mean":
        return TokenDistribution.from_mean(message.mean)
    if shape == "histogram":
        return TokenDistribution(
            buckets=tuple((b.tokens, b.weight) for b in message.histogram.buckets)
        )
    raise InvalidRequestError(field, "required: give a mean or a histogram")


def workload_from_message(message: pricing_pb2.Workload) -> Workload:
    optional = {}
    if message.HasField("self_hosted_fixed_usd_per_month"):
        optional["self_hosted_fixed_usd_per_month"] = message.self_hosted_fixed_usd_per_month
    return Workload(
        peak_to_average=(message.peak_to_average if message.HasField("peak_to_average") else None),
        hourly_profile=tuple(message.hourly_profile) or None,
        autoscale=message.autoscale,
        purchase=_purchase_from_message(message.purchase),
        calls_per_month=message.calls_per_month,
        input_tokens=_distribution("workload.input_tokens", message.input_tokens),
        output_tokens=_distribution("workload.output_tokens", message.output_tokens),
        cache_hit_rate=message.cache_hit_rate,
        batch_share=message.batch_share,
        routed_mix=dict(message.routed_mix) or None,
        **optional,
    )


def _purchase_from_message(value: int) -> PurchaseOption:
    if value == pricing_pb2.PURCHASE_OPTION_UNSPECIFIED:
        return DEFAULT_PURCHASE
    if value not in _PURCHASE_FROM_WIRE:
        raise InvalidRequestError("workload.purchase", f"unknown purchase option {value}")
    return _PURCHASE_FROM_WIRE[value]


def monthly_cost_message(cost: TierMonthlyCost) -> pricing_pb2.MonthlyCost:
    message = pricing_pb2.MonthlyCost(
        tier=cost.tier_id,
        model=cost.model,
        monthly_usd=cost.monthly_usd,
        usd_per_call=cost.usd_per_call,
        input_usd=cost.input_usd,
        output_usd=cost.output_usd,
        cache_usd=cost.cache_usd,
        batch_discount_usd=cost.batch_discount_usd,
    )
    if cost.instances is not None:
        message.instances = cost.instances
    if cost.utilisation is not None:
        message.utilisation = cost.utilisation
    if cost.fixed_usd is not None:
        message.fixed_usd = cost.fixed_usd
    if cost.idle_usd is not None:
        message.idle_usd = cost.idle_usd
    if cost.mean_instances is not None:
        message.mean_instances = cost.mean_instances
    if cost.purchase is not None:
        message.purchase = _PURCHASE[cost.purchase]
    return message


def _purchase_comparison_message(row: PurchaseComparison) -> pricing_pb2.PurchaseComparison:
    return pricing_pb2.PurchaseComparison(
        tier=row.tier_id,
        purchase=_PURCHASE[row.purchase],
        usd_per_gpu_hour=row.usd_per_gpu_hour,
        monthly_usd=row.monthly_usd,
        instances=row.instances,
        mean_instances=row.mean_instances,
        utilisation=row.utilisation,
        idle_usd=row.idle_usd,
        autoscaled=row.autoscaled,
    )


def _break_even_message(item: BreakEven) -> pricing_pb2.BreakEven:
    message = pricing_pb2.BreakEven(
        api_tier=item.api_tier_id, self_hosted_tier=item.self_hosted_tier_id
    )
    if item.calls_per_month is not None:
        message.calls_per_month = item.calls_per_month
    if item.monthly_usd_at_break_even is not None:
        message.monthly_usd_at_break_even = item.monthly_usd_at_break_even
    return message


def workload_quote_message(quote: WorkloadQuote) -> pricing_pb2.QuoteWorkloadResponse:
    message = pricing_pb2.QuoteWorkloadResponse(
        tiers=[monthly_cost_message(c) for c in quote.tiers],
        break_even=[_break_even_message(b) for b in quote.break_even],
        table_version=quote.table_version,
        purchase_options=[_purchase_comparison_message(r) for r in quote.purchase_options],
        purchase=_PURCHASE[quote.purchase],
        peak_factor=quote.peak_factor,
    )
    if quote.routed is not None:
        message.routed.CopyFrom(monthly_cost_message(quote.routed))
    return message


def _derivation_message(point: OperatingPoint) -> pricing_pb2.HardwareDerivation:
    estimate = point.estimate
    return pricing_pb2.HardwareDerivation(
        model=estimate.model_id,
        gpu=estimate.gpu_id,
        gpus=estimate.gpus,
        precision=estimate.precision,
        batch=estimate.batch,
        usd_per_gpu_hour=estimate.usd_per_gpu_hour,
        output_tokens_per_s_per_gpu=estimate.output_tokens_per_s_per_gpu,
        input_tokens_per_s_per_gpu=estimate.input_tokens_per_s_per_gpu,
        tokens_per_s_per_user=estimate.tokens_per_s_per_user,
        wh_per_query=estimate.wh_per_query,
        explanation=list(point.explanation()),
        ttft_ms=point.ttft_ms,
        ttft_ms_p90=point.ttft_ms_p90,
        slo_min_tokens_per_s_per_user=point.slo.min_tokens_per_s_per_user,
        slo_max_ttft_ms=point.slo.max_ttft_ms,
        target_load=point.target_load,
        binding=point.binding,
        max_batch=point.max_batch,
    )


def _tier_message(tier: TierPricing) -> pricing_pb2.Tier:
    message = pricing_pb2.Tier(
        id=tier.tier_id,
        model=tier.model,
        display_name=tier.display_name,
        kind=_KIND[tier.kind],
        usd_per_mtok_input=tier.usd_per_mtok_input,
        usd_per_mtok_output=tier.usd_per_mtok_output,
        cache_write_5m_multiplier=tier.cache_write_5m_multiplier,
        cache_write_1h_multiplier=tier.cache_write_1h_multiplier,
        cache_read_multiplier=tier.cache_read_multiplier,
        batch_discount=tier.batch_discount,
        min_cacheable_tokens=tier.min_cacheable_tokens,
        provenance=pricing_pb2.Provenance(
            source=tier.provenance.source, as_of=tier.provenance.as_of, note=tier.provenance.note
        ),
    )
    if tier.long_context is not None:
        message.long_context.CopyFrom(
            pricing_pb2.LongContextRule(
                threshold_input_tokens=tier.long_context.threshold_input_tokens,
                usd_per_mtok_input=tier.long_context.usd_per_mtok_input,
                usd_per_mtok_output=tier.long_context.usd_per_mtok_output,
            )
        )
    if tier.operating_point is not None:
        message.derivation.CopyFrom(_derivation_message(tier.operating_point))
    return message


def tier_table_message(table: TierTable) -> pricing_pb2.ListTiersResponse:
    return pricing_pb2.ListTiersResponse(
        tiers=[_tier_message(t) for t in table.tiers], table_version=table.version
    )
