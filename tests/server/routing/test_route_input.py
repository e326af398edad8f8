"""RouteInput.create: the domain input validates itself (no protobuf), and the RPC conversion
gives exactly what create gives."""

from __future__ import annotations

from typing import Any

import pytest

from tierwise.server.errors import InvalidRequestError
from tierwise.server.routing.route_input import ChatMessage
from tierwise.server.routing.router import RouteInput
from tierwise.server.rpc.route_messages import route_input
from tierwise.v1 import router_pb2

TIERS = ("self-hosted", "haiku", "sonnet", "opus")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "query"),
        ({"query": "  "}, "query"),
        ({"query": "q", "chat": (ChatMessage("user", "q"),)}, "query"),
        ({"chat": ()}, "chat.messages"),
        ({"chat": (ChatMessage("robot", "q"),)}, "chat.messages[0].role"),
        ({"chat": (ChatMessage("system", "be brief"),)}, "chat.messages"),
        ({"chat": (ChatMessage("user", " "),)}, "chat.messages[0].content"),
        ({"query": "q", "allowed_tiers": ["gold"]}, "allowed_tiers"),
        ({"query": "q", "quality_target": 1.5}, "quality_target"),
        ({"query": "q", "quality_target": float("nan")}, "quality_target"),
        ({"query": "q", "max_cost_usd": -1.0}, "max_cost_usd"),
        ({"query": "q", "input_tokens": 20_000_000}, "input_tokens"),
        ({"query": "q", "output_tokens": -1}, "output_tokens"),
        ({"query": "q", "cache_read_tokens": -1}, "cache_read_tokens"),
        ({"query": "q", "input_tokens": 5, "cache_read_tokens": 6}, "cache_read_tokens"),
    ],
)
def test_errors_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        RouteInput.create(known_tiers=TIERS, **kwargs)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_valid_input() -> None:
    item = RouteInput.create(
        known_tiers=TIERS,
        chat=(ChatMessage("system", "be brief"), ChatMessage("user", "What is 2+2?")),
        input_tokens=40,
        allowed_tiers=["opus", "haiku", "opus"],
        quality_target=0.0,
        cache_read_tokens=10,
        batch=True,
    )
    assert item.allowed_tiers == ("opus", "haiku")
    assert item.prompt_chars == len("be brief") + len("What is 2+2?")
    assert "What is 2+2?" in item.text
    assert (item.input_tokens, item.cache_read_tokens, item.batch) == (40, 10, True)


@pytest.mark.parametrize(
    "request_",
    [
        router_pb2.RouteRequest(query="What is 2+2?"),
        router_pb2.RouteRequest(
            query="x" * 3000,
            input_tokens=900,
            output_tokens=12,
            quality_target=0.9,
            allowed_tiers=["haiku", "sonnet"],
            max_cost_usd=0.5,
            cache_read_tokens=100,
            batch=True,
        ),
        router_pb2.RouteRequest(
            chat=router_pb2.ChatMessages(
                messages=[
                    router_pb2.ChatMessage(role="user", content="hi"),
                    router_pb2.ChatMessage(role="assistant", content="hello"),
                    router_pb2.ChatMessage(role="user", content="and 2+2?"),
                ]
            )
        ),
    ],
)
def test_rpc_conversion_is_create(request_: router_pb2.RouteRequest) -> None:
    kind = request_.WhichOneof("input")
    direct = RouteInput.create(
        known_tiers=TIERS,
        query=request_.query if kind == "query" else None,
        chat=(
            tuple(ChatMessage(m.role, m.content) for m in request_.chat.messages)
            if kind == "chat"
            else None
        ),
        input_tokens=request_.input_tokens if request_.HasField("input_tokens") else None,
        output_tokens=request_.output_tokens if request_.HasField("output_tokens") else None,
        quality_target=request_.quality_target if request_.HasField("quality_target") else None,
        allowed_tiers=list(request_.allowed_tiers),
        max_cost_usd=request_.max_cost_usd if request_.HasField("max_cost_usd") else None,
        cache_read_tokens=request_.cache_read_tokens,
        batch=request_.batch,
    )
    assert route_input(request_, TIERS) == direct
