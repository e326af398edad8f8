"""The prompt of a routing request, from a query or a chat, validated (no protobuf here:
the RPC layer, `tierwise score` and replay all build their input through RouteInput.create)."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from tierwise.classifier.prompt_view import chat_view, text_view
from tierwise.server.errors import InvalidRequestError

CHAT_ROLES: Final = frozenset({"user", "assistant", "system"})
MAX_TOKENS_FIELD: Final = 10_000_000


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


def prompt_of(query: str | None, chat: Sequence[ChatMessage] | None) -> tuple[str, int]:
    """(what the encoder reads, characters of the whole prompt) of a query or a chat."""
    if query is not None and chat is not None:
        raise InvalidRequestError("query", "give a query or chat messages, not both")
    if query is not None:
        if not query.strip():
            raise InvalidRequestError("query", "must not be empty or whitespace only")
        return text_view(query).text, len(query)
    if chat is not None:
        return _chat_prompt(chat)
    raise InvalidRequestError("query", "required: give a query or chat messages")


def _chat_prompt(messages: Sequence[ChatMessage]) -> tuple[str, int]:
    if not messages:
        raise InvalidRequestError("chat.messages", "must not be empty")
    for index, message in enumerate(messages):
        if message.role not in CHAT_ROLES:
            raise InvalidRequestError(
                f"chat.messages[{index}].role",
                f"must be one of {', '.join(sorted(CHAT_ROLES))} (got {message.role!r})",
            )
    user_turns = [i for i, m in enumerate(messages) if m.role == "user"]
    if not user_turns:
        raise InvalidRequestError("chat.messages", "needs at least one user turn")
    last = user_turns[-1]
    question = messages[last].content
    if not question.strip():
        raise InvalidRequestError(f"chat.messages[{last}].content", "must not be empty")
    view = chat_view(question, [m.content for m in messages[:last]])
    return view.text, sum(len(m.content) for m in messages)


def tiers_of(allowed_tiers: Iterable[str], known_tiers: Collection[str]) -> tuple[str, ...]:
    """``allowed_tiers`` without repeats, every one a known tier."""
    allowed = tuple(allowed_tiers)
    unknown = [t for t in allowed if t not in known_tiers]
    if unknown:
        raise InvalidRequestError(
            "allowed_tiers",
            f"unknown tier(s) {', '.join(map(repr, unknown))}; known: {', '.join(known_tiers)}",
        )
    return tuple(dict.fromkeys(allowed))


def probability(field: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRequestError(field, f"must be in [0, 1] (got {value})")
    return value


def usd(field: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0.0):
        raise InvalidRequestError(field, f"must be >= 0 (got {value})")
    return value


def tokens(field: str, value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_TOKENS_FIELD:
        raise InvalidRequestError(field, f"must be between 0 and {MAX_TOKENS_FIELD} (got {value})")
    return value
