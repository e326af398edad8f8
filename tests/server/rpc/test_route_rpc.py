"""Route / RouteBatch through the SDK against a real server on port 0 (tiny model)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from tierwise.sdk import AsyncTierwiseClient, InvalidArgumentError, TierwiseClient
from tierwise.server.rpc.app import TierwiseServer

EASY = "what is 2 + 2"
HARD = "prove the riemann hypothesis about the eigenvalue of the manifold"


def test_easy_query_goes_to_the_cheapest_tier_meeting_target(client: TierwiseClient) -> None:
    decision = client.route(EASY)
    assert decision.tier == "self-hosted"
    assert decision.reason_code == "CHEAPEST_MEETING_TARGET"
    assert not decision.fail_open
    assert {e.tier for e in decision.estimates} == {"self-hosted", "haiku", "sonnet", "opus"}
    chosen = decision.estimate("self-hosted")
    assert chosen.p_success >= decision.quality_target == pytest.approx(0.8)
    assert chosen.quoted_usd > 0
    assert decision.router_version == "tiny-test-router"
    assert decision.policy_version == "test-policy-1"
    assert decision.table_version


def test_hard_query_escalates_to_most_capable_when_none_meets_target(
    client: TierwiseClient,
) -> None:
    decision = client.route(HARD)
    assert decision.difficulty > client.route(EASY).difficulty
    assert decision.tier == "opus"
    assert decision.reason_code == "NONE_MEETS_TARGET"
    assert "no allowed tier meets target" in decision.reason


def test_allowed_tiers_and_quality_target(client: TierwiseClient) -> None:
    decision = client.route(EASY, allowed_tiers=["haiku", "sonnet"])
    assert decision.tier == "haiku"
    assert not decision.estimate("self-hosted").allowed
    relaxed = client.route(HARD, quality_target=0.05)
    assert relaxed.tier == "self-hosted"
    assert relaxed.quality_target == pytest.approx(0.05)


def test_max_cost_limits_the_choice(client: TierwiseClient) -> None:
    unlimited = client.route(HARD, quality_target=0.3)
    assert unlimited.tier == "sonnet"  # opus and sonnet meet 0.3; sonnet is cheaper
    cheapest = min(e.quoted_usd for e in unlimited.estimates)
    decision = client.route(HARD, quality_target=0.3, max_cost_usd=cheapest * 1.0001)
    assert decision.reason_code == "BUDGET_LIMITED"
    assert decision.tier == "self-hosted"
    assert not decision.estimate("sonnet").within_budget
    assert "max_cost_usd" in decision.reason


def test_out_of_distribution_query_escalates_one_tier(client: TierwiseClient) -> None:
    decision = client.route("zorblax quibble frobnicate")
    assert decision.out_of_distribution
    assert decision.escalated
    assert decision.tier == "haiku"
    assert "far from the training distribution" in decision.reason


def test_long_query_is_truncated_but_counted_in_full(client: TierwiseClient) -> None:
    long_query = "what is 2 + 2 " * 40_000  # ~560 KB
    decision = client.route(long_query)
    assert decision.truncated
    assert decision.input_tokens > 100_000
    assert "truncated" in decision.reason


def test_given_token_counts_drive_the_quote(client: TierwiseClient) -> None:
    decision = client.route(EASY, input_tokens=1_000_000, output_tokens=0)
    haiku = decision.estimate("haiku")
    assert decision.input_tokens == 1_000_000
    assert haiku.quoted_usd == pytest.approx(1.0)  # $1 per million input tokens


def test_chat_messages_route_on_the_last_user_turn(client: TierwiseClient) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": HARD},
        {"role": "assistant", "content": "Here is a sketch..."},
        {"role": "user", "content": EASY},
    ]
    decision = client.route(messages)
    assert decision.difficulty < client.route(HARD).difficulty


@pytest.mark.parametrize(
    ("query", "options", "field"),
    [
        ("", {}, "query"),
        ("   \n\t ", {}, "query"),
        (EASY, {"allowed_tiers": ["gpt-9"]}, "allowed_tiers"),
        (EASY, {"quality_target": 1.5}, "quality_target"),
        (EASY, {"max_cost_usd": -1.0}, "max_cost_usd"),
        (EASY, {"input_tokens": -5}, "input_tokens"),
        ([{"role": "robot", "content": "hi"}], {}, "role"),
        ([{"role": "assistant", "content": "hi"}], {}, "user turn"),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(
    client: TierwiseClient, query: object, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        client.route(query, **options)  # type: ignore[arg-type]
    assert field in raised.value.message
    assert raised.value.code is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "query",
    [
        "こんにちは、元気ですか",
        "Привет, как дела?",
        "🚀🔥💯 emoji only",
        "```python\nprint(1)\n```",
    ],
)
def test_any_script_gets_a_valid_decision(client: TierwiseClient, query: str) -> None:
    decision = client.route(query)
    assert decision.tier in {"self-hosted", "haiku", "sonnet", "opus"}


def test_invalid_utf8_on_the_wire_is_invalid_argument(tiny_server: TierwiseServer) -> None:
    # Field 1 (query), wire type 2, length 2, bytes that are not UTF-8.
    payload = b"\x0a\x02\xff\xfe"
    with grpc.insecure_channel(f"127.0.0.1:{tiny_server.port}") as channel:
        call = channel.unary_unary("/tierwise.v1.RouterService/Route")
        with pytest.raises(grpc.RpcError) as raised:
            call(payload, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_route_many_matches_single_routes(client: TierwiseClient) -> None:
    queries = [EASY, HARD, "write a poem about cats"]
    many = client.route_many(queries)
    singles = [client.route(q) for q in queries]
    assert [d.tier for d in many] == [d.tier for d in singles]
    assert [d.difficulty for d in many] == [d.difficulty for d in singles]


def test_async_client_routes(tiny_server: TierwiseServer) -> None:
    async def scenario() -> tuple[str, int]:
        async with AsyncTierwiseClient(f"127.0.0.1:{tiny_server.port}") as aclient:
            decision = await aclient.route(EASY)
            many = await aclient.route_many([EASY, HARD])
            return decision.tier, len(many)

    assert asyncio.run(scenario()) == ("self-hosted", 2)


def test_fail_open_when_unreachable() -> None:
    with TierwiseClient("127.0.0.1:1", fail_open_tier="sonnet") as unreachable:
        decision = unreachable.route(EASY, timeout_s=0.5)
    assert decision.fail_open
    assert decision.tier == "sonnet"
    assert decision.reason_code == "FAIL_OPEN"
    assert decision.estimates == ()


def test_unreachable_without_fail_open_raises() -> None:
    from tierwise.sdk import UnavailableError

    with TierwiseClient("127.0.0.1:1") as unreachable, pytest.raises(UnavailableError):
        unreachable.route(EASY, timeout_s=0.5)


def test_async_fail_open_when_unreachable() -> None:
    async def scenario() -> bool:
        async with AsyncTierwiseClient("127.0.0.1:1", fail_open_tier="haiku") as aclient:
            return (await aclient.route(EASY, timeout_s=0.5)).fail_open

    assert asyncio.run(scenario())


def test_route_many_fails_open_per_query_when_unreachable() -> None:
    with TierwiseClient("127.0.0.1:1", fail_open_tier="opus") as unreachable:
        decisions = unreachable.route_many([EASY, HARD, EASY], timeout_s=0.5)
    assert [(d.tier, d.fail_open) for d in decisions] == [("opus", True)] * 3
