"""The strategy, plan and decision id of a RouteResponse (added after the decision itself,
which the decision cache may reuse: each response still gets its own id)."""

from __future__ import annotations

from typing import Final

from tierwise.server.outcomes.recorder import OutcomeRecorder
from tierwise.server.routing.cascade_policy import Strategy
from tierwise.server.routing.plan import Plan, build_plan
from tierwise.server.routing.policy import Policy
from tierwise.server.routing.router import RouteDecision, RouteInput
from tierwise.v1 import router_pb2

_STRATEGY_OF: Final[dict[router_pb2.RoutingStrategy, Strategy]] = {
    router_pb2.ROUTING_STRATEGY_CLASSIFIER: "classifier",
    router_pb2.ROUTING_STRATEGY_CASCADE: "cascade",
    router_pb2.ROUTING_STRATEGY_HYBRID: "hybrid",
}
_MESSAGE_OF: Final = {name: value for value, name in _STRATEGY_OF.items()}


def strategy(request: router_pb2.RouteRequest, policy: Policy) -> Strategy:
    """The request's strategy, or the policy's default when unset (unknown values too: a
    newer client's strategy this server does not know falls back to the default)."""
    return _STRATEGY_OF.get(request.strategy, policy.cascade.default_strategy)


def _describe(plan: Plan) -> str:
    steps = [
        f"{s.tier} (accept score >= {s.accept_threshold:.2f})" if s.accept_threshold > 0 else s.tier
        for s in plan.steps
    ]
    return (
        f"{plan.strategy} plan: {' -> '.join(steps)}; expected ${plan.expected_cost_usd:.6f}, "
        f"quality {plan.expected_quality:.2f}"
    )


def _plan_message(plan: Plan) -> router_pb2.RoutePlan:
    message = router_pb2.RoutePlan(
        strategy=_MESSAGE_OF[plan.strategy],
        expected_cost_usd=plan.expected_cost_usd,
        expected_quality=plan.expected_quality,
        expected_latency_ms=plan.expected_latency_ms,
    )
    add = message.steps.add
    for step in plan.steps:
        add(
            tier=step.tier,
            model=step.model,
            accept_threshold=step.accept_threshold,
            p_reached=step.p_reached,
            quoted_usd=step.quoted_usd,
            latency_ms=step.latency_ms,
        )
    return message


def apply(
    response: router_pb2.RouteResponse,
    request: router_pb2.RouteRequest,
    item: RouteInput,
    decision: RouteDecision,
    policy: Policy,
    recorder: OutcomeRecorder | None,
) -> None:
    """Fill strategy, plan (cascade/hybrid) and decision_id into ``response``."""
    chosen = strategy(request, policy)
    response.strategy = _MESSAGE_OF[chosen]
    plan_tiers: tuple[str, ...] = ()
    if chosen != "classifier":
        plan = build_plan(decision, policy, chosen, item.max_cost_usd)
        response.plan.CopyFrom(_plan_message(plan))
        first = plan.steps[0]
        response.tier, response.model = first.tier, first.model
        response.reason_code = router_pb2.REASON_CODE_PLAN
        response.reason = f"{_describe(plan)}; router: {decision.reason}"
        plan_tiers = tuple(s.tier for s in plan.steps)
    if recorder is not None:
        response.decision_id = recorder.issue(
            strategy=chosen,
            tier=response.tier,
            plan_tiers=plan_tiers,
            policy_version=decision.policy_version,
            input_tokens=decision.input_tokens,
            caller=request.caller,
            feature=request.feature,
            query_text=request.query if request.WhichOneof("input") == "query" else item.text,
        )
