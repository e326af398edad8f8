"""RouteRequest → RouteInput (a thin conversion: RouteInput.create validates) and
RouteDecision → RouteResponse."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

from tierwise.server.routing.route_input import ChatMessage
from tierwise.server.routing.router import RouteDecision, RouteInput
from tierwise.v1 import router_pb2

_REASON_CODES: Final = {
    "CHEAPEST_MEETING_TARGET": router_pb2.REASON_CODE_CHEAPEST_MEETING_TARGET,
    "NONE_MEETS_TARGET": router_pb2.REASON_CODE_NONE_MEETS_TARGET,
    "BUDGET_LIMITED": router_pb2.REASON_CODE_BUDGET_LIMITED,
    "TTFT_LIMITED": router_pb2.REASON_CODE_TTFT_LIMITED,
    "LATENCY_LIMITED": router_pb2.REASON_CODE_LATENCY_LIMITED,
    "SPEED_LIMITED": router_pb2.REASON_CODE_SPEED_LIMITED,
    "NONE_MEETS_LATENCY": router_pb2.REASON_CODE_NONE_MEETS_LATENCY,
}


def _optional(request: router_pb2.RouteRequest, field: str) -> Any:
    return getattr(request, field) if request.HasField(field) else None


def route_input(request: router_pb2.RouteRequest, known_tiers: Collection[str]) -> RouteInput:
    """The proto request as the domain input (RouteInput.create validates it)."""
    kind = request.WhichOneof("input")
    return RouteInput.create(
        known_tiers=known_tiers,
        query=request.query if kind == "query" else None,
        chat=(
            tuple(ChatMessage(m.role, m.content) for m in request.chat.messages)
            if kind == "chat"
            else None
        ),
        input_tokens=_optional(request, "input_tokens"),
        output_tokens=_optional(request, "output_tokens"),
        quality_target=_optional(request, "quality_target"),
        allowed_tiers=request.allowed_tiers,
        max_cost_usd=_optional(request, "max_cost_usd"),
        cache_read_tokens=request.cache_read_tokens,
        batch=request.batch,
        max_ttft_ms=_optional(request, "max_ttft_ms"),
        max_latency_ms=_optional(request, "max_latency_ms"),
        min_output_tokens_per_s=_optional(request, "min_output_tokens_per_s"),
        caller=request.caller,
        feature=request.feature,
    )


def route_response(decision: RouteDecision) -> router_pb2.RouteResponse:
    response = router_pb2.RouteResponse(
        tier=decision.tier,
        model=decision.model,
        difficulty=decision.difficulty,
        reason_code=_REASON_CODES[decision.reason_code.value],
        reason=decision.reason,
        escalated=decision.escalated,
        out_of_distribution=decision.out_of_distribution,
        truncated=decision.truncated,
        input_tokens=decision.input_tokens,
        quality_target=decision.quality_target,
        router_version=decision.router_version,
        table_version=decision.table_version,
        policy_version=decision.policy_version,
        encoder=decision.encoder,
    )
    # add() builds each estimate in place; a list of TierEstimate messages would be copied.
    add = response.estimates.add
    for e in decision.estimates:
        message = add(
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
            meets_latency=e.meets_latency,
            latency_source=e.latency_source,
        )
        if e.ttft_ms_p90 is not None:
            message.ttft_ms_p90 = e.ttft_ms_p90
        if e.latency_ms_p90 is not None:
            message.latency_ms_p90 = e.latency_ms_p90
    applied = response.latency_constraints
    applied.SetInParent()
    limits = decision.latency_constraints
    if limits.max_ttft_ms is not None:
        applied.max_ttft_ms = limits.max_ttft_ms
    if limits.max_latency_ms is not None:
        applied.max_latency_ms = limits.max_latency_ms
    if limits.min_output_tokens_per_s is not None:
        applied.min_output_tokens_per_s = limits.min_output_tokens_per_s
    return response
