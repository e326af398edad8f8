"""RouteRequest → RouteInput (validated) and RouteDecision → RouteResponse."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Final

from tierwise.classifier.prompt_view import chat_view
from tierwise.server.errors import InvalidRequestError
from tierwise.server.routing.router import RouteDecision, RouteInput, encoder_text
from tierwise.v1 import router_pb2

CHAT_ROLES: Final = frozenset({"user", "assistant", "system"})
MAX_TOKENS_FIELD: Final = 10_000_000

_REASON_CODES: Final = {
    "CHEAPEST_MEETING_TARGET": router_pb2.REASON_CODE_CHEAPEST_MEETING_TARGET,
    "NONE_MEETS_TARGET": router_pb2.REASON_CODE_NONE_MEETS_TARGET,
    "BUDGET_LIMITED": router_pb2.REASON_CODE_BUDGET_LIMITED,
}


def _chat_prompt(chat: router_pb2.ChatMessages) -> tuple[str, int]:
    """(what the encoder reads of it, total characters of the conversation)."""
    if not chat.messages:
        raise InvalidRequestError("chat.messages", "must not be empty")
    for index, message in enumerate(chat.messages):
        if message.role not in CHAT_ROLES:
            raise InvalidRequestError(
                f"chat.messages[{index}].role",
                f"must be one of {', '.join(sorted(CHAT_ROLES))} (got {message.role!r})",
            )
    user_turns = [i for i, m in enumerate(chat.messages) if m.role == "user"]
    if not user_turns:
        raise InvalidRequestError("chat.messages", "needs at least one user turn")
    last = user_turns[-1]
    question = chat.messages[last].content
    if not question.strip():
        raise InvalidRequestError(f"chat.messages[{last}].content", "must not be empty")
    view = chat_view(question, [m.content for m in chat.messages[:last]])
    return view.text, sum(len(m.content) for m in chat.messages)


def _tokens(request: router_pb2.RouteRequest, field: str) -> int | None:
    if not request.HasField(field):
        return None
    value: int = getattr(request, field)
    if not 0 <= value <= MAX_TOKENS_FIELD:
        raise InvalidRequestError(field, f"must be between 0 and {MAX_TOKENS_FIELD} (got {value})")
    return value


def route_input(request: router_pb2.RouteRequest, known_tiers: Collection[str]) -> RouteInput:
    kind = request.WhichOneof("input")
    if kind == "query":
        if not request.query.strip():
            raise InvalidRequestError("query", "must not be empty or whitespace only")
        prompt, prompt_chars = encoder_text(request.query), len(request.query)
    elif kind == "chat":
        prompt, prompt_chars = _chat_prompt(request.chat)
    else:
        raise InvalidRequestError("query", "required: give a query or chat messages")
    unknown = [t for t in request.allowed_tiers if t not in known_tiers]
    if unknown:
        raise InvalidRequestError(
            "allowed_tiers",
            f"unknown tier(s) {', '.join(map(repr, unknown))}; known: {', '.join(known_tiers)}",
        )
    quality_target = None
    if request.HasField("quality_target"):
        quality_target = request.quality_target
        if not (math.isfinite(quality_target) and 0.0 <= quality_target <= 1.0):
            raise InvalidRequestError("quality_target", f"must be in [0, 1] (got {quality_target})")
    max_cost = None
    if request.HasField("max_cost_usd"):
        max_cost = request.max_cost_usd
        if not (math.isfinite(max_cost) and max_cost >= 0.0):
            raise InvalidRequestError("max_cost_usd", f"must be >= 0 (got {max_cost})")
    input_tokens = _tokens(request, "input_tokens")
    if not 0 <= request.cache_read_tokens <= MAX_TOKENS_FIELD:
        raise InvalidRequestError(
            "cache_read_tokens", f"must be >= 0 (got {request.cache_read_tokens})"
        )
    if input_tokens is not None and request.cache_read_tokens > input_tokens:
        raise InvalidRequestError("cache_read_tokens", "must not exceed input_tokens")
    return RouteInput(
        text=prompt,
        prompt_chars=prompt_chars,
        input_tokens=input_tokens,
        output_tokens=_tokens(request, "output_tokens"),
        quality_target=quality_target,
        allowed_tiers=tuple(dict.fromkeys(request.allowed_tiers)),
        max_cost_usd=max_cost,
        cache_read_tokens=request.cache_read_tokens,
        batch=request.batch,
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
        add(
            tier=e.tier,
            model=e.model,
            p_success=e.p_success,
            predicted_output_tokens=e.predicted_output_tokens,
            quoted_usd=e.quoted_usd,
            allowed=e.allowed,
            meets_target=e.meets_target,
            within_budget=e.within_budget,
        )
    return response
