"""The routing decision: predictions + quotes + policy → the tier to use, and why."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tierwise.classifier.prompt_view import text_view
from tierwise.classifier.runtime import RouterModel, RouterOutputs
from tierwise.cost_tables.quote import RequestUsage, quote_request
from tierwise.cost_tables.tables import TierTable
from tierwise.server.errors import InvalidRequestError
from tierwise.server.routing import route_input
from tierwise.server.routing.latency import LatencyHolder, LatencyModel, TierLatency
from tierwise.server.routing.latency_constraints import (
    NO_CONSTRAINTS,
    LatencyConstraints,
    check_request_value,
)
from tierwise.server.routing.policy import Policy, PolicyHolder
from tierwise.server.routing.route_input import ChatMessage

# Predicted output lengths are clipped to a plausible range before quoting.
MIN_OUTPUT_TOKENS: Final = 1
MAX_OUTPUT_TOKENS: Final = 32_000


class ReasonCode(Enum):
    CHEAPEST_MEETING_TARGET = "CHEAPEST_MEETING_TARGET"
    NONE_MEETS_TARGET = "NONE_MEETS_TARGET"
    BUDGET_LIMITED = "BUDGET_LIMITED"
    TTFT_LIMITED = "TTFT_LIMITED"
    LATENCY_LIMITED = "LATENCY_LIMITED"
    SPEED_LIMITED = "SPEED_LIMITED"
    NONE_MEETS_LATENCY = "NONE_MEETS_LATENCY"


# The code naming the constraint that moved a decision off the tier it would have chosen.
_BOUND_BY: Final = {
    "max_ttft_ms": ReasonCode.TTFT_LIMITED,
    "max_latency_ms": ReasonCode.LATENCY_LIMITED,
    "min_output_tokens_per_s": ReasonCode.SPEED_LIMITED,
}


@dataclass(frozen=True)
class RouteInput:
    """A validated routing request. `text` is what the encoder sees; `prompt_chars` the
    length of the whole prompt (for token estimates)."""

    text: str
    prompt_chars: int
    input_tokens: int | None = None
    output_tokens: int | None = None
    quality_target: float | None = None
    allowed_tiers: tuple[str, ...] = ()
    max_cost_usd: float | None = None
    cache_read_tokens: int = 0
    batch: bool = False
    # The request's own SLOs; the policy's [latency] rules fill what is unset (by caller and
    # feature, which is why they are part of the input).
    latency: LatencyConstraints = NO_CONSTRAINTS
    caller: str = ""
    feature: str = ""

    @classmethod
    def create(
        cls,
        *,
        known_tiers: Collection[str],
        query: str | None = None,
        chat: Sequence[ChatMessage] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        quality_target: float | None = None,
        allowed_tiers: Iterable[str] = (),
        max_cost_usd: float | None = None,
        cache_read_tokens: int = 0,
        batch: bool = False,
        max_ttft_ms: float | None = None,
        max_latency_ms: float | None = None,
        min_output_tokens_per_s: float | None = None,
        caller: str = "",
        feature: str = "",
    ) -> RouteInput:
        """A validated input from a query or a chat (exactly one); InvalidRequestError names
        the field at fault (checked in this order, the first fault wins)."""
        text, prompt_chars = route_input.prompt_of(query, chat)
        allowed = route_input.tiers_of(allowed_tiers, known_tiers)
        target = route_input.probability("quality_target", quality_target)
        max_cost = route_input.usd("max_cost_usd", max_cost_usd)
        given_input = route_input.tokens("input_tokens", input_tokens)
        if not 0 <= cache_read_tokens <= route_input.MAX_TOKENS_FIELD:
            raise InvalidRequestError(
                "cache_read_tokens", f"must be >= 0 (got {cache_read_tokens})"
            )
        if given_input is not None and cache_read_tokens > given_input:
            raise InvalidRequestError("cache_read_tokens", "must not exceed input_tokens")
        return cls(
            text=text,
            prompt_chars=prompt_chars,
            input_tokens=given_input,
            output_tokens=route_input.tokens("output_tokens", output_tokens),
            quality_target=target,
            allowed_tiers=allowed,
            max_cost_usd=max_cost,
            cache_read_tokens=cache_read_tokens,
            batch=batch,
            latency=LatencyConstraints(
                max_ttft_ms=check_request_value("max_ttft_ms", max_ttft_ms),
                max_latency_ms=check_request_value("max_latency_ms", max_latency_ms),
                min_output_tokens_per_s=check_request_value(
                    "min_output_tokens_per_s", min_output_tokens_per_s
                ),
            ),
            caller=caller,
            feature=feature,
        )


@dataclass(frozen=True)
class TierEstimate:
    tier: str
    model: str
    p_success: float
    predicted_output_tokens: int
    quoted_usd: float
    allowed: bool
    meets_target: bool
    within_budget: bool
    # Medians for this request's output length (0 when latency_source says "unknown").
    ttft_ms: float = 0.0
    output_tokens_per_s: float = 0.0
    latency_ms: float = 0.0
    ttft_ms_p90: float | None = None
    latency_ms_p90: float | None = None
    meets_latency: bool = True
    latency_source: str = ""
    # The constraints this tier misses (empty when it meets them all).
    latency_failures: tuple[str, ...] = ()
    # False when no source has figures for the tier (the latency fields are then 0).
    latency_known: bool = True


@dataclass(frozen=True)
class RouteDecision:
    tier: str
    model: str
    difficulty: float
    estimates: tuple[TierEstimate, ...]
    reason_code: ReasonCode
    reason: str
    escalated: bool
    out_of_distribution: bool
    truncated: bool
    input_tokens: int
    quality_target: float
    router_version: str
    table_version: str
    policy_version: str
    encoder: str
    latency_constraints: LatencyConstraints = NO_CONSTRAINTS
    latency_version: str = ""


@dataclass(frozen=True)
class Prediction:
    """One row of the model's outputs."""

    difficulty: float
    log_output_tokens: float
    centroid_similarity: float
    n_tokens: int
    truncated: bool
    # The model's row as is: converted only when a re-fitted head needs it.
    embedding: npt.NDArray[np.float32]
    skills: tuple[float, ...]  # the query's skill profile

    @staticmethod
    def rows(outputs: RouterOutputs) -> list[Prediction]:
        return [
            Prediction(
                difficulty=float(outputs.difficulty[i]),
                log_output_tokens=float(outputs.log_output_tokens[i]),
                centroid_similarity=float(outputs.centroid_similarity[i]),
                n_tokens=int(outputs.n_tokens[i]),
                truncated=bool(outputs.truncated[i]),
                embedding=outputs.embedding[i],
                skills=tuple(outputs.skills[i].tolist()),
            )
            for i in range(len(outputs.difficulty))
        ]


def encoder_text(prompt: str) -> str:
    """What the encoder reads of a single prompt (head + tail of a long one)."""
    return text_view(prompt).text


def estimate_input_tokens(item: RouteInput, prediction: Prediction) -> int:
    """Tokens of the whole prompt: counted on what the encoder saw, extrapolated by length."""
    if item.input_tokens is not None:
        return item.input_tokens
    seen_chars = max(1, len(item.text))
    estimate = math.ceil(prediction.n_tokens * item.prompt_chars / seen_chars)
    return max(estimate, item.cache_read_tokens, 1)


class Router:
    """Routes queries with one model, one cost table and the active policy."""

    def __init__(
        self,
        model: RouterModel,
        table: TierTable,
        policies: PolicyHolder,
        latency: LatencyHolder | None = None,
    ) -> None:
        self.model = model
        self.table = table
        self.policies = policies
        # None: the published figures and the hardware model, no telemetry.
        self.latency = latency if latency is not None else LatencyHolder(table)

    @property
    def router_version(self) -> str:
        return self.model.manifest.router_version

    def route(self, item: RouteInput) -> RouteDecision:
        return self.route_many([item])[0]

    def route_many(self, items: Sequence[RouteInput]) -> list[RouteDecision]:
        if not items:
            return []
        # One query per model call: int8 dynamic quantisation scales activations over the
        # whole input tensor, so batching would make a query's numbers depend on its
        # neighbours. Route, RouteBatch and `tierwise score` must agree exactly.
        policy = self.policies.current
        latency = self.latency.current
        decisions = []
        for item in items:
            prediction = Prediction.rows(self.model.predict([item.text]))[0]
            decisions.append(self.decide(item, prediction, policy, latency))
        return decisions

    def decide(
        self,
        item: RouteInput,
        prediction: Prediction,
        policy: Policy,
        latency: LatencyModel | None = None,
    ) -> RouteDecision:
        """The decision for one request (``latency`` None: the active latency figures)."""
        if latency is None:
            latency = self.latency.current
        if policy.head is not None:
            # A head re-fitted on the user's own labels replaces the shipped one.
            prediction = dataclasses.replace(
                prediction, difficulty=policy.head.difficulty(prediction.embedding)
            )
        target = policy.quality_target if item.quality_target is None else item.quality_target
        allowed = set(item.allowed_tiers) if item.allowed_tiers else set(self.table.ids())
        input_tokens = estimate_input_tokens(item, prediction)
        constraints = policy.latency.resolve(item.latency, item.caller, item.feature)
        estimates = [
            self._estimate(
                tier_id,
                item,
                prediction,
                policy,
                input_tokens,
                target,
                allowed,
                latency.of(tier_id),
                constraints,
            )
            for tier_id in self.table.ids()
        ]
        truncated = prediction.truncated or item.prompt_chars > len(item.text)
        threshold = policy.min_centroid_similarity
        if threshold is None:
            threshold = self.model.ood_threshold
        ood = prediction.centroid_similarity < threshold
        chosen, code, reason, usable = _choose_within_latency(
            estimates, policy, target, item.max_cost_usd, constraints
        )
        escalated = False
        escalate_why = _escalation_cause(
            ood and policy.escalate_out_of_distribution, truncated and policy.escalate_truncated
        )
        if escalate_why:
            chosen, escalated, reason = _escalate(chosen, usable, policy, reason, escalate_why)
            chosen = next(e for e in estimates if e.tier == chosen.tier)
        elif truncated:
            reason += "; the query was truncated for the encoder (cost counts every token)"
        return RouteDecision(
            tier=chosen.tier,
            model=chosen.model,
            difficulty=prediction.difficulty,
            estimates=tuple(estimates),
            reason_code=code,
            reason=reason,
            escalated=escalated,
            out_of_distribution=ood,
            truncated=truncated,
            input_tokens=input_tokens,
            quality_target=target,
            router_version=self.router_version,
            table_version=self.table.version,
            policy_version=policy.version,
            encoder=self.model.encoder,
            latency_constraints=constraints,
            latency_version=latency.version,
        )

    def _estimate(
        self,
        tier_id: str,
        item: RouteInput,
        prediction: Prediction,
        policy: Policy,
        input_tokens: int,
        target: float,
        allowed: set[str],
        tier_latency: TierLatency,
        constraints: LatencyConstraints,
    ) -> TierEstimate:
        tier = self.table.get(tier_id)
        predicted = math.exp(prediction.log_output_tokens)
        predicted *= policy.tiers[tier_id].output_tokens_multiplier
        predicted_tokens = int(min(MAX_OUTPUT_TOKENS, max(MIN_OUTPUT_TOKENS, round(predicted))))
        output_tokens = predicted_tokens if item.output_tokens is None else item.output_tokens
        quote = quote_request(
            tier,
            RequestUsage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cache_read_tokens=item.cache_read_tokens,
                batch=item.batch,
            ),
        )
        p_success = policy.p_success(tier_id, prediction.difficulty, prediction.skills)
        return TierEstimate(
            tier=tier_id,
            model=tier.model,
            p_success=p_success,
            predicted_output_tokens=predicted_tokens,
            quoted_usd=quote.total_usd,
            allowed=tier_id in allowed,
            meets_target=p_success >= target,
            within_budget=item.max_cost_usd is None or quote.total_usd <= item.max_cost_usd,
            **_latency_fields(tier_latency, output_tokens, constraints),
        )


def _latency_fields(
    tier_latency: TierLatency, output_tokens: int, constraints: LatencyConstraints
) -> dict[str, Any]:
    """TierEstimate's latency fields for an answer of ``output_tokens`` (the length quoted)."""
    figures = tier_latency.figures
    if figures is None:
        # Nothing known: the tier cannot be promised to meet any constraint.
        failures = tuple(
            name
            for name in ("max_ttft_ms", "max_latency_ms", "min_output_tokens_per_s")
            if getattr(constraints, name) is not None
        )
        return {
            "meets_latency": not failures,
            "latency_failures": failures,
            "latency_source": tier_latency.source,
            "latency_known": False,
        }
    latency_ms = figures.latency_ms(output_tokens)
    failures = tuple(
        constraints.failures(figures.ttft_ms_p50, latency_ms, figures.output_tokens_per_s_p50)
    )
    return {
        "ttft_ms": figures.ttft_ms_p50,
        "output_tokens_per_s": figures.output_tokens_per_s_p50,
        "latency_ms": latency_ms,
        "ttft_ms_p90": figures.ttft_ms_p90,
        "latency_ms_p90": figures.latency_ms_p90(output_tokens),
        "meets_latency": not failures,
        "latency_source": tier_latency.source,
        "latency_failures": failures,
    }


def _describe(estimate: TierEstimate) -> str:
    return f"{estimate.tier} P(success) {estimate.p_success:.2f} at ${estimate.quoted_usd:.6f}"


def _describe_latency(estimate: TierEstimate) -> str:
    if not estimate.latency_known:
        return f"{estimate.tier} latency unknown"
    return (
        f"{estimate.tier} TTFT {estimate.ttft_ms:.0f} ms, {estimate.output_tokens_per_s:.0f} "
        f"tokens/s, {estimate.latency_ms:.0f} ms to the last token"
    )


def _shortfall(estimate: TierEstimate, constraints: LatencyConstraints) -> float:
    if not estimate.latency_known:
        return math.inf
    return constraints.shortfall(
        estimate.ttft_ms, estimate.latency_ms, estimate.output_tokens_per_s
    )


def _choose_within_latency(
    estimates: list[TierEstimate],
    policy: Policy,
    target: float,
    max_cost_usd: float | None,
    constraints: LatencyConstraints,
) -> tuple[TierEstimate, ReasonCode, str, list[TierEstimate]]:
    """(chosen, code, reason, the estimates escalation may pick from): the quality/budget
    rule among the allowed tiers that meet the latency constraints."""
    unconstrained = _choose(estimates, policy, target, max_cost_usd)
    if not constraints.any():
        return (*unconstrained, estimates)
    allowed = [e for e in estimates if e.allowed]
    if not any(e.meets_latency for e in allowed):
        fastest = min(allowed, key=lambda e: (_shortfall(e, constraints), e.quoted_usd))
        reason = (
            f"no allowed tier meets {constraints.describe()}; using the fastest allowed: "
            f"{_describe_latency(fastest)} ({_describe(fastest)})"
        )
        return fastest, ReasonCode.NONE_MEETS_LATENCY, reason, estimates
    # Tiers missing an SLO are treated as not allowed; the quality and budget rule is the same.
    usable = [dataclasses.replace(e, allowed=e.allowed and e.meets_latency) for e in estimates]
    picked, code, reason = _choose(usable, policy, target, max_cost_usd)
    chosen = next(e for e in estimates if e.tier == picked.tier)
    would_be = unconstrained[0]
    if would_be.tier == chosen.tier or not would_be.latency_failures:
        return chosen, code, f"{reason}; meets {constraints.describe()}", usable
    bound = would_be.latency_failures[0]
    reason = (
        f"{would_be.tier} misses {bound} {getattr(constraints, bound):g} "
        f"({_describe_latency(would_be)}); among tiers meeting {constraints.describe()}: "
        f"{reason}; chosen: {_describe_latency(chosen)}"
    )
    return chosen, _BOUND_BY[bound], reason, usable


def _choose(
    estimates: list[TierEstimate], policy: Policy, target: float, max_cost_usd: float | None
) -> tuple[TierEstimate, ReasonCode, str]:
    allowed = [e for e in estimates if e.allowed]
    affordable = [e for e in allowed if e.within_budget]
    cheapest_first = sorted(affordable, key=lambda e: (e.quoted_usd, policy.tiers[e.tier].ability))
    meeting = [e for e in cheapest_first if e.meets_target]
    if meeting:
        chosen = meeting[0]
        cheaper = [e for e in cheapest_first if e.quoted_usd < chosen.quoted_usd]
        reason = f"cheapest allowed tier meeting target {target:.2f}: {_describe(chosen)}"
        if cheaper:
            reason += "; cheaper tiers fall short: " + ", ".join(_describe(e) for e in cheaper)
        return chosen, ReasonCode.CHEAPEST_MEETING_TARGET, reason
    if not affordable:
        chosen = min(allowed, key=lambda e: e.quoted_usd)
        reason = (
            f"no allowed tier fits max_cost_usd {max_cost_usd}; using the cheapest: "
            f"{_describe(chosen)}"
        )
        return chosen, ReasonCode.BUDGET_LIMITED, reason
    most_capable = max(affordable, key=lambda e: policy.tiers[e.tier].ability)
    over_budget = [e for e in allowed if e.meets_target and not e.within_budget]
    if over_budget:
        reason = (
            f"only tiers over max_cost_usd {max_cost_usd} meet target {target:.2f} "
            f"({', '.join(e.tier for e in over_budget)}); using the most capable within budget: "
            f"{_describe(most_capable)}"
        )
        return most_capable, ReasonCode.BUDGET_LIMITED, reason
    reason = (
        f"no allowed tier meets target {target:.2f}; using the most capable allowed: "
        f"{_describe(most_capable)}"
    )
    return most_capable, ReasonCode.NONE_MEETS_TARGET, reason


def _escalation_cause(out_of_distribution: bool, long_input: bool) -> str:
    causes = []
    if out_of_distribution:
        causes.append("the query is far from the training distribution")
    if long_input:
        causes.append("the query was truncated for the encoder")
    return " and ".join(causes)


def _escalate(
    chosen: TierEstimate,
    estimates: list[TierEstimate],
    policy: Policy,
    reason: str,
    cause: str,
) -> tuple[TierEstimate, bool, str]:
    """One tier up the ability scale, among allowed tiers within budget."""
    candidates = [e for e in estimates if e.allowed and e.within_budget]
    ordered = policy.by_ability(e.tier for e in candidates)
    by_id = {e.tier: e for e in candidates}
    position = ordered.index(chosen.tier) if chosen.tier in ordered else len(ordered) - 1
    if position + 1 < len(ordered):
        upgraded = by_id[ordered[position + 1]]
        return upgraded, True, f"{reason}; escalated one tier to {upgraded.tier}: {cause}"
    return chosen, False, f"{reason}; {cause}, but no more capable tier is allowed"
